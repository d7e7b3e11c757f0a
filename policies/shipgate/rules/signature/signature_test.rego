package shipgate.rules.signature_test

import data.shipgate.lib.fixtures as f
import data.shipgate.rules.signature

ci_key := "sha256:1111111111111111111111111111111111111111111111111111111111111111"

laptop_key := "sha256:2222222222222222222222222222222222222222222222222222222222222222"

required := {"required_kinds": ["Build", "Deploy"], "trusted_keys": {}}

pinned := {"required_kinds": ["Build", "Deploy"], "trusted_keys": {ci_key: "CI runner"}}

signed(doc, keys) := object.union(doc, {"signed_by": keys})

input_with(build, deploy) := f.with_evidence("deploy", {"Build": [build], "Deploy": [deploy]})

test_quiet_when_nothing_is_required if {
	findings := signature.findings with input as input_with(f.build("passed", 0), f.deploy_request)
		with data.shipgate.config.signing as {"required_kinds": [], "trusted_keys": {}}
	count(findings) == 0
}

test_quiet_without_signing_data if {
	findings := signature.findings with input as input_with(f.build("passed", 0), f.deploy_request)
		with data.shipgate.config as {}
	count(findings) == 0
}

test_denies_unsigned_build_and_deploy if {
	findings := signature.findings with input as input_with(f.build("passed", 0), f.deploy_request)
		with data.shipgate.config.signing as required
	f.count_of(findings, "signature.required") == 2
	f.says(findings, "signature.required", "is not signed: it came as a bare document")
	some finding in findings
	finding.evidence == [f.build("passed", 0).digest]
	startswith(finding.message, "Build ")
}

test_allows_signed_by_any_verified_key_when_none_is_pinned if {
	findings := signature.findings with input as input_with(signed(f.build("passed", 0), [laptop_key]), signed(f.deploy_request, [ci_key]))
		with data.shipgate.config.signing as required
	count(findings) == 0
}

test_allows_signed_by_a_pinned_key if {
	findings := signature.findings with input as input_with(signed(f.build("passed", 0), [laptop_key, ci_key]), signed(f.deploy_request, [ci_key]))
		with data.shipgate.config.signing as pinned
	count(findings) == 0
}

test_denies_a_key_that_is_not_pinned if {
	findings := signature.findings with input as input_with(signed(f.build("passed", 0), [laptop_key]), signed(f.deploy_request, [ci_key]))
		with data.shipgate.config.signing as pinned
	f.count_of(findings, "signature.required") == 1
	f.says(findings, "signature.required", concat("", ["is signed by ", laptop_key, ", none of them in signing.trusted_keys (", ci_key, ")"]))
}

test_denies_an_unsigned_copy_beside_a_signed_one if {
	mixed := f.with_evidence("deploy", {"Build": [signed(f.build("passed", 0), [ci_key]), f.build("failed", 1)], "Deploy": [signed(f.deploy_request, [ci_key])]})
	findings := signature.findings with input as mixed
		with data.shipgate.config.signing as required
	f.count_of(findings, "signature.required") == 1
}

test_service_signing_overrides_the_default if {
	findings := signature.findings with input as input_with(f.build("passed", 0), f.deploy_request)
		with data.shipgate.config.signing as required
		with data.shipgate.config.services["localizevideos-app"].signing as {"required_kinds": []}
	count(findings) == 0
}

test_decision_denies_unsigned_build_at_the_deploy_gate if {
	decision := data.shipgate.gates.deploy.decision with input as f.input_for("deploy")
		with data.shipgate.config.signing as required
	not decision.allow
	some v in decision.violations
	v.rule == "signature.required"
	v.enforcement == "hard"
}
