package shipgate.rules.forbidden_test

import data.shipgate.lib
import data.shipgate.lib.fixtures as f
import data.shipgate.rules.forbidden

deploy_findings(request) := findings if {
	findings := forbidden.findings with input as f.with_evidence("deploy", {"Deploy": [request]})
}

# A healthy release's deploy fires nothing: the smoke tests are judged at
# the complete gate, and at the deploy gate only an open violation for
# skipped ones fires.
test_happy_deploy_fires_no_deploy_rule if {
	findings := forbidden.findings with input as f.input_for("deploy")
	count(findings) == 0
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

# forbidden.hot-patch: the build and its output

tree_a := "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

tree_b := "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

# build_with(patch) is the passed fixture Build with patch merged into its data.
build_with(patch) := object.union(f.build("passed", 0), {"data": patch})

built_output(tree) := build_with({"artifact": {"digest": f.digest("archive"), "tree": tree, "paths": ["dist"], "sizeBytes": 10}})

found_output(tree) := f.deploy_with({"artifact": {"tree": tree, "paths": ["dist"]}})

build_findings(build, request) := findings if {
	findings := forbidden.findings with input as f.with_evidence("deploy", {"Build": [build], "Deploy": [request]})
}

test_hot_patch_fires_on_a_dirty_build if {
	build := build_with({"source": {"clean": false}})
	findings := build_findings(build, f.deploy_request)
	some finding in findings
	finding.rule == "forbidden.hot-patch"
	contains(finding.message, "ran in a checkout with uncommitted changes (source.clean is false)")
	finding.evidence == [build.digest]
}

test_hot_patch_fires_on_a_build_without_source if {
	build := json.remove(f.build("passed", 0), ["data/source"])
	findings := build_findings(build, f.deploy_request)
	f.says(findings, "forbidden.hot-patch", "records no source.clean: whether it built committed code is unknown")
}

test_hot_patch_judges_every_build_of_a_tie if {
	dirty := object.union(build_with({"source": {"clean": false}}), {"digest": f.digest("dirty twin")})
	findings := forbidden.findings with input as f.with_evidence("deploy", {"Build": [f.build("passed", 0), dirty]})
	f.says(findings, "forbidden.hot-patch", "uncommitted changes")
}

test_hot_patch_ignores_an_older_dirty_build if {
	dirty := object.union(build_with({"source": {"clean": false}}), {"collectedAt": "2026-11-26T09:00:00Z"})
	findings := forbidden.findings with input as f.with_evidence("deploy", {"Build": [dirty, f.build("passed", 0)]})
	not "forbidden.hot-patch" in f.fired(findings)
}

test_hot_patch_ignores_a_dirty_failed_build if {
	failed := object.union(f.build("failed", 1), {"data": {"source": {"clean": false}}})
	findings := forbidden.findings with input as f.with_evidence("deploy", {"Build": [failed, f.build("passed", 0)]})
	not "forbidden.hot-patch" in f.fired(findings)
}

test_hot_patch_quiet_when_the_output_is_the_build_s if {
	findings := build_findings(built_output(tree_a), found_output(tree_a))
	not "forbidden.hot-patch" in f.fired(findings)
}

test_hot_patch_fires_when_the_output_changed_after_the_build if {
	build := built_output(tree_a)
	request := found_output(tree_b)
	findings := build_findings(build, request)
	some finding in findings
	finding.rule == "forbidden.hot-patch"
	finding.message == sprintf(
		"the build output in the checkout (dist, tree bbbbbbbbbbbb) is not what the Build %s produced (dist, tree aaaaaaaaaaaa): it changed after the build",
		[substring(trim_prefix(build.digest, "sha256:"), 0, 12)],
	)
	finding.evidence == [build.digest, request.digest]
}

test_hot_patch_fires_when_the_request_found_no_output if {
	findings := build_findings(built_output(tree_a), f.deploy_request)
	f.says(findings, "forbidden.hot-patch", "the deploy request records no digest of that build output in the checkout")
}

test_hot_patch_fires_when_the_build_recorded_no_output if {
	findings := build_findings(f.build("passed", 0), found_output(tree_a))
	f.says(findings, "forbidden.hot-patch", "but the Build")
	f.says(findings, "forbidden.hot-patch", "records no digest of its output")
}

test_hot_patch_quiet_when_neither_records_output if {
	findings := build_findings(f.build("passed", 0), f.deploy_request)
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
	failed := object.union(f.verification({"login": "failed"}), {"collectedAt": "2026-11-26T10:01:00Z"})
	findings := forbidden.findings with input as f.with_evidence("complete", {"Verification": [f.verification({}), failed]})
	not "forbidden.skipped-smoke-tests" in f.fired(findings)
}

test_skipped_smoke_tests_fires_on_a_tie_with_a_failed_check if {
	failed := f.verification({"login": "failed"})
	findings := forbidden.findings with input as f.with_evidence("complete", {"Verification": [f.verification({}), failed]})
	f.says(findings, "forbidden.skipped-smoke-tests", "did not pass login: on a tie the worst counts")
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

# forbidden.skipped-smoke-tests at the deploy gate: an open violation of the
# service for skipped smoke tests blocks its deploys.

skipped(status, due) := {
	"id": "vio_skip_01",
	"gate": "sweep",
	"rules": ["forbidden.skipped-smoke-tests"],
	"status": status,
	"openedAt": "2026-11-26T09:40:00Z",
	"due": due,
	"release": "lv-2026-11-25.3",
}

with_violations(gate, violations, evidence) := findings if {
	findings := forbidden.findings with input as f.patched(gate, {
		"violations": violations,
		"evidence": object.union(f.input_for(gate).evidence, evidence),
	})
}

test_skipped_smoke_tests_blocks_the_deploy_before_the_due_date if {
	findings := with_violations("deploy", [skipped("open", "2026-12-01T09:40:00Z")], {})
	f.says(findings, "forbidden.skipped-smoke-tests", "violation vio_skip_01 (sweep gate, release lv-2026-11-25.3, opened 2026-11-26T09:40:00Z) is open: a deploy of localizevideos-app skipped its smoke tests")
	f.count_of(findings, "forbidden.skipped-smoke-tests") == 1
}

# Skipping smoke tests is forbidden: the emergency path does not lift it.
test_skipped_smoke_tests_blocks_the_emergency_path_too if {
	emergency := f.patched("deploy", {
		"violations": [skipped("open", "2026-12-01T09:40:00Z")],
		"evidence": object.union(f.input_for("deploy").evidence, f.emergency_evidence(f.emergency_plan("INC-42"))),
	})
	lib.emergency with input as emergency
	findings := forbidden.findings with input as emergency
	"forbidden.skipped-smoke-tests" in f.fired(findings)
}

test_skipped_smoke_tests_quiet_at_deploy_once_closed if {
	findings := with_violations("deploy", [skipped("closed", "2026-12-01T09:40:00Z")], {})
	not "forbidden.skipped-smoke-tests" in f.fired(findings)
}

test_skipped_smoke_tests_quiet_at_deploy_for_other_violations if {
	other := object.union(skipped("open", "2026-12-01T09:40:00Z"), {"rules": ["approval.required"]})
	findings := with_violations("deploy", [other], {})
	not "forbidden.skipped-smoke-tests" in f.fired(findings)
}

# The denial this finding causes opens a deploy-gate violation naming the
# rule; that one does not block again once the sweep's is closed.
test_skipped_smoke_tests_quiet_for_the_deploy_denial_it_caused if {
	denial := object.union(skipped("open", "2026-12-01T09:40:00Z"), {"id": "vio_02", "gate": "deploy"})
	findings := with_violations("deploy", [skipped("closed", "2026-12-01T09:40:00Z"), denial], {})
	not "forbidden.skipped-smoke-tests" in f.fired(findings)
}

# A decision evaluated before the violation was opened did not see it.
test_skipped_smoke_tests_quiet_before_the_violation_opened if {
	later := object.union(skipped("open", "2026-12-01T09:40:00Z"), {"openedAt": "2026-11-26T10:05:01Z"})
	findings := with_violations("deploy", [later], {})
	not "forbidden.skipped-smoke-tests" in f.fired(findings)
}

# A complete gate that found the smoke tests skipped blocks deploys too.
test_skipped_smoke_tests_blocks_after_a_complete_denial if {
	denial := object.union(skipped("open", "2026-12-01T09:40:00Z"), {"gate": "complete", "rules": ["monitoring.healthy", "forbidden.skipped-smoke-tests"]})
	findings := with_violations("deploy", [denial], {})
	f.says(findings, "forbidden.skipped-smoke-tests", "violation vio_skip_01 (complete gate, release lv-2026-11-25.3")
}

# The open violation is about the service's deploys, not about completing
# a release that was verified.
test_skipped_smoke_tests_violation_quiet_at_complete if {
	findings := with_violations("complete", [skipped("open", "2026-12-01T09:40:00Z")], {})
	not "forbidden.skipped-smoke-tests" in f.fired(findings)
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
