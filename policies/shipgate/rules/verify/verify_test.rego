package shipgate.rules.verify_test

import data.shipgate.lib.fixtures as f
import data.shipgate.rules.verify

test_mandatory_checks_quiet_when_all_passed if {
	findings := verify.findings with input as f.input_for("verify")
	count(findings) == 0
	count(verify.obligations) == 0 with input as f.input_for("verify")
}

test_mandatory_checks_fires_once_per_failed_check if {
	failed := f.verification({"login": "failed", "api-me": "error"})
	findings := verify.findings with input as f.with_evidence("verify", {"Verification": [failed]})
	f.count_of(findings, "verify.mandatory-checks") == 2
	f.says(findings, "verify.mandatory-checks", "mandatory check login: failed (login failed)")
	f.says(findings, "verify.mandatory-checks", "mandatory check api-me: error (api-me error)")
	every finding in findings {
		finding.evidence == [failed.digest]
	}
}

test_mandatory_checks_reads_the_latest_verification if {
	findings := verify.findings with input as f.with_evidence("verify", {"Verification": [
		f.verification({}),
		f.verification({"home": "failed"}),
	]})
	f.says(findings, "verify.mandatory-checks", "mandatory check home: failed")
}

test_mandatory_checks_fires_on_a_missing_check if {
	trimmed := json.remove(f.verification({}), ["data/checks/4"])
	findings := verify.findings with input as f.with_evidence("verify", {"Verification": [trimmed]})
	f.says(findings, "verify.mandatory-checks", "mandatory check error-spike: missing from the latest Verification")
}

test_mandatory_checks_reports_a_status_without_message if {
	bare := json.remove(f.verification({"logout": "skipped"}), ["data/checks/2/message"])
	findings := verify.findings with input as f.with_evidence("verify", {"Verification": [bare]})
	f.says(findings, "verify.mandatory-checks", "mandatory check logout: skipped")
}

test_mandatory_checks_fires_without_verification if {
	findings := verify.findings with input as f.with_evidence("verify", {"Verification": []})
	f.count_of(findings, "verify.mandatory-checks") == 5
	f.says(findings, "verify.mandatory-checks", "mandatory check home: no Verification evidence")
}

test_mandatory_checks_obliges_rollback if {
	obligations := verify.obligations with input as f.with_evidence("verify", {"Verification": [f.verification({"logout": "failed", "home": "failed"})]})
	obligations == {{
		"kind": "rollback",
		"rule": "verify.mandatory-checks",
		"message": "rollback now: mandatory checks not passed: home, logout",
	}}
}

# verify.mandatory-checks: ties among the newest Verification

# collected(doc, name, at) is doc under another digest, collected at at.
collected(doc, name, at) := object.union(doc, {"digest": f.digest(name), "collectedAt": at})

test_mandatory_checks_on_a_tie_a_failure_in_any_counts if {
	failed := f.verification({"home": "failed"})
	passed := f.verification({})

	# Both are collected at the same time; the passed one is last (digest order).
	findings := verify.findings with input as f.with_evidence("verify", {"Verification": [failed, passed]})
	f.count_of(findings, "verify.mandatory-checks") == 1
	some finding in findings
	finding.message == "mandatory check home: failed (home failed)"
	finding.evidence == sort([failed.digest, passed.digest])
}

test_mandatory_checks_on_a_tie_names_every_problem if {
	trimmed := collected(json.remove(f.verification({}), ["data/checks/0"]), "trimmed", "2026-11-26T10:00:00Z")
	findings := verify.findings with input as f.with_evidence("verify", {"Verification": [f.verification({"home": "error"}), trimmed]})
	f.says(findings, "verify.mandatory-checks", "mandatory check home: error (home error); missing from the latest Verification")
}

test_mandatory_checks_quiet_when_a_newer_verification_passed if {
	newer := collected(f.verification({}), "newer", "2026-11-26T10:09:00Z")
	findings := verify.findings with input as f.with_evidence("verify", {"Verification": [f.verification({"home": "failed"}), newer]})
	count(findings) == 0
}

test_mandatory_checks_a_duplicate_failed_check_counts if {
	doubled := object.union(f.verification({}), {"data": {"checks": array.concat(
		f.verification({}).data.checks,
		[f.check("login", "failed")],
	)}})
	findings := verify.findings with input as f.with_evidence("verify", {"Verification": [doubled]})
	f.says(findings, "verify.mandatory-checks", "mandatory check login: failed (login failed)")
}

# verify.mandatory-checks: only Verifications started after the deploy count

# started(doc, name, at) is doc under another digest, started at at.
started(doc, name, at) := object.union(doc, {"digest": f.digest(name), "data": {"startedAt": at}})

test_mandatory_checks_ignores_verification_started_before_the_deploy_finished if {
	early := started(f.verification({}), "early", "2026-11-26T10:06:07Z")
	findings := verify.findings with input as f.with_evidence("verify", {"Verification": [early]})
	f.count_of(findings, "verify.mandatory-checks") == 5
	short := substring(trim_prefix(early.digest, "sha256:"), 0, 12)
	message := sprintf(
		"mandatory check home: no Verification started after the deploy finished (ignored Verification that started before the newest succeeded Deploy finished (2026-11-26T10:06:08Z): %s (started 2026-11-26T10:06:07Z))",
		[short],
	)
	some finding in findings
	finding.message == message
	finding.evidence == [early.digest]
}

test_mandatory_checks_counts_verification_started_when_the_deploy_finished if {
	on_time := started(f.verification({}), "on-time", "2026-11-26T10:06:08Z")
	findings := verify.findings with input as f.with_evidence("verify", {"Verification": [on_time]})
	count(findings) == 0
}

test_mandatory_checks_names_ignored_verifications_when_firing if {
	early := started(f.verification({}), "early", "2026-11-26T10:05:00Z")
	findings := verify.findings with input as f.with_evidence("verify", {"Verification": [early, f.verification({"login": "failed"})]})
	f.count_of(findings, "verify.mandatory-checks") == 1
	f.says(findings, "verify.mandatory-checks", "mandatory check login: failed (login failed) (ignored Verification that started before the newest succeeded Deploy finished")
}

test_mandatory_checks_quiet_with_an_ignored_early_failure if {
	early := started(f.verification({"home": "failed"}), "early", "2026-11-26T10:05:00Z")
	findings := verify.findings with input as f.with_evidence("verify", {"Verification": [early, f.verification({})]})
	count(findings) == 0
}

test_mandatory_checks_counts_nothing_without_a_succeeded_deploy if {
	findings := verify.findings with input as f.with_evidence("verify", {"Deploy": [f.deploy_request]})
	f.count_of(findings, "verify.mandatory-checks") == 5
	f.says(findings, "verify.mandatory-checks", "mandatory check home: no Verification started after the deploy finished (ignored Verification, as no Deploy succeeded: ")
}

test_mandatory_checks_ties_to_the_newest_succeeded_deploy if {
	redeployed := object.union(f.deployed(9), {
		"collectedAt": "2026-11-26T10:08:10Z",
		"data": {"finishedAt": "2026-11-26T10:08:00Z"},
	})
	findings := verify.findings with input as f.with_evidence("verify", {"Deploy": [f.deploy_request, f.deployed(8), redeployed]})
	f.says(findings, "verify.mandatory-checks", "finished (2026-11-26T10:08:00Z)")
}

# verify.deploy-succeeded

test_deploy_succeeded_quiet_after_a_succeeded_deploy if {
	findings := verify.findings with input as f.input_for("complete")
	not "verify.deploy-succeeded" in f.fired(findings)
}

test_deploy_succeeded_fires_on_a_requested_deploy if {
	findings := verify.findings with input as f.with_evidence("verify", {"Deploy": [f.deploy_request]})
	some finding in findings
	finding.rule == "verify.deploy-succeeded"
	finding.message == "the newest Deploy (collected 2026-11-26T10:00:00Z by alice) has status requested, not succeeded: a failed or only requested deploy cannot be verified or completed"
	finding.evidence == [f.deploy_request.digest]
}

test_deploy_succeeded_fires_on_a_failed_deploy_after_a_succeeded_one if {
	failed := object.union(f.deploy_failed, {"collectedAt": "2026-11-26T10:20:00Z"})
	findings := verify.findings with input as f.with_evidence("complete", {"Deploy": [f.deploy_request, f.deployed(8), failed]})
	f.count_of(findings, "verify.deploy-succeeded") == 1
	f.says(findings, "verify.deploy-succeeded", "the newest Deploy (collected 2026-11-26T10:20:00Z by alice) failed with exit code 1")
}

test_deploy_succeeded_fires_on_a_failed_deploy_in_the_newest_tie if {
	# The failed and the succeeded deploy are collected at the same time; the
	# succeeded one is last, but the worst of the tie counts.
	findings := verify.findings with input as f.with_evidence("verify", {"Deploy": [f.deploy_request, f.deploy_failed, f.deployed(8)]})
	f.count_of(findings, "verify.deploy-succeeded") == 1
	f.says(findings, "verify.deploy-succeeded", "failed with exit code 1")
}

test_deploy_succeeded_fires_without_deploy if {
	findings := verify.findings with input as f.with_evidence("verify", {"Deploy": []})
	f.says(findings, "verify.deploy-succeeded", "no Deploy evidence")
}

# At the verify and complete gates the Deploy that ran is compared with what
# the deploy gate approved (issue #14).

ran(patch) := object.union(f.deployed(8), {"data": patch})

test_deploy_succeeded_fires_on_a_non_zero_exit_code if {
	deployed := ran({"exitCode": 1})
	findings := verify.findings with input as f.with_evidence("verify", {"Deploy": [f.deploy_request, deployed]})
	f.says(findings, "verify.deploy-succeeded", "the Deploy collected 2026-11-26T10:06:10Z by alice is recorded succeeded, but its command exited 1: it is not a succeeded deploy")
}

test_deploy_succeeded_fires_on_a_deploy_that_finished_before_it_started if {
	deployed := ran({"startedAt": "2026-11-26T10:06:09Z"})
	findings := verify.findings with input as f.with_evidence("verify", {"Deploy": [f.deploy_request, deployed]})
	f.says(findings, "verify.deploy-succeeded", "is recorded succeeded, but finished (2026-11-26T10:06:08Z) before it started (2026-11-26T10:06:09Z)")
}

test_mandatory_checks_fire_on_a_verification_that_finished_before_it_started if {
	inverted := object.union(f.verification({}), {"data": {"finishedAt": "2026-11-26T10:06:30Z"}})
	findings := verify.findings with input as f.with_evidence("verify", {"Verification": [inverted]})
	f.count_of(findings, "verify.mandatory-checks") == 5
	f.says(findings, "verify.mandatory-checks", "mandatory check home: the Verification finished (2026-11-26T10:06:30Z) before it started (2026-11-26T10:07:00Z), so it does not count")
}
