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

# built is the latest passed Build, when there is one.
built := lib.last([build |
	some build in input.evidence.Build
	build.data.status == "passed"
])

# The release document's fast rollback is "revert code, rebuild, restart
# PM2", and its deploy is the build and the restart: a rollback must take
# less time than shipping the release took, build included.
shipped := {
	"seconds": built.data.durationSeconds + deployed.data.durationSeconds,
	"how": sprintf("%vs: build %vs + deploy %vs", [
		built.data.durationSeconds + deployed.data.durationSeconds,
		built.data.durationSeconds, deployed.data.durationSeconds,
	]),
	"evidence": [built.digest, deployed.digest],
} if {
	built
} else := {
	"seconds": deployed.data.durationSeconds,
	"how": sprintf("%vs", [deployed.data.durationSeconds]),
	"evidence": [deployed.digest],
}

findings contains {
	"rule": "rollback.slower-than-deploy",
	"message": sprintf(
		"%s rollback took %vs, longer than the deploy (%s)",
		[rollback.data.strategy, rollback.data.durationSeconds, shipped.how],
	),
	"evidence": array.concat([rollback.digest], shipped.evidence),
} if {
	some rollback in input.evidence.Rollback
	rollback.data.status == "succeeded"
	rollback.data.durationSeconds > shipped.seconds
}
