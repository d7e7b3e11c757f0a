# Package shipgate.gates.deploy is the entrypoint of the deploy gate:
# data.shipgate.gates.deploy.decision.
package shipgate.gates.deploy

import data.shipgate.lib.decision as common

# decision is evaluated as the deploy gate, whatever input.gate says.
decision := result if result := common.decision with input.gate as "deploy"
