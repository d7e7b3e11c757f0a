package shipgate.lib.decision_test

import data.shipgate.gates
import data.shipgate.lib.fixtures as f

deploy_decision(evidence) := decision if {
	decision := gates.deploy.decision with input as f.with_evidence("deploy", evidence)
}

rules_of(results) := {result.rule | some result in results}

# A soft rule (checklist.error-budget) with a spent budget.
spent_budget := f.plan_with({"errorBudget": {"remaining": -0.1}})

# Soft violations and overrides

test_soft_violation_denies if {
	decision := deploy_decision({"Plan": [spent_budget]})
	decision.allow == false
	rules_of(decision.violations) == {"checklist.error-budget"}
}

test_soft_violation_is_lifted_by_a_valid_override if {
	override := f.override_by("checklist.error-budget", "carol")
	decision := deploy_decision({"Plan": [spent_budget], "Override": [override]})
	decision.allow == true
	decision.violations == []
	[entry] := decision.overridden
	entry.rule == "checklist.error-budget"
	entry.enforcement == "soft"
	entry.override == override.digest
	entry.approver == "carol"
	entry.title == "Error budget available"
}

test_the_newest_valid_override_is_named if {
	older := f.override_by("checklist.error-budget", "carol")
	newer := f.override_by("checklist.error-budget", "bob")
	decision := deploy_decision({"Plan": [spent_budget], "Override": [older, newer]})
	decision.overridden[0].override == newer.digest
}

test_override_for_this_gate_counts if {
	override := f.override_doc("checklist.error-budget", "carol", "2026-11-27T10:00:00Z", "deploy")
	decision := deploy_decision({"Plan": [spent_budget], "Override": [override]})
	decision.allow == true
}

test_hard_violation_is_never_lifted if {
	decision := deploy_decision({
		"Deploy": [f.deploy_with({"source": {"clean": false}})],
		"Override": [f.override_by("forbidden.hot-patch", "carol")],
	})
	decision.allow == false
	rules_of(decision.violations) == {"forbidden.hot-patch"}
	decision.overridden == []
}

test_override_by_the_deployer_does_not_count if {
	decision := deploy_decision({"Plan": [spent_budget], "Override": [f.override_by("checklist.error-budget", "alice")]})
	decision.allow == false
	decision.overridden == []
}

test_override_by_a_non_approver_does_not_count if {
	decision := deploy_decision({"Plan": [spent_budget], "Override": [f.override_by("checklist.error-budget", "mallory")]})
	decision.allow == false
}

test_expired_override_does_not_count if {
	expired := f.override_doc("checklist.error-budget", "carol", "2026-11-26T10:05:00Z", "")
	decision := deploy_decision({"Plan": [spent_budget], "Override": [expired]})
	decision.allow == false
}

test_override_for_another_gate_or_rule_does_not_count if {
	other_gate := f.override_doc("checklist.error-budget", "carol", "2026-11-27T10:00:00Z", "complete")
	other_rule := f.override_by("checklist.runbook-reviewed", "carol")
	decision := deploy_decision({"Plan": [spent_budget], "Override": [other_gate, other_rule]})
	decision.allow == false
}

test_enforcement_data_can_make_a_hard_rule_soft if {
	decision := gates.deploy.decision with input as f.with_evidence("deploy", {
		"Deploy": [f.deploy_with({"source": {"clean": false}})],
		"Override": [f.override_by("forbidden.hot-patch", "carol")],
	})
		with data.shipgate.config.enforcement as {"forbidden.hot-patch": "soft"}
	decision.allow == true
	rules_of(decision.overridden) == {"forbidden.hot-patch"}
}

# Advisory rules

big_change := f.plan_with({"changeSize": {"filesChanged": 40, "linesAdded": 900, "linesDeleted": 100}})

test_advisory_goes_to_warnings if {
	decision := deploy_decision({"Plan": [big_change]})
	decision.allow == true
	decision.violations == []
	[warning] := decision.warnings
	warning.rule == "change.size"
	warning.enforcement == "advisory"
	warning.evidence == [big_change.digest]
	warning.remediation != ""
}

test_enforcement_data_can_make_an_advisory_rule_deny if {
	decision := gates.deploy.decision with input as f.with_evidence("deploy", {"Plan": [big_change]})
		with data.shipgate.config.enforcement as {"change.size": "hard"}
	decision.allow == false
	decision.violations[0].enforcement == "hard"
	decision.warnings == []
}

# The emergency path

emergency_input := f.patched("deploy", {
	"facts": f.hard_freeze,
	"evidence": {
		"Plan": [json.remove(f.emergency_plan("INC-42"), ["data/window", "data/changeTicket"])],
		"IncidentStatus": [f.incidents([f.incident("INC-42", "SEV-1", "open")])],
	},
})

test_emergency_path_lifts_freeze_and_incident_and_requires_a_postmortem if {
	decision := gates.deploy.decision with input as emergency_input
	decision.allow == true
	decision.violations == []
	decision.obligations == [{
		"kind": "postmortem",
		"rule": "freeze.emergency",
		"message": "emergency release for incident INC-42: write a postmortem within 5 days (justification: login is broken for every user; the fix is one line)",
		"due": "2026-12-01T10:05:00Z",
	}]
}

test_postmortem_due_days_come_from_data if {
	decision := gates.deploy.decision with input as emergency_input
		with data.shipgate.config.postmortem.due_days as 1
	decision.obligations[0].due == "2026-11-27T10:05:00Z"
}

test_emergency_without_approval_lifts_nothing if {
	decision := gates.deploy.decision with input as object.union(emergency_input, {"evidence": {"Approval": [f.approval("alice", "approved")]}})
	decision.allow == false
	rules_of(decision.violations) == {
		"approval.required",
		"forbidden.deploy-during-incident",
		"freeze.emergency-unapproved",
		"freeze.hard-window",
		"freeze.unplanned",
	}
	decision.obligations == []
}

test_no_postmortem_obligation_after_the_deploy_gate if {
	decision := gates.verify.decision with input as object.union(f.input_for("verify"), {"evidence": {"Plan": [f.emergency_plan("INC-42")]}})
	decision.obligations == []
}

# Obligations, ordering and applicability

test_obligations_come_from_fired_rules if {
	decision := gates.verify.decision with input as f.with_evidence("verify", {"Verification": [f.verification({"login": "failed"})]})
	decision.allow == false
	decision.obligations == [{
		"kind": "rollback",
		"rule": "verify.mandatory-checks",
		"message": "rollback now: mandatory checks not passed: login",
	}]
}

test_findings_of_other_gates_are_ignored if {
	# Monitoring breached, but monitoring.healthy belongs to the complete gate.
	decision := gates.verify.decision with input as f.with_evidence("verify", {"Monitoring": [f.monitoring("breach", [f.signal("cpu", "breach")])]})
	decision.allow == true
	decision.obligations == []
}

test_violations_are_sorted_by_rule_then_message if {
	decision := deploy_decision({"Plan": [], "Build": [], "Approval": []})
	keys := [[v.rule, v.message] | some v in decision.violations]
	keys == sort(keys)
	count(keys) > 5
	every v in decision.violations {
		object.keys(v) == {"rule", "title", "enforcement", "message", "evidence", "remediation"}
	}
}

test_finding_for_an_undeclared_rule_denies if {
	decision := gates.flag.decision with input as f.input_for("flag")
		with data.shipgate.rules.flag.findings as {{"rule": "flag.typo", "message": "oops"}}
	decision.allow == false
	decision.violations == [{
		"rule": "flag.typo",
		"title": "Finding for an undeclared rule",
		"enforcement": "hard",
		"message": "oops",
		"evidence": [],
		"remediation": "declare rules[\"flag.typo\"] (title, enforcement, gates, remediation) in the rule file",
	}]
}

test_emergency_for_an_unknown_incident_is_not_the_emergency_path if {
	# The Plan names INC-99, which the newest IncidentStatus does not list:
	# no freeze lifting, no postmortem obligation, and a finding that says why.
	unknown := object.union(emergency_input, {"evidence": {"Plan": [json.remove(f.emergency_plan("INC-99"), ["data/window", "data/changeTicket"])]}})
	decision := gates.deploy.decision with input as unknown
	decision.allow == false
	rules_of(decision.violations) == {
		"forbidden.deploy-during-incident",
		"freeze.emergency-unapproved",
		"freeze.hard-window",
		"freeze.unplanned",
	}
	some violation in decision.violations
	violation.rule == "freeze.emergency-unapproved"
	contains(violation.message, "names incident INC-99, which is not in the incident list of the newest IncidentStatus (INC-42)")
	decision.obligations == []
}

test_verify_and_complete_deny_a_failed_deploy if {
	failed := object.union(f.deploy_failed, {"collectedAt": "2026-11-26T10:20:00Z"})
	every gate in ["verify", "complete"] {
		decision := gates[gate].decision with input as object.union(f.input_for(gate), {"evidence": {"Deploy": [f.deploy_request, f.deployed(8), failed]}})
		decision.allow == false
		rules_of(decision.violations) == {"verify.deploy-succeeded"}
	}
}

# One identity per person: the deployer (alice) cannot override under an alias.
test_override_by_the_deployer_under_another_name_does_not_count if {
	every name in ["Alice", "alice@localizevideos.example", "Alice Smith"] {
		decision := deploy_decision({"Plan": [spent_budget], "Override": [f.override_by("checklist.error-budget", name)]})
		decision.allow == false
		decision.overridden == []
	}
	decision := deploy_decision({"Plan": [spent_budget], "Override": [f.override_by("checklist.error-budget", "Carol")]})
	decision.allow == true
}

# Mutants of issue #14: an Override created after now, or lasting longer than
# overrides.max_hours (24 by default), does not count.
test_override_created_in_the_future_does_not_count if {
	later := object.union(f.override_by("checklist.error-budget", "carol"), {"data": {"createdAt": "2026-11-26T10:30:00Z"}})
	decision := deploy_decision({"Plan": [spent_budget], "Override": [later]})
	decision.allow == false
	rules_of(decision.violations) == {"checklist.error-budget"}
}

test_override_for_ten_years_does_not_count if {
	decade := f.override_doc("checklist.error-budget", "carol", "2036-11-26T10:00:00Z", "")
	decision := deploy_decision({"Plan": [spent_budget], "Override": [decade]})
	decision.allow == false
	rules_of(decision.violations) == {"checklist.error-budget"}
}

test_override_max_hours_come_from_data if {
	decade := f.override_doc("checklist.error-budget", "carol", "2036-11-26T10:00:00Z", "")
	decision := gates.deploy.decision with input as f.with_evidence("deploy", {"Plan": [spent_budget], "Override": [decade]})
		with data.shipgate.config.overrides.max_hours as 87840
	decision.allow == true
}
