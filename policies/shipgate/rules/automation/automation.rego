# Package shipgate.rules.automation: automated rollback on SLO breach is an
# automation, and each automation requires metrics, alerts and a human
# override first. A watch that would roll back by itself (a Monitoring with
# automation.autoRollback) is allowed only for a service whose capabilities
# declare auto-rollback with all three. `shipgate watch --auto-rollback`
# asks this rule before it starts, and the complete gate judges it again.
package shipgate.rules.automation

import data.shipgate.lib

# METADATA
# title: Automated rollback has metrics, alerts and a human override
# description: >-
#   Fires when a Monitoring has `automation.autoRollback: true` and
#   `services.<service>.capabilities.auto-rollback` is not declared with
#   `metrics`, `alerts` and `human_override` all `true` (the message names
#   what is missing). `shipgate watch --auto-rollback` asks it before watching
#   (watch.md).
# custom:
#   enforcement: hard
#   gates: [complete]
#   remediation: >-
#     configure metrics, alerts and a human override (shipgate hold) for
#     automated rollback, then declare
#     services.<service>.capabilities.auto-rollback: {metrics: true, alerts:
#     true, human_override: true}; or watch without --auto-rollback
rule["automation.auto-rollback"] := lib.metadata(rego.metadata.rule())

# rules is this file's rule metadata as the decision library reads it,
# each entry made from its rule's METADATA annotation (lib.metadata).
rules := rule

# capability is the name services.<service>.capabilities declares it under.
capability := "auto-rollback"

prerequisites := ["metrics", "alerts", "human_override"]

declared := lib.capabilities[capability]

missing := [prerequisite |
	some prerequisite in prerequisites
	not declared[prerequisite] == true
]

lacks := sprintf("does not declare capability %s", [capability]) if {
	not declared
} else := sprintf("declares capability %s without %s", [capability, concat(", ", missing)])

findings contains {
	"rule": "automation.auto-rollback",
	"message": sprintf(
		"automated rollback was asked for (Monitoring from %s), but %s %s: it needs metrics, alerts and a human override",
		[monitoring.data.window.start, input.release.service, lacks],
	),
	"evidence": [monitoring.digest],
} if {
	some monitoring in input.evidence.Monitoring
	monitoring.data.automation.autoRollback == true
	count(missing) > 0
}
