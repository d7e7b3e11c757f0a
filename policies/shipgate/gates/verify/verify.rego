# METADATA
# title: The verify gate
# description: >-
#   Entrypoint of the verify gate: data.shipgate.gates.verify.decision, the
#   decision library evaluated with input.gate "verify".
package shipgate.gates.verify

import data.shipgate.lib.decision as common

# decision is evaluated as the verify gate, whatever input.gate says. The
# engine asks each gate with its own input.gate, which takes the first
# branch: a `with` on input copies the whole input document.
decision := common.decision if input.gate == "verify"

else := result if result := common.decision with input.gate as "verify"
