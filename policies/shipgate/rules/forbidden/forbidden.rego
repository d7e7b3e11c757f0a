# Package shipgate.rules.forbidden holds the forbidden release actions; any
# of them is a production violation: direct pushes, hot-patching without Git,
# skipping smoke tests, deploying during an incident, deploying without a
# rollback plan.
package shipgate.rules.forbidden

import data.shipgate.lib

# METADATA
# title: No direct push to production
# description: >-
#   Fires when a judged Deploy's `trigger` is not in
#   `deploy.allowed_triggers`; or `source.onMain` is false (the message says
#   whether `source.branch` is a main branch or not).
# custom:
#   enforcement: hard
#   gates: [deploy, verify, complete]
#   remediation: >-
#     merge the change to main and deploy it through the pipeline (`shipgate
#     run deploy`), not from a workstation or a branch
rule["forbidden.direct-push"] := lib.metadata(rego.metadata.rule())

# METADATA
# title: No hot-patching without Git
# description: >-
#   Fires when a judged Deploy (at the deploy gate the request, at verify and
#   complete what ran) has `source.clean: false` (uncommitted changes) or
#   `source.commitKnown: false`; or a newest passed Build (every one of a tie)
#   has `source.clean: false`, or records no `source.clean` (a Build written
#   by hand or before shipgate recorded it counts as not clean: fail closed,
#   no exception); or the newest Deploy's `artifact.tree` (the tree digest of
#   the build output in the checkout when the deploy was requested) differs
#   from that Build's `artifact.tree`, or only one of the two records one.
#   Older Builds and failed Builds do not count: the newest passed Build is
#   the output being deployed.
# custom:
#   enforcement: hard
#   gates: [deploy, verify, complete]
#   remediation: >-
#     commit the change, push it, build it with `shipgate run build` in a
#     clean checkout, and deploy that build output unchanged from a clean
#     working tree
rule["forbidden.hot-patch"] := lib.metadata(rego.metadata.rule())

# METADATA
# title: No deploy during an open SEV-1/SEV-2 incident
# description: >-
#   Fires when the latest IncidentStatus lists a blocking incident (severity
#   in `incidents.blocking_severities`, status in
#   `incidents.blocking_statuses`; `resolved` with `resolvedAt` after now is
#   open), one finding per incident; on the emergency path the incident named
#   by `Plan.emergency.incident` is lifted, others still fire. Also fires when
#   there is no IncidentStatus.
# custom:
#   enforcement: hard
#   gates: [deploy]
#   remediation: >-
#     resolve the incident first, or take the emergency path: a Plan whose
#     emergency names the incident, plus an Approval from someone other than
#     the deployer
rule["forbidden.deploy-during-incident"] := lib.metadata(rego.metadata.rule())

# METADATA
# title: No deploy without a rollback plan
# description: >-
#   Fires when the latest Plan has no `rollbackPlan` (or its `command` is only
#   spaces), or its `previousCommit` is the commit being released.
# custom:
#   enforcement: hard
#   gates: [deploy]
#   remediation: >-
#     record rollbackPlan in the Plan: the previous commit to return to (not
#     the one being released) and the rollback command
rule["forbidden.no-rollback-plan"] := lib.metadata(rego.metadata.rule())

# METADATA
# title: No skipped smoke tests
# description: >-
#   At complete: no Verification tied to the deploy passed every check in
#   `verification.mandatory_checks` (a check passes only if every check of
#   that name in the document passed); fires with no Verification, and when
#   none is tied to the deploy; the message lists what the newest tie did not
#   pass and names the Verifications ignored as too early. At deploy: an
#   `input.violations[]` entry of the service is `open`, names this rule, was
#   not opened by a deploy gate and was opened at or before now (one finding
#   per violation), whatever its due date and on the emergency path too; such
#   a violation is opened by the sweep for a succeeded Deploy that no verify
#   gate allowed within `verification.deadline` (see below), or by a complete
#   gate that denied with this rule.
# custom:
#   enforcement: hard
#   gates: [deploy, complete]
#   remediation: >-
#     run the smoke tests (`shipgate verify`) within verification.deadline of
#     the deploy until every mandatory check passes; roll back if they fail. A
#     deploy of the service waits until a postmortem closes the violation of a
#     deploy that skipped them (`shipgate postmortem add --violation ID FILE`)
rule["forbidden.skipped-smoke-tests"] := lib.metadata(rego.metadata.rule())

# rules is this file's rule metadata as the decision library reads it,
# each entry made from its rule's METADATA annotation (lib.metadata).
rules := rule

# The rules about the deploy judge every Deploy of the newest tie
# (lib.deploys); they do not fire without one (deploy.approved-command does).
# At the verify and complete gates they judge what ran against what the
# deploy gate approved: a deploy that went out by hand or from a dirty tree
# is not verified or completed either.

findings contains lib.about(doc, "forbidden.direct-push", message) if {
	some doc in lib.deploys
	not doc.data.trigger in lib.config.deploy.allowed_triggers
	deploy := doc.data
	message := sprintf(
		"deploy by %s was triggered %q; only %s count as the pipeline",
		[deploy.actor, deploy.trigger, concat(", ", lib.config.deploy.allowed_triggers)],
	)
}

findings contains lib.about(doc, "forbidden.direct-push", off_main(doc.data)) if {
	some doc in lib.deploys
	doc.data.source.onMain == false
}

# off_main(deploy) says why a deploy of a commit that is not on main is a
# direct push: its branch is not a main branch, or it is one the commit is
# not reachable from.
off_main(deploy) := sprintf(
	"commit %s was deployed from branch %q, which is not a main branch (%s), and is not on main",
	[lib.short(input.release.commit), deploy.source.branch, concat(", ", lib.config.deploy.main_branches)],
) if {
	not deploy.source.branch in lib.config.deploy.main_branches
} else := sprintf(
	"commit %s is not reachable from branch %q (source.onMain is false)",
	[lib.short(input.release.commit), deploy.source.branch],
)

findings contains lib.about(doc, "forbidden.hot-patch", message) if {
	some doc in lib.deploys
	doc.data.source.clean == false
	deploy := doc.data
	message := sprintf(
		"the working tree had uncommitted changes when %s deployed commit %s (source.clean is false)",
		[deploy.actor, lib.short(input.release.commit)],
	)
}

findings contains lib.about(doc, "forbidden.hot-patch", message) if {
	some doc in lib.deploys
	doc.data.source.commitKnown == false
	message := sprintf(
		"commit %s is not in the repository %s (source.commitKnown is false)",
		[lib.short(input.release.commit), input.release.repository],
	)
}

# forbidden.hot-patch also covers what is built and what is shipped: the
# newest passed Build (every one of a tie) must have built a clean checkout,
# and the build output the deploy request found must be the one it produced,
# compared by tree digest (data.artifact.tree). A Build that does not record
# source.clean (written by hand, or before shipgate recorded it) counts as
# not clean; a digest on one side only counts as a difference.

built := lib.passed_builds if count(lib.passed_builds) < 2

else := lib.newest_of(lib.passed_builds)

requested := lib.newest_deploys

# A Build's source.clean must be true: false, or anything but a boolean
# (none recorded), fires; build_unclean says which.
findings contains {
	"rule": "forbidden.hot-patch",
	"message": build_unclean(build),
	"evidence": [build.digest],
} if {
	some build in built
	object.get(build.data, ["source", "clean"], null) != true
}

build_unclean(build) := sprintf(
	"the Build %s of commit %s ran in a checkout with uncommitted changes (source.clean is false): it built code that is not in git",
	[lib.short_digest(build.digest), lib.short(input.release.commit)],
) if {
	build.data.source.clean == false
} else := sprintf(
	"the Build %s of commit %s records no source.clean: whether it built committed code is unknown",
	[lib.short_digest(build.digest), lib.short(input.release.commit)],
)

# One body judges the tree digests of each Build and deploy request pair:
# they differ, or only one of the two records one (a missing digest is
# null, which no recorded digest equals); tree_mismatch says which.
findings contains {
	"rule": "forbidden.hot-patch",
	"message": tree_mismatch(build, deploy),
	"evidence": [build.digest, deploy.digest],
} if {
	some build in built
	some deploy in requested
	object.get(build.data, ["artifact", "tree"], null) != object.get(deploy.data, ["artifact", "tree"], null)
}

tree_mismatch(build, deploy) := sprintf(
	"the build output in the checkout (%s, tree %s) is not what the Build %s produced (%s, tree %s): it changed after the build",
	[
		lib.join(deploy.data.artifact.paths), lib.short_digest(deploy.data.artifact.tree), lib.short_digest(build.digest),
		lib.join(object.get(build.data.artifact, "paths", [])), lib.short_digest(build.data.artifact.tree),
	],
) if {
	build.data.artifact.tree
	deploy.data.artifact.tree
} else := sprintf(
	"the Build %s recorded its output (%s, tree %s), but the deploy request records no digest of that build output in the checkout (hash the same paths when deploying: artifacts.paths, or run deploy --artifact): what would be deployed cannot be tied to the build",
	[lib.short_digest(build.digest), lib.join(object.get(build.data.artifact, "paths", [])), lib.short_digest(build.data.artifact.tree)],
) if {
	build.data.artifact.tree
} else := sprintf(
	"the deploy request found build output %s (tree %s), but the Build %s records no digest of its output: what would be deployed cannot be tied to the build",
	[lib.join(deploy.data.artifact.paths), lib.short_digest(deploy.data.artifact.tree), lib.short_digest(build.digest)],
)

# Only the newest IncidentStatus counts: it is the current list. Each one of
# a tie is judged.
findings contains {
	"rule": "forbidden.deploy-during-incident",
	"message": sprintf(
		"%s %s incident %s (opened %s, source %s)%s",
		[
			lib.incident_status(incident), incident.severity, incident_name(incident),
			object.get(incident, "openedAt", "at an unknown time"), status.data.source, resolved_later(incident),
		],
	),
	"evidence": [status.digest],
} if {
	some status in lib.newest_incidents
	some incident in status.data.incidents
	lib.blocking(incident)
	not emergency_for(incident)
}

findings contains {
	"rule": "forbidden.deploy-during-incident",
	"message": "no IncidentStatus evidence: whether an incident is open is unknown",
	"evidence": [],
} if count(input.evidence.IncidentStatus) == 0

incident_name(incident) := sprintf("%s %q", [incident.id, incident.title]) if incident.title

else := incident.id

# resolved_later notes an incident marked resolved at a time still to come.
resolved_later(incident) := sprintf("; it is marked resolved at %s, after now, so it is still open", [incident.resolvedAt]) if {
	lib.incident_status(incident) != incident.status
} else := ""

# The emergency path lifts the incident it names, and only that one.
emergency_for(incident) if incident.id == lib.emergency_incident

findings contains lib.about(doc, "forbidden.no-rollback-plan", lib.lacks(doc, "Plan", "rollbackPlan")) if {
	some doc in lib.plans
	not lib.has_argv(doc.data, ["rollbackPlan", "command"])
}

findings contains lib.about(doc, "forbidden.no-rollback-plan", message) if {
	some doc in lib.plans
	doc.data.rollbackPlan.previousCommit == input.release.commit
	message := sprintf(
		"the rollback plan returns to %s, the commit being released: it rolls nothing back",
		[lib.short(input.release.commit)],
	)
}

# forbidden.skipped-smoke-tests at the complete gate: only Verifications
# that started after the newest succeeded Deploy finished count; the others
# are named.

findings contains {
	"rule": "forbidden.skipped-smoke-tests",
	"message": "no Verification evidence: the smoke tests were skipped",
	"evidence": [],
} if {
	input.gate == "complete"
	count(input.evidence.Verification) == 0
}

findings contains {
	"rule": "forbidden.skipped-smoke-tests",
	"message": sprintf("no Verification ran after the deploy: the smoke tests of this deploy were skipped (%s)", [lib.ignored_verifications]),
	"evidence": lib.digests(input.evidence.Verification),
} if {
	input.gate == "complete"
	count(input.evidence.Verification) > 0
	count(lib.tied_verifications) == 0
}

findings contains {
	"rule": "forbidden.skipped-smoke-tests",
	"message": sprintf(
		"no Verification passed every mandatory check; the latest did not pass %s%s",
		[concat(", ", unpassed), ignored_smoke_tests],
	),
	"evidence": lib.digests(input.evidence.Verification),
} if {
	input.gate == "complete"
	count(lib.tied_verifications) > 0
	every verification in lib.tied_verifications {
		not lib.verified(verification)
	}
	newest := lib.newest_of(lib.tied_verifications)
	unpassed := [name |
		some name in lib.config.verification.mandatory_checks
		not lib.passed_by_all(newest, name)
	]
}

# On a tie of the newest Verifications each is judged: one that failed
# denies, although another of the tie (or an earlier one) passed, so the
# digest order never decides.
findings contains {
	"rule": "forbidden.skipped-smoke-tests",
	"message": sprintf(
		"the newest Verifications tie (collected %s), and %s did not pass %s: on a tie the worst counts",
		[verification.collectedAt, lib.short_digest(verification.digest), concat(", ", lib.unpassed_checks(verification))],
	),
	"evidence": lib.digests(newest),
} if {
	input.gate == "complete"
	newest := lib.newest_of(lib.tied_verifications)
	count(newest) > 1
	some verification in newest
	not lib.verified(verification)
}

ignored_smoke_tests := sprintf(" (%s)", [lib.ignored_verifications]) if count(lib.early_verifications) > 0

else := ""

# forbidden.skipped-smoke-tests at the deploy gate: a violation of the
# service for skipped smoke tests (opened by the sweep for a deploy never
# verified in time, or by a complete gate) blocks the service's deploys
# while it is open, whatever its due date. The emergency path lifts nothing
# here: skipping smoke tests is forbidden, and the postmortem that closes
# the violation can be written at once. The violation a deploy gate opens
# when this finding denies it names the rule too, but skipped nothing: it
# does not block, or closing the first would never be enough. One opened
# after the evaluation time (a decision at an earlier --now) did not exist
# yet.
findings contains {
	"rule": "forbidden.skipped-smoke-tests",
	"message": sprintf(
		"violation %s (%s gate, release %s, opened %s) is open: a deploy of %s skipped its smoke tests, and the service deploys again only once a postmortem closes it",
		[violation.id, violation.gate, violation.release, violation.openedAt, input.release.service],
	),
	"evidence": [],
} if {
	input.gate == "deploy"
	some violation in input.violations
	violation.status == "open"
	violation.gate != "deploy"
	"forbidden.skipped-smoke-tests" in violation.rules
	time.parse_rfc3339_ns(violation.openedAt) <= lib.now_ns
}
