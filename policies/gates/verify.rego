# Package shipgate.gates.verify is the entrypoint of the verify gate:
# data.shipgate.gates.verify.decision.
package shipgate.gates.verify

import data.shipgate.lib.decision as common

# decision is evaluated as the verify gate, whatever input.gate says.
decision := result if result := common.decision with input.gate as "verify"
