# Package shipgate.rules.checklist is the pre-release checklist: the build
# passes, the error budget is available, the runbook has been reviewed.
package shipgate.rules.checklist

import data.shipgate.lib

# METADATA
# title: The build passed
# description: >-
#   Fires when there is no passed Build; cites the Builds that did not pass,
#   naming the latest one's argv and why it is not one: its status and exit
#   code, a command that is not an approved build command (`true`), or times
#   out of order.
# custom:
#   enforcement: hard
#   gates: [deploy]
#   remediation: >-
#     run the approved build command (LocalizeVideos: `npm run build`,
#     services.<service>.build_commands) through `shipgate run build` until it
#     exits 0, so a passed Build is recorded, then gate again
rule["checklist.build-passed"] := lib.metadata(rego.metadata.rule())

# METADATA
# title: Error budget available
# description: >-
#   Fires when the emergency path is not taken, and the newest ErrorBudget
#   (measured by `shipgate collect error-budget`) has `remaining <= 0`;
#   without an ErrorBudget, the latest Plan has no `errorBudget` or
#   `errorBudget.remaining <= 0`.
# custom:
#   enforcement: soft
#   gates: [deploy]
#   remediation: >-
#     measure the error budget (`shipgate collect error-budget --slo FILE`) or
#     record it in the Plan (errorBudget.remaining > 0); when it is spent,
#     wait for it to recover or get an Override from an approver other than
#     the deployer
rule["checklist.error-budget"] := lib.metadata(rego.metadata.rule())

# METADATA
# title: Runbook reviewed
# description: >-
#   Fires when the emergency path is not taken, and the latest Plan lacks
#   `documentation.runbook.reviewer` (or it is only spaces) or `reviewedAt`,
#   or `reviewedAt` is more than `runbook.max_review_age_days` days before
#   now, or after now.
# custom:
#   enforcement: soft
#   gates: [deploy]
#   remediation: >-
#     have someone review the runbook and record
#     documentation.runbook.reviewer and reviewedAt (within
#     runbook.max_review_age_days) in the Plan
rule["checklist.runbook-reviewed"] := lib.metadata(rego.metadata.rule())

# rules is this file's rule metadata as the decision library reads it,
# each entry made from its rule's METADATA annotation (lib.metadata).
rules := rule

findings contains {
	"rule": "checklist.build-passed",
	"message": "no Build evidence: the build was not run, or not recorded, for this commit",
	"evidence": [],
} if count(input.evidence.Build) == 0

# A Build passes only with status passed, exit code 0, an approved build
# command (services.<service>.build_commands) and its times in order
# (lib.passed_builds); the message says what the newest one lacked.
findings contains {
	"rule": "checklist.build-passed",
	"message": sprintf("no passed Build: the latest, %s, %s", [lib.argv(build.data.command), lib.build_problem(build)]),
	"evidence": lib.digests(input.evidence.Build),
} if {
	count(lib.passed_builds) == 0
	some build in lib.newest_builds
}

# On a tie of the newest Builds each is judged: one that did not pass denies,
# whatever the others of the tie say, so the digest order never decides.
findings contains {
	"rule": "checklist.build-passed",
	"message": sprintf("the newest Builds tie (collected %s), and Build %s %s: on a tie the worst counts", [build.collectedAt, lib.short_digest(build.digest), lib.build_problem(build)]),
	"evidence": lib.digests(lib.newest_builds),
} if {
	count(lib.newest_builds) > 1
	count(lib.passed_builds) > 0
	some build in lib.newest_builds
	lib.build_problem(build)
}

# A measured ErrorBudget (shipgate collect error-budget) is judged before the
# Plan's hand-written errorBudget: the newest one decides (each of a tie).
findings contains lib.about(doc, "checklist.error-budget", message) if {
	lib.routine
	some doc in lib.newest_error_budgets
	budget := doc.data
	budget.remaining <= 0
	message := sprintf(
		"error budget exhausted: %v of it remains (SLO %s, %v objective over %s, error ratio %v, measured %s)",
		[budget.remaining, budget.slo, budget.objective, budget.window, budget.errorRatio, budget.measuredAt],
	)
}

# Without an ErrorBudget, each Plan of the newest tie is judged: one with no
# errorBudget, or with nothing of it remaining, fires (plan_budget_problem
# says which; the schema requires errorBudget.remaining).
findings contains lib.about(doc, "checklist.error-budget", plan_budget_problem(doc)) if {
	plan_budget
	some doc in lib.plans
	object.get(doc.data, ["errorBudget", "remaining"], 0) <= 0
}

plan_budget_problem(doc) := lib.lacks(doc, "Plan", "errorBudget") if {
	not doc.data.errorBudget
} else := sprintf("error budget exhausted: %v of it remains%s", [budget.remaining, slo(budget)]) if {
	budget := doc.data.errorBudget
}

# plan_budget: the Plan's errorBudget is judged (no emergency, no ErrorBudget).
plan_budget if {
	lib.routine
	count(input.evidence.ErrorBudget) == 0
}

slo(budget) := sprintf(" (SLO %s)", [budget.slo]) if budget.slo

else := ""

# checklist.runbook-reviewed: each Plan of the newest tie is judged.
runbook_finding(doc, message) := lib.about(doc, "checklist.runbook-reviewed", message)

# review_cutoff_ns is the oldest a runbook review may be: now less
# runbook.max_review_age_days (max_review_age_ns, a constant of the data).
review_cutoff_ns := lib.now_ns - max_review_age_ns

max_review_age_ns := lib.config.runbook.max_review_age_days * lib.ns_per_day

findings contains runbook_finding(doc, lib.lacks(doc, "Plan", "documentation.runbook.reviewer")) if {
	lib.routine
	some doc in lib.plans
	not lib.has_text(doc.data, ["documentation", "runbook", "reviewer"])
}

# A review date that is missing, older than the cutoff or in the future is
# one body (each Plan has one of the three at most); review_problem says
# which.
findings contains runbook_finding(doc, review_problem(doc)) if {
	lib.routine
	some doc in lib.plans
	not reviewed_recently(doc.data)
}

# reviewed_recently(plan): the runbook was reviewed between review_cutoff_ns
# and now, both included.
reviewed_recently(plan) if {
	reviewed_ns := time.parse_rfc3339_ns(plan.documentation.runbook.reviewedAt)
	review_cutoff_ns <= reviewed_ns
	reviewed_ns <= lib.now_ns
}

review_problem(doc) := lib.lacks(doc, "Plan", "documentation.runbook.reviewedAt") if {
	not doc.data.documentation.runbook.reviewedAt
} else := sprintf(
	"runbook last reviewed by %s on %s, %d days ago (max %d days)",
	[
		object.get(runbook, "reviewer", "an unnamed reviewer"), runbook.reviewedAt, lib.age_days(runbook.reviewedAt),
		lib.config.runbook.max_review_age_days,
	],
) if {
	runbook := doc.data.documentation.runbook
	time.parse_rfc3339_ns(runbook.reviewedAt) < review_cutoff_ns
} else := sprintf("runbook review date %s is in the future (now %s)", [doc.data.documentation.runbook.reviewedAt, input.now])
