# METADATA
# title: The complete gate
# description: >-
#   Entrypoint of the complete gate: data.shipgate.gates.complete.decision, the
#   decision library evaluated with input.gate "complete".
package shipgate.gates.complete

import data.shipgate.lib.decision as common

# decision is evaluated as the complete gate, whatever input.gate says. The
# engine asks each gate with its own input.gate, which takes the first
# branch: a `with` on input copies the whole input document.
decision := common.decision if input.gate == "complete"

else := result if result := common.decision with input.gate as "complete"
