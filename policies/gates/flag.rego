# Package shipgate.gates.flag is the entrypoint of the flag gate:
# data.shipgate.gates.flag.decision.
package shipgate.gates.flag

import data.shipgate.lib.decision as common

# decision is evaluated as the flag gate, whatever input.gate says.
decision := result if result := common.decision with input.gate as "flag"
