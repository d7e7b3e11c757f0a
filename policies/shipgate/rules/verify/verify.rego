# Package shipgate.rules.verify judges the mandatory verification after a
# deploy: the deploy must have succeeded, and any failed check means rollback
# now. Only smoke tests that started after the newest succeeded Deploy finished
# count (lib.tied_verifications).
package shipgate.rules.verify

import data.shipgate.lib

# METADATA
# title: Mandatory verification passed
# description: >-
#   Fires once per mandatory check that the newest Verification tied to the
#   deploy lacks or did not pass (a Verification that finished before it
#   started passes none); on a tie, a failure in any of them counts (message:
#   check name, status, its message, plus the Verifications ignored as too
#   early). Without a tied Verification every check fires. Adds a `rollback`
#   obligation.
# custom:
#   enforcement: hard
#   gates: [verify]
#   remediation: >-
#     roll back now (`shipgate rollback`), fix the cause, and release again; a
#     check that is missing must be added to the smoke-check file; smoke tests
#     must run after the deploy finished
rule["verify.mandatory-checks"] := lib.metadata(rego.metadata.rule())

# METADATA
# title: The deploy succeeded
# description: >-
#   Fires when the newest Deploy (any one of a tie) does not have `status:
#   succeeded`: a failed or only requested deploy cannot be verified or
#   completed (one finding per such Deploy, naming status, exit code,
#   collector time); a judged Deploy says `succeeded` but its `exitCode` is
#   not 0 or it finished before it started; no Deploy at all fires too.
# custom:
#   enforcement: hard
#   gates: [verify, complete]
#   remediation: >-
#     a failed or only requested deploy cannot be verified or completed: roll
#     back (`shipgate rollback`) or redeploy (`shipgate run deploy`) until a
#     Deploy with status succeeded is recorded
rule["verify.deploy-succeeded"] := lib.metadata(rego.metadata.rule())

# rules is this file's rule metadata as the decision library reads it,
# each entry made from its rule's METADATA annotation (lib.metadata).
rules := rule

# verify.deploy-succeeded: the newest Deploy (every one of a tie) succeeded.

findings contains {
	"rule": "verify.deploy-succeeded",
	"message": "no Deploy evidence: there is no succeeded deploy to verify",
	"evidence": [],
} if count(input.evidence.Deploy) == 0

findings contains {
	"rule": "verify.deploy-succeeded",
	"message": sprintf("the newest Deploy (collected %s by %s) %s", [deploy.collectedAt, deploy.data.actor, deploy_outcome(deploy.data)]),
	"evidence": [deploy.digest],
} if {
	some deploy in lib.newest_deploys
	deploy.data.status != "succeeded"
}

# A Deploy that says succeeded but exited non-zero, or finished before it
# started, is not a succeeded deploy (lib.succeeded_deploys).
findings contains {
	"rule": "verify.deploy-succeeded",
	"message": sprintf("the Deploy collected %s by %s %s: it is not a succeeded deploy", [deploy.collectedAt, deploy.data.actor, problem]),
	"evidence": [deploy.digest],
} if {
	some deploy in lib.deploys
	problem := lib.unsound_deploy(deploy.data)
}

deploy_outcome(deploy) := sprintf("failed with exit code %v: a failed deploy cannot be verified or completed", [deploy.exitCode]) if {
	deploy.status == "failed"
	deploy.exitCode
} else := sprintf("has status %s, not succeeded: a failed or only requested deploy cannot be verified or completed", [deploy.status])

# verify.mandatory-checks: the newest of the Verifications that count. On a
# tie, a check fails when any Verification of the tie did not pass it.

verifications := lib.newest_of(lib.tied_verifications)

# failing lists the mandatory checks that the newest Verification did not pass.
failing contains name if {
	some name in lib.config.verification.mandatory_checks
	not lib.passed_by_all(verifications, name)
}

findings contains {
	"rule": "verify.mandatory-checks",
	"message": sprintf("mandatory check %s: %s%s", [name, outcome(name), ignored]),
	"evidence": cited,
} if {
	some name in failing
	ignored := ignored_note
	cited := cited_verifications
}

# ignored_note names the Verifications that do not count, "" when none.
ignored_note := sprintf(" (%s)", [lib.ignored_verifications]) if count(lib.early_verifications) > 0

else := ""

# cited_verifications are the Verifications a finding is about.
cited_verifications := lib.digests(verifications) if count(verifications) > 0

else := lib.digests(input.evidence.Verification)

outcome(name) := "no Verification evidence" if {
	count(input.evidence.Verification) == 0
} else := "no Verification started after the deploy finished" if {
	count(verifications) == 0
} else := concat("; ", sort(problems(name)))

# problems(name) lists what each newest Verification says about check name.
problems(name) := {problem |
	some verification in verifications
	some problem in check_problems(verification, name)
}

check_problems(verification, name) := {sprintf(
	"the Verification finished (%s) before it started (%s), so it does not count",
	[verification.data.finishedAt, verification.data.startedAt],
)} if {
	not lib.in_order(verification.data.startedAt, verification.data.finishedAt)
} else := {result(check) |
	some check in verification.data.checks
	check.name == name
	check.status != "passed"
} if {
	some check in verification.data.checks
	check.name == name
} else := {"missing from the latest Verification"}

result(check) := sprintf("%s (%s)", [check.status, check.message]) if check.message

else := check.status

obligations contains {
	"kind": "rollback",
	"rule": "verify.mandatory-checks",
	"message": sprintf("rollback now: mandatory checks not passed: %s", [concat(", ", sort(failing))]),
} if count(failing) > 0
