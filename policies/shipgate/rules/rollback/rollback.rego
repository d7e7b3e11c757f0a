# Package shipgate.rules.rollback checks that rollback is faster than deploy.
package shipgate.rules.rollback

import data.shipgate.lib

# METADATA
# title: Rollback faster than deploy
# description: >-
#   Fires when a succeeded Rollback, in order, took longer (`durationSeconds`)
#   than shipping the release did: the latest passed Build plus the latest
#   succeeded Deploy (the Deploy alone when there is no passed Build; on a
#   tie, the fastest of each). The release document's fast rollback is "revert
#   code, rebuild, restart"; `shipgate rollback` restores the verified build
#   artifact instead of rebuilding, so it beats the build and the restart it
#   undoes.
# custom:
#   enforcement: soft
#   gates: [complete]
#   remediation: >-
#     make rollback faster (prefer the emergency rollback: disable the feature
#     flag and restart), and record the improvement; an approver may override
#     meanwhile
rule["rollback.slower-than-deploy"] := lib.metadata(rego.metadata.rule())

# rules is this file's rule metadata as the decision library reads it,
# each entry made from its rule's METADATA annotation (lib.metadata).
rules := rule

# deployed is the newest succeeded Deploy; on a tie, the fastest, so the
# rollback is held to the strictest comparison.
deployed := fastest(lib.newest_of(lib.succeeded_deploys))

# built is the newest passed Build, when there is one; on a tie, the fastest.
built := fastest(lib.newest_of(lib.passed_builds))

# fastest(docs) is the document of docs that took the least time (the first
# in digest order among equals); undefined when docs is empty.
fastest(docs) := doc if {
	least := min({other.data.durationSeconds | some other in docs})
	first := lib.digests([other | some other in docs; other.data.durationSeconds == least])[0]
	some doc in docs
	doc.digest == first
}

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
	lib.in_order(rollback.data.startedAt, rollback.data.finishedAt) # else it does not count
	rollback.data.durationSeconds > shipped.seconds
}
