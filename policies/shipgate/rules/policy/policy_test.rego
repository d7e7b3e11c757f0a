package shipgate.rules.policy_test

import data.shipgate.gates
import data.shipgate.lib.fixtures as f
import data.shipgate.rules.policy

# policy.data-missing

test_data_missing_quiet_with_the_default_data if {
	every gate in ["deploy", "verify", "complete", "flag"] {
		count(policy.findings) == 0 with input as f.input_for(gate)
	}
}

test_data_missing_fires_for_each_missing_key if {
	findings := policy.findings with input as f.input_for("deploy")
		with data.shipgate.config as {"approvers": ["alice"]}
	f.count_of(findings, "policy.data-missing") == 9
	f.says(findings, "policy.data-missing", "policy data environments is absent, not a non-empty list of names")
	f.says(findings, "policy.data-missing", "policy data incidents.blocking_severities is absent, not a non-empty list of names")
	f.says(findings, "policy.data-missing", "policy data runbook.max_review_age_days is absent, not a number")
	not f.says(findings, "policy.data-missing", "policy data approvers")
}

test_data_missing_fires_for_unusable_values if {
	findings := policy.findings with input as f.input_for("deploy")
		with data.shipgate.config.approvers as []
		with data.shipgate.config.freeze.environments as "production"
		with data.shipgate.config.runbook.max_review_age_days as "30"
	f.says(findings, "policy.data-missing", "policy data approvers is [], not a non-empty list of names")
	f.says(findings, "policy.data-missing", "policy data freeze.environments is production, not a list of names")
	f.says(findings, "policy.data-missing", "policy data runbook.max_review_age_days is 30, not a number")
}

test_data_missing_fires_for_an_undeclared_frozen_environment if {
	findings := policy.findings with input as f.input_for("deploy")
		with data.shipgate.config.freeze.environments as ["Production"]
	f.says(findings, "policy.data-missing", "policy data freeze.environments names \"Production\", which is not one of environments (production, staging): the freeze would apply to nothing")
}

test_data_missing_fires_for_unusable_identities if {
	shared := policy.findings with input as f.input_for("deploy")
		with data.shipgate.config.identities as {"bob": ["ops"], "dave": ["OPS "]}
	f.says(shared, "policy.data-missing", "policy data identities lists \"ops\" for bob and dave: a name stands for one person only")
	canonical := policy.findings with input as f.input_for("deploy")
		with data.shipgate.config.identities as {"alice": ["bob"], "bob": []}
	f.says(canonical, "policy.data-missing", "identities lists \"bob\" for alice and bob")
	not_a_list := policy.findings with input as f.input_for("deploy")
		with data.shipgate.config.identities as {"alice": "alice@localizevideos.example"}
	f.says(not_a_list, "policy.data-missing", "policy data identities.alice is alice@localizevideos.example, not a list of names")
	not_a_map := policy.findings with input as f.input_for("deploy")
		with data.shipgate.config.identities as ["alice"]
	f.says(not_a_map, "policy.data-missing", "policy data identities is not a map from a person to their other names")
}

decide("deploy") := gates.deploy.decision

decide("verify") := gates.verify.decision

decide("complete") := gates.complete.decision

decide("flag") := gates.flag.decision

# Without any data, the rules alone would find nothing to object to in an
# open SEV-1: the decision denies instead, at every gate.
test_no_data_denies_every_gate if {
	sev1 := f.with_evidence("deploy", {"IncidentStatus": [f.incidents([f.incident("INC-42", "SEV-1", "open")])]})
	decision := gates.deploy.decision with input as sev1 with data.shipgate.config as {}
	decision.allow == false
	"policy.data-missing" in {v.rule | some v in decision.violations}
	every gate in ["deploy", "verify", "complete", "flag"] {
		d := decide(gate) with input as f.input_for(gate) with data.shipgate.config as {}
		d.allow == false
		"policy.data-missing" in {v.rule | some v in d.violations}
	}
}
