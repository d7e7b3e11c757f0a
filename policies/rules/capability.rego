# Package shipgate.rules.capability: each automation or progressive-delivery
# capability requires metrics, alerts and a human override first.
package shipgate.rules.capability

import data.shipgate.lib

rules := {
	"capability.prerequisites": {
		"title": "Capabilities have metrics, alerts and a human override",
		"enforcement": "hard",
		"gates": {"deploy", "flag"},
		"remediation": "configure metrics, alerts and a human override for the capability, then set them to true in services.<service>.capabilities; or remove the capability",
	},
}

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
