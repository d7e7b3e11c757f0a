package shipgate.rules.forbidden_test

import data.shipgate.lib.fixtures as f
import data.shipgate.rules.forbidden

deploy_findings(request) := findings if {
	findings := forbidden.findings with input as f.with_evidence("deploy", {"Deploy": [request]})
}

# Findings do not depend on the gate (the decision filters them), so at the
# deploy gate only the complete-gate smoke-test rule fires.
test_happy_deploy_fires_no_deploy_rule if {
	findings := forbidden.findings with input as f.input_for("deploy")
	f.fired(findings) == {"forbidden.skipped-smoke-tests"}
}

# forbidden.direct-push

test_direct_push_fires_on_manual_trigger if {
	findings := deploy_findings(f.deploy_with({"trigger": "manual"}))
	f.says(findings, "forbidden.direct-push", "deploy by alice was triggered \"manual\"; only pipeline, shipgate-run count")
}

test_direct_push_fires_on_a_branch_not_on_main if {
	findings := deploy_findings(f.deploy_with({"source": {"branch": "hotfix", "onMain": false}}))
	f.says(findings, "forbidden.direct-push", "deployed from branch \"hotfix\", which is not a main branch (main)")
}

test_direct_push_fires_when_commit_is_not_on_main if {
	findings := deploy_findings(f.deploy_with({"source": {"onMain": false}}))
	f.says(findings, "forbidden.direct-push", "is not reachable from branch \"main\"")
}

test_direct_push_quiet_for_a_merged_commit_from_another_branch if {
	findings := deploy_findings(f.deploy_with({"source": {"branch": "release-22", "onMain": true}}))
	not "forbidden.direct-push" in f.fired(findings)
}

test_direct_push_quiet_for_pipeline_trigger if {
	findings := deploy_findings(f.deploy_with({"trigger": "pipeline"}))
	not "forbidden.direct-push" in f.fired(findings)
}

# forbidden.hot-patch

test_hot_patch_fires_on_dirty_tree if {
	request := f.deploy_with({"source": {"clean": false}})
	findings := deploy_findings(request)
	some finding in findings
	finding.rule == "forbidden.hot-patch"
	contains(finding.message, "uncommitted changes when alice deployed commit 3f2c9a0e5b1d")
	finding.evidence == [request.digest]
}

test_hot_patch_fires_on_unknown_commit if {
	findings := deploy_findings(f.deploy_with({"source": {"commitKnown": false}}))
	f.says(findings, "forbidden.hot-patch", "commit 3f2c9a0e5b1d is not in the repository localizevideos/app")
}

test_hot_patch_quiet_without_deploy if {
	findings := forbidden.findings with input as f.with_evidence("deploy", {"Deploy": []})
	not "forbidden.hot-patch" in f.fired(findings)
}

# forbidden.deploy-during-incident

incident_findings(list) := findings if {
	findings := forbidden.findings with input as f.with_evidence("deploy", {"IncidentStatus": [f.incidents(list)]})
}

test_incident_fires_on_open_sev1 if {
	findings := incident_findings([f.incident("INC-42", "SEV-1", "open")])
	f.says(findings, "forbidden.deploy-during-incident", "open SEV-1 incident INC-42 \"Checkout is down\" (opened 2026-11-26T09:12:00Z, source pagerduty)")
}

test_incident_fires_on_mitigated_sev2_without_title if {
	findings := incident_findings([object.remove(f.incident("INC-43", "SEV-2", "mitigated"), ["title", "openedAt"])])
	f.says(findings, "forbidden.deploy-during-incident", "mitigated SEV-2 incident INC-43 (opened at an unknown time")
}

test_incident_quiet_for_resolved_or_minor if {
	findings := incident_findings([f.incident("INC-42", "SEV-1", "resolved"), f.incident("INC-44", "SEV-3", "open")])
	not "forbidden.deploy-during-incident" in f.fired(findings)
}

test_incident_reads_only_the_latest_status if {
	old := object.union(f.incidents([f.incident("INC-42", "SEV-1", "open")]), {"collectedAt": "2026-11-26T09:58:00Z"})
	findings := forbidden.findings with input as f.with_evidence("deploy", {"IncidentStatus": [old, f.incident_status]})
	not "forbidden.deploy-during-incident" in f.fired(findings)
}

# A tie (two lists collected at the same time) is judged whole: the open
# SEV-1 of either list fires, whichever sorts last.
test_incident_on_a_tie_every_status_counts if {
	open := f.incidents([f.incident("INC-42", "SEV-1", "open")])
	every order in [[open, f.incident_status], [f.incident_status, open]] {
		findings := forbidden.findings with input as f.with_evidence("deploy", {"IncidentStatus": order})
		f.says(findings, "forbidden.deploy-during-incident", "open SEV-1 incident INC-42")
	}
}

test_incident_emergency_lifts_only_the_named_incident if {
	status := f.incidents([f.incident("INC-42", "SEV-1", "open"), f.incident("INC-43", "SEV-2", "open")])
	findings := forbidden.findings with input as f.with_evidence("deploy", {
		"IncidentStatus": [status],
		"Plan": [f.emergency_plan("INC-42")],
	})
	not f.says(findings, "forbidden.deploy-during-incident", "INC-42")
	f.says(findings, "forbidden.deploy-during-incident", "INC-43")
}

test_incident_emergency_without_approval_lifts_nothing if {
	status := f.incidents([f.incident("INC-42", "SEV-1", "open")])
	findings := forbidden.findings with input as f.with_evidence("deploy", {
		"IncidentStatus": [status],
		"Plan": [f.emergency_plan("INC-42")],
		"Approval": [],
	})
	f.says(findings, "forbidden.deploy-during-incident", "INC-42")
}

test_incident_fires_without_incident_status if {
	findings := forbidden.findings with input as f.with_evidence("deploy", {"IncidentStatus": []})
	f.says(findings, "forbidden.deploy-during-incident", "no IncidentStatus evidence")
}

# forbidden.no-rollback-plan

test_no_rollback_plan_quiet_with_a_plan_to_the_previous_commit if {
	findings := forbidden.findings with input as f.input_for("deploy")
	not "forbidden.no-rollback-plan" in f.fired(findings)
}

test_no_rollback_plan_fires_without_one if {
	findings := forbidden.findings with input as f.with_evidence("deploy", {"Plan": [f.plan_without(["rollbackPlan"])]})
	f.says(findings, "forbidden.no-rollback-plan", "latest Plan has no rollbackPlan")
}

test_no_rollback_plan_fires_without_plan if {
	findings := forbidden.findings with input as f.with_evidence("deploy", {"Plan": []})
	f.says(findings, "forbidden.no-rollback-plan", "no Plan evidence")
}

test_no_rollback_plan_fires_when_it_returns_to_the_release_commit if {
	plan := f.plan_with({"rollbackPlan": {"previousCommit": f.commit}})
	findings := forbidden.findings with input as f.with_evidence("deploy", {"Plan": [plan]})
	f.says(findings, "forbidden.no-rollback-plan", "returns to 3f2c9a0e5b1d, the commit being released")
}

# forbidden.skipped-smoke-tests

test_skipped_smoke_tests_quiet_when_verified if {
	findings := forbidden.findings with input as f.input_for("complete")
	not "forbidden.skipped-smoke-tests" in f.fired(findings)
}

test_skipped_smoke_tests_quiet_when_an_earlier_verification_passed if {
	failed := f.verification({"login": "failed"})
	findings := forbidden.findings with input as f.with_evidence("complete", {"Verification": [f.verification({}), failed]})
	not "forbidden.skipped-smoke-tests" in f.fired(findings)
}

test_skipped_smoke_tests_fires_without_verification if {
	findings := forbidden.findings with input as f.with_evidence("complete", {"Verification": []})
	f.says(findings, "forbidden.skipped-smoke-tests", "no Verification evidence: the smoke tests were skipped")
}

test_skipped_smoke_tests_fires_when_checks_were_skipped if {
	partial := f.verification({"logout": "skipped", "api-me": "failed"})
	findings := forbidden.findings with input as f.with_evidence("complete", {"Verification": [partial]})
	some finding in findings
	finding.rule == "forbidden.skipped-smoke-tests"
	finding.message == "no Verification passed every mandatory check; the latest did not pass logout, api-me"
	finding.evidence == [partial.digest]
}

# started(doc, name, at) is doc under another digest, started at at.
started(doc, name, at) := object.union(doc, {"digest": f.digest(name), "data": {"startedAt": at}})

short(doc) := substring(trim_prefix(doc.digest, "sha256:"), 0, 12)

test_skipped_smoke_tests_fires_when_the_only_verification_started_before_the_deploy_finished if {
	early := started(f.verification({}), "early", "2026-11-26T10:06:00Z")
	findings := forbidden.findings with input as f.with_evidence("complete", {"Verification": [early]})
	some finding in findings
	finding.rule == "forbidden.skipped-smoke-tests"
	finding.message == sprintf(
		"no Verification ran after the deploy: the smoke tests of this deploy were skipped (ignored Verification that started before the newest succeeded Deploy finished (2026-11-26T10:06:08Z): %s (started 2026-11-26T10:06:00Z))",
		[short(early)],
	)
	finding.evidence == [early.digest]
}

test_skipped_smoke_tests_fires_without_a_succeeded_deploy if {
	findings := forbidden.findings with input as f.with_evidence("complete", {"Deploy": [f.deploy_request]})
	f.says(findings, "forbidden.skipped-smoke-tests", sprintf("(ignored Verification, as no Deploy succeeded: %s (started 2026-11-26T10:07:00Z))", [short(f.verification({}))]))
}

test_skipped_smoke_tests_names_the_ignored_ones_when_the_counted_ones_failed if {
	early := started(f.verification({}), "early", "2026-11-26T10:06:00Z")
	findings := forbidden.findings with input as f.with_evidence("complete", {"Verification": [early, f.verification({"home": "failed"})]})
	f.says(findings, "forbidden.skipped-smoke-tests", sprintf(
		"the latest did not pass home (ignored Verification that started before the newest succeeded Deploy finished (2026-11-26T10:06:08Z): %s (started 2026-11-26T10:06:00Z))",
		[short(early)],
	))
}

test_skipped_smoke_tests_quiet_with_an_early_failure_and_a_later_pass if {
	early := started(f.verification({"home": "failed"}), "early", "2026-11-26T10:06:00Z")
	findings := forbidden.findings with input as f.with_evidence("complete", {"Verification": [early, f.verification({})]})
	not "forbidden.skipped-smoke-tests" in f.fired(findings)
}

test_skipped_smoke_tests_lists_what_the_newest_tie_did_not_pass if {
	tie := [f.verification({"home": "failed"}), f.verification({"login": "failed", "home": "error"})]
	findings := forbidden.findings with input as f.with_evidence("complete", {"Verification": tie})
	f.says(findings, "forbidden.skipped-smoke-tests", "the latest did not pass home, login")
}

# Mutants of issue #14.

test_incident_resolved_in_the_future_is_still_open if {
	later := object.union(f.incident("INC-42", "SEV-1", "resolved"), {"resolvedAt": "2026-11-26T12:00:00Z"})
	findings := incident_findings([later])
	f.says(findings, "forbidden.deploy-during-incident", "open SEV-1 incident INC-42 \"Checkout is down\" (opened 2026-11-26T09:12:00Z, source pagerduty); it is marked resolved at 2026-11-26T12:00:00Z, after now, so it is still open")
	earlier := object.union(f.incident("INC-42", "SEV-1", "resolved"), {"resolvedAt": "2026-11-26T10:00:00Z"})
	not "forbidden.deploy-during-incident" in f.fired(incident_findings([earlier]))
}

test_no_rollback_plan_fires_on_a_blank_command if {
	plan := f.plan_with({"rollbackPlan": {"previousCommit": f.previous_commit, "command": [" ", ""]}})
	findings := forbidden.findings with input as f.with_evidence("deploy", {"Plan": [plan]})
	f.says(findings, "forbidden.no-rollback-plan", "latest Plan has no rollbackPlan")
}
