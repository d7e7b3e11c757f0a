# Package shipgate.rules.release judges the release as a whole: it must be
# released to an environment the policy data declares, spelled exactly as
# declared, so that a relabelled environment (Production, prod) cannot slip
# past the rules that are keyed on it, such as the freeze of production; and
# a release rolled back after its deploy is over: it cannot be verified or
# completed.
package shipgate.rules.release

import data.shipgate.lib

# METADATA
# title: The release's environment is declared
# description: >-
#   Fires when `release.environment` is not one of `environments` in data,
#   exactly (`Production`, `prod` and ` production` fire; the message says
#   when it differs from a declared one only in case or spaces).
# custom:
#   enforcement: hard
#   gates: [deploy, verify, complete, flag]
#   remediation: >-
#     release to an environment listed in policy data environments, spelled
#     exactly as it is there (production, not Production or prod), or declare
#     the environment through a reviewed policy change
rule["release.environment-undeclared"] := lib.metadata(rego.metadata.rule())

# METADATA
# title: A rolled-back release is not verified or completed
# description: >-
#   Fires when a fast Rollback (back to another commit; succeeded, or failed:
#   then what runs is unknown) was collected, started or finished at or after
#   the newest succeeded Deploy finished (any Rollback when no Deploy
#   succeeded); its times need not be in order. A rollback before a redeploy
#   does not fire.
# custom:
#   enforcement: hard
#   gates: [verify, complete]
#   remediation: >-
#     the release was rolled back after its deploy: fix the cause and release
#     again (a new release, or a new deploy of this one, which a later
#     Rollback would again stop)
rule["release.rolled-back"] := lib.metadata(rego.metadata.rule())

# rules is this file's rule metadata as the decision library reads it,
# each entry made from its rule's METADATA annotation (lib.metadata).
rules := rule

# environments are the declared environments (policy data environments).
environments := object.get(lib.config, "environments", [])

# The engine counts only evidence of the release's own environment, so no
# evidence of an undeclared environment counts towards an allow either.
findings contains {
	"rule": "release.environment-undeclared",
	"message": sprintf(
		"environment %q is not declared (declared: %s)%s: the rules keyed on an environment, such as the freeze of production, would not see it",
		[input.release.environment, lib.join(sort(environments)), near_miss],
	),
	"evidence": [],
} if not input.release.environment in environments

# near_miss names a declared environment that differs only in case or spaces.
near_miss := sprintf("; it differs from %s only in case or spaces", [lib.join(sort(same))]) if {
	same := {env |
		some env in environments
		lib.normal(env) == lib.normal(input.release.environment)
	}
	count(same) > 0
} else := ""

# release.rolled-back: a fast Rollback (back to another commit) recorded,
# started or finished at or after the newest succeeded deploy finished (any
# one when none succeeded) means what was deployed is gone, or in an unknown
# state when the rollback failed. Its times need not be in order: any of them
# after the deploy is enough, so a Rollback cannot hide by misdating itself.
# An emergency rollback turns a flag off and restarts the same commit: the
# release still runs, and is verified again as it now is.
findings contains {
	"rule": "release.rolled-back",
	"message": sprintf(
		"%s %s rollback %s (started %s, finished %s, collected %s)%s: a rolled-back release cannot be verified or completed",
		[rollback.data.status, rollback.data.strategy, lib.short_digest(rollback.digest), rollback.data.startedAt, rollback.data.finishedAt, rollback.collectedAt, rollback_outcome(rollback.data)],
	),
	"evidence": [rollback.digest],
} if {
	some rollback in input.evidence.Rollback
	rollback.data.strategy == "fast"
	after_the_deploy(rollback)
}

after_the_deploy(_) if not lib.deployed_ns

after_the_deploy(rollback) if {
	some at in [rollback.collectedAt, rollback.data.startedAt, rollback.data.finishedAt]
	time.parse_rfc3339_ns(at) >= lib.deployed_ns
}

rollback_outcome(rollback) := " after the deploy: the release was rolled back" if {
	rollback.status == "succeeded"
} else := " after the deploy: what runs now is unknown"
