package shipgate.rules.checklist_test

import data.shipgate.lib.fixtures as f
import data.shipgate.rules.checklist

# checklist.build-passed

test_build_passed_quiet_with_a_passed_build if {
	findings := checklist.findings with input as f.input_for("deploy")
	not "checklist.build-passed" in f.fired(findings)
}

test_build_passed_fires_on_a_tie_with_a_failed_build if {
	findings := checklist.findings with input as f.with_evidence("deploy", {"Build": [f.build("failed", 1), f.build("passed", 0)]})
	f.says(findings, "checklist.build-passed", "ended failed with exit code 1: on a tie the worst counts")
}

test_build_passed_fires_without_build if {
	findings := checklist.findings with input as f.with_evidence("deploy", {"Build": []})
	f.says(findings, "checklist.build-passed", "no Build evidence")
}

test_build_passed_fires_on_failed_build_and_cites_it if {
	failed := f.build("failed", 2)
	findings := checklist.findings with input as f.with_evidence("deploy", {"Build": [failed]})
	some finding in findings
	finding.rule == "checklist.build-passed"
	finding.message == "no passed Build: the latest, `npm run build`, ended failed with exit code 2"
	finding.evidence == [failed.digest]
}

test_build_passed_fires_on_passed_status_with_nonzero_exit_code if {
	findings := checklist.findings with input as f.with_evidence("deploy", {"Build": [f.build("passed", 1)]})
	f.says(findings, "checklist.build-passed", "ended passed with exit code 1")
}

# checklist.error-budget

test_error_budget_quiet_when_budget_remains if {
	findings := checklist.findings with input as f.input_for("deploy")
	not "checklist.error-budget" in f.fired(findings)
}

test_error_budget_fires_when_exhausted if {
	plan := f.plan_with({"errorBudget": {"remaining": 0, "slo": "99.5% availability"}})
	findings := checklist.findings with input as f.with_evidence("deploy", {"Plan": [plan]})
	f.says(findings, "checklist.error-budget", "error budget exhausted: 0 of it remains (SLO 99.5% availability)")
}

test_error_budget_fires_when_negative_without_slo if {
	plan := json.remove(f.plan_with({"errorBudget": {"remaining": -0.2}}), ["data/errorBudget/slo"])
	findings := checklist.findings with input as f.with_evidence("deploy", {"Plan": [plan]})
	{finding.message | some finding in findings} == {"error budget exhausted: -0.2 of it remains"}
}

test_error_budget_fires_when_plan_lacks_it if {
	plan := f.plan_without(["errorBudget"])
	findings := checklist.findings with input as f.with_evidence("deploy", {"Plan": [plan]})
	some finding in findings
	finding.rule == "checklist.error-budget"
	finding.message == "latest Plan has no errorBudget"
	finding.evidence == [plan.digest]
}

test_error_budget_fires_without_plan if {
	findings := checklist.findings with input as f.with_evidence("deploy", {"Plan": []})
	f.says(findings, "checklist.error-budget", "no Plan evidence, so no errorBudget")
}

test_error_budget_quiet_on_emergency_path if {
	plan := object.union(f.emergency_plan("INC-42"), {"data": {"errorBudget": {"remaining": -1}}})
	findings := checklist.findings with input as f.with_evidence("deploy", f.emergency_evidence(plan))
	not "checklist.error-budget" in f.fired(findings)
}

# checklist.runbook-reviewed

test_runbook_quiet_when_recently_reviewed if {
	findings := checklist.findings with input as f.input_for("deploy")
	not "checklist.runbook-reviewed" in f.fired(findings)
}

test_runbook_fires_without_reviewer_or_date if {
	plan := f.plan_without(["documentation/runbook/reviewer", "documentation/runbook/reviewedAt"])
	findings := checklist.findings with input as f.with_evidence("deploy", {"Plan": [plan]})
	f.says(findings, "checklist.runbook-reviewed", "latest Plan has no documentation.runbook.reviewer")
	f.says(findings, "checklist.runbook-reviewed", "latest Plan has no documentation.runbook.reviewedAt")
}

test_runbook_fires_when_review_is_too_old if {
	plan := f.plan_with({"documentation": {"runbook": {"reviewedAt": "2026-10-01T09:00:00Z"}}})
	findings := checklist.findings with input as f.with_evidence("deploy", {"Plan": [plan]})
	f.says(findings, "checklist.runbook-reviewed", "runbook last reviewed by carol on 2026-10-01T09:00:00Z, 56 days ago (max 30 days)")
}

test_runbook_age_limit_comes_from_data if {
	findings := checklist.findings with input as f.input_for("deploy")
		with data.shipgate.config.runbook.max_review_age_days as 3
	f.says(findings, "checklist.runbook-reviewed", "5 days ago (max 3 days)")
}

test_runbook_fires_when_review_is_in_the_future if {
	plan := f.plan_with({"documentation": {"runbook": {"reviewedAt": "2026-12-01T09:00:00Z"}}})
	findings := checklist.findings with input as f.with_evidence("deploy", {"Plan": [plan]})
	f.says(findings, "checklist.runbook-reviewed", "runbook review date 2026-12-01T09:00:00Z is in the future")
}

test_runbook_quiet_on_emergency_path if {
	plan := json.remove(f.emergency_plan("INC-42"), ["data/documentation/runbook/reviewer"])
	findings := checklist.findings with input as f.with_evidence("deploy", f.emergency_evidence(plan))
	not "checklist.runbook-reviewed" in f.fired(findings)
}

# checklist.error-budget with a measured ErrorBudget (shipgate collect error-budget)

error_budget(remaining) := f.doc("ErrorBudget", sprintf("error-budget-%v", [remaining]), {
	"slo": "availability-30d",
	"objective": 0.999,
	"window": "30d",
	"errorRatio": 0.0004,
	"remaining": remaining,
	"measuredAt": "2026-11-26T09:59:00Z",
})

test_measured_error_budget_quiet_when_it_remains if {
	plan := f.plan_without(["errorBudget"])
	findings := checklist.findings with input as f.with_evidence("deploy", {"Plan": [plan], "ErrorBudget": [error_budget(0.6)]})
	not "checklist.error-budget" in f.fired(findings)
}

test_measured_error_budget_fires_when_spent_even_if_the_plan_says_otherwise if {
	budget := error_budget(-0.25)
	findings := checklist.findings with input as f.with_evidence("deploy", {"Plan": [f.plan], "ErrorBudget": [budget]})
	f.says(
		findings,
		"checklist.error-budget",
		"error budget exhausted: -0.25 of it remains (SLO availability-30d, 0.999 objective over 30d, error ratio 0.0004, measured 2026-11-26T09:59:00Z)",
	)
	some finding in findings
	finding.rule == "checklist.error-budget"
	finding.evidence == [budget.digest]
}

test_measured_error_budget_newest_counts if {
	evidence := {"Plan": [f.plan], "ErrorBudget": [f.earlier(error_budget(-0.25)), error_budget(0.6)]}
	findings := checklist.findings with input as f.with_evidence("deploy", evidence)
	not "checklist.error-budget" in f.fired(findings)
}

test_measured_error_budget_tie_the_worst_counts if {
	spent := error_budget(-0.25)
	evidence := {"Plan": [f.plan], "ErrorBudget": [error_budget(0.6), spent]}
	findings := checklist.findings with input as f.with_evidence("deploy", evidence)
	some finding in findings
	finding.rule == "checklist.error-budget"
	finding.evidence == [spent.digest]
}

test_measured_error_budget_quiet_on_emergency_path if {
	plan := f.emergency_plan("INC-42")
	evidence := object.union(f.emergency_evidence(plan), {"ErrorBudget": [error_budget(0)]})
	findings := checklist.findings with input as f.with_evidence("deploy", evidence)
	not "checklist.error-budget" in f.fired(findings)
}

# Mutants of issue #14: a Build passes only with the approved build command
# and its times in order.

built(patch) := object.union(f.build("passed", 0), {"data": patch})

test_build_passed_fires_on_another_build_command if {
	findings := checklist.findings with input as f.with_evidence("deploy", {"Build": [built({"command": ["true"]})]})
	f.says(findings, "checklist.build-passed", "no passed Build: the latest, `true`, ran `true`, which is not an approved build command (approved: `npm run build`)")
}

test_build_passed_build_commands_come_from_data if {
	findings := checklist.findings with input as f.with_evidence("deploy", {"Build": [built({"command": ["make", "dist"]})]})
		with data.shipgate.config.services["localizevideos-app"].build_commands as [["make", "dist"]]
	not "checklist.build-passed" in f.fired(findings)
}

test_build_passed_fires_on_a_build_that_finished_before_it_started if {
	findings := checklist.findings with input as f.with_evidence("deploy", {"Build": [built({"finishedAt": "2026-11-26T09:57:00Z"})]})
	f.says(findings, "checklist.build-passed", "finished (2026-11-26T09:57:00Z) before it started (2026-11-26T09:58:00Z), so it does not count")
}

test_runbook_reviewed_fires_on_a_blank_reviewer if {
	plan := f.plan_with({"documentation": {"runbook": {"url": "https://wiki.example.com/lv/runbook", "reviewer": "  ", "reviewedAt": "2026-11-20T15:00:00Z"}}})
	findings := checklist.findings with input as f.with_evidence("deploy", {"Plan": [plan]})
	f.says(findings, "checklist.runbook-reviewed", "latest Plan has no documentation.runbook.reviewer")
}
