# Package shipgate.gates.complete is the entrypoint of the complete gate:
# data.shipgate.gates.complete.decision.
package shipgate.gates.complete

import data.shipgate.lib.decision as common

# decision is evaluated as the complete gate, whatever input.gate says.
decision := result if result := common.decision with input.gate as "complete"
