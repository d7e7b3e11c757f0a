# METADATA
# title: The flag gate
# description: >-
#   Entrypoint of the flag gate: data.shipgate.gates.flag.decision, the
#   decision library evaluated with input.gate "flag".
package shipgate.gates.flag

import data.shipgate.lib.decision as common

# decision is evaluated as the flag gate, whatever input.gate says. The
# engine asks each gate with its own input.gate, which takes the first
# branch: a `with` on input copies the whole input document.
decision := common.decision if input.gate == "flag"

else := result if result := common.decision with input.gate as "flag"
