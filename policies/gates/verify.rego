# Package shipgate.gates.verify is the entrypoint of the verify gate:
# data.shipgate.gates.verify.decision.
package shipgate.gates.verify

import data.shipgate.lib.decision as common

# decision is evaluated as the verify gate, whatever input.gate says. The
# engine asks each gate with its own input.gate, which takes the first
# branch: a `with` on input copies the whole input document.
decision := common.decision if input.gate == "verify"

else := result if result := common.decision with input.gate as "verify"
