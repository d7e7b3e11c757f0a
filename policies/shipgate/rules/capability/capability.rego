# Package shipgate.rules.capability: each automation or progressive-delivery
# capability requires metrics, alerts and a human override first.
package shipgate.rules.capability

import data.shipgate.lib

# METADATA
# title: Capabilities have metrics, alerts and a human override
# description: >-
#   Fires when a capability in `services.<service>.capabilities` does not have
#   `metrics`, `alerts` and `human_override` all `true` (one finding per
#   capability, naming what is missing).
# custom:
#   enforcement: hard
#   gates: [deploy, flag]
#   remediation: >-
#     configure metrics, alerts and a human override for the capability, then
#     set them to true in services.<service>.capabilities; or remove the
#     capability
rule["capability.prerequisites"] := lib.metadata(rego.metadata.rule())

# rules is this file's rule metadata as the decision library reads it,
# each entry made from its rule's METADATA annotation (lib.metadata).
rules := rule

prerequisites := ["metrics", "alerts", "human_override"]

findings contains {
	"rule": "capability.prerequisites",
	"message": sprintf("capability %s of %s lacks %s", [name, input.release.service, concat(", ", missing)]),
	"evidence": [],
} if {
	some name, capability in lib.capabilities
	missing := [prerequisite |
		some prerequisite in prerequisites
		not capability[prerequisite] == true
	]
	count(missing) > 0
}
