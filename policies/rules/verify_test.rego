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
