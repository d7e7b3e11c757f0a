# Package shipgate.rules.rollback checks that rollback is faster than deploy.
package shipgate.rules.rollback

import data.shipgate.lib

rules := {
	"rollback.slower-than-deploy": {
		"title": "Rollback faster than deploy",
		"enforcement": "soft",
		"gates": {"complete"},
		"remediation": "make rollback faster (prefer the emergency rollback: disable the feature flag and restart), and record the improvement; an approver may override meanwhile",
	},
}

# deployed is the latest succeeded Deploy.
deployed := lib.last([deploy |
	some deploy in input.evidence.Deploy
	deploy.data.status == "succeeded"
])

findings contains {
	"rule": "rollback.slower-than-deploy",
	"message": sprintf(
		"%s rollback took %vs, longer than the deploy (%vs)",
		[rollback.data.strategy, rollback.data.durationSeconds, deployed.data.durationSeconds],
	),
	"evidence": [rollback.digest, deployed.digest],
} if {
	some rollback in input.evidence.Rollback
	rollback.data.status == "succeeded"
	rollback.data.durationSeconds > deployed.data.durationSeconds
}
