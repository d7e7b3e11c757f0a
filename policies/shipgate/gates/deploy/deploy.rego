# METADATA
# title: The deploy gate
# description: >-
#   Entrypoint of the deploy gate: data.shipgate.gates.deploy.decision, the
#   decision library evaluated with input.gate "deploy".
package shipgate.gates.deploy

import data.shipgate.lib.decision as common

# decision is evaluated as the deploy gate, whatever input.gate says. The
# engine asks each gate with its own input.gate, which takes the first
# branch: a `with` on input copies the whole input document.
decision := common.decision if input.gate == "deploy"

else := result if result := common.decision with input.gate as "deploy"
