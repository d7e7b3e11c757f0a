package shipgate.rules.freeze_test

import data.shipgate.lib.fixtures as f
import data.shipgate.rules.freeze

plan_findings(plan) := findings if {
	findings := freeze.findings with input as f.with_evidence("deploy", {"Plan": [plan]})
}

test_happy_frozen_release_fires_nothing if {
	findings := freeze.findings with input as f.input_for("deploy")
	count(findings) == 0
}

# freeze.unplanned

test_unplanned_fires_without_ticket_or_window if {
	findings := plan_findings(f.plan_without(["changeTicket", "window"]))
	f.says(findings, "freeze.unplanned", "production is frozen: latest Plan has no changeTicket")
	f.says(findings, "freeze.unplanned", "production is frozen: latest Plan has no window")
}

test_unplanned_fires_outside_the_window if {
	findings := plan_findings(f.plan_with({"window": {"start": "2026-11-26T10:05:00Z", "end": "2026-11-26T10:05:00Z"}}))
	f.says(findings, "freeze.unplanned", "now (2026-11-26T10:05:00Z) is outside the planned window 2026-11-26T10:05:00Z to 2026-11-26T10:05:00Z of CHG-1234")
}

test_unplanned_quiet_at_window_start if {
	findings := plan_findings(f.plan_with({"window": {"start": "2026-11-26T10:05:00Z", "end": "2026-11-26T10:06:00Z"}}))
	not "freeze.unplanned" in f.fired(findings)
}

test_unplanned_quiet_outside_frozen_environments if {
	findings := freeze.findings with input as f.with_evidence("deploy", {"Plan": [f.plan_without(["changeTicket"])]})
		with data.shipgate.config.freeze.environments as []
	count(findings) == 0
}

test_unplanned_quiet_on_emergency_path if {
	plan := json.remove(f.emergency_plan("INC-42"), ["data/changeTicket", "data/window"])
	findings := freeze.findings with input as f.with_evidence("deploy", f.emergency_evidence(plan))
	count(findings) == 0
}

# freeze.undocumented

test_undocumented_fires_without_runbook_or_release_notes if {
	findings := plan_findings(f.plan_without(["documentation"]))
	f.says(findings, "freeze.undocumented", "latest Plan has no documentation.runbook.url")
	f.says(findings, "freeze.undocumented", "latest Plan has no documentation.releaseNotes.url")
}

test_undocumented_quiet_when_documented if {
	findings := plan_findings(f.plan)
	not "freeze.undocumented" in f.fired(findings)
}

# freeze.unverified

test_unverified_fires_without_ci_or_passed_build if {
	findings := freeze.findings with input as f.with_evidence("deploy", {
		"Plan": [f.plan_with({"ci": {"status": "failed"}})],
		"Build": [f.build("failed", 1)],
	})
	f.says(findings, "freeze.unverified", "the Plan's CI status is failed and there is no passed Build")
}

test_unverified_quiet_with_a_passed_build if {
	findings := plan_findings(f.plan_without(["ci"]))
	not "freeze.unverified" in f.fired(findings)
}

test_unverified_quiet_with_ci_passed if {
	findings := freeze.findings with input as f.with_evidence("deploy", {"Build": []})
	not "freeze.unverified" in f.fired(findings)
}

# freeze.hard-window

test_hard_window_fires_in_a_freeze_window if {
	findings := freeze.findings with input as f.patched("deploy", {"facts": f.hard_freeze})
	f.says(findings, "freeze.hard-window", "hard freeze in effect: year-end-2026 \"Year-end freeze\" (2026-12-22T00:00:00Z to 2027-01-04T00:00:00Z)")
}

test_hard_window_quiet_outside_freeze_windows if {
	findings := freeze.findings with input as f.input_for("deploy")
	not "freeze.hard-window" in f.fired(findings)
}

test_hard_window_quiet_outside_frozen_environments if {
	findings := freeze.findings with input as f.patched("deploy", {"facts": f.hard_freeze})
		with data.shipgate.config.freeze.environments as ["staging"]
	not "freeze.hard-window" in f.fired(findings)
}

test_hard_window_quiet_on_emergency_path if {
	findings := freeze.findings with input as f.patched("deploy", {
		"facts": f.hard_freeze,
		"evidence": f.emergency_evidence(f.emergency_plan("INC-42")),
	})
	not "freeze.hard-window" in f.fired(findings)
}

# freeze.emergency-unapproved

test_emergency_unapproved_fires_on_self_approval if {
	findings := freeze.findings with input as f.with_evidence("deploy", object.union(
		f.emergency_evidence(f.emergency_plan("INC-42")),
		{"Approval": [f.approval("alice", "approved")]},
	))
	f.count_of(findings, "freeze.emergency-unapproved") == 1
	f.says(findings, "freeze.emergency-unapproved", "emergency release for incident INC-42 has no valid deploy approval: alice is the deployer: self-approval does not count")
}

test_emergency_unapproved_quiet_with_approval if {
	findings := freeze.findings with input as f.with_evidence("deploy", f.emergency_evidence(f.emergency_plan("INC-42")))
	count(findings) == 0
}

test_emergency_unapproved_fires_for_an_incident_not_in_the_list if {
	# The default incident list has INC-40 and INC-39: INC-42 is unknown, so
	# the emergency path is not taken and the freeze applies again.
	plan := json.remove(f.emergency_plan("INC-42"), ["data/changeTicket"])
	findings := freeze.findings with input as f.with_evidence("deploy", {"Plan": [plan]})
	some finding in findings
	finding.rule == "freeze.emergency-unapproved"
	finding.message == "emergency release names incident INC-42, which is not in the incident list of the newest IncidentStatus (INC-39, INC-40), so the emergency path is not taken"
	finding.evidence == [plan.digest, f.incident_status.digest]
	f.count_of(findings, "freeze.emergency-unapproved") == 1
	f.says(findings, "freeze.unplanned", "latest Plan has no changeTicket")
}

test_emergency_unapproved_fires_without_incident_status if {
	findings := freeze.findings with input as f.with_evidence("deploy", {"Plan": [f.emergency_plan("INC-42")], "IncidentStatus": []})
	f.says(findings, "freeze.emergency-unapproved", "emergency release names incident INC-42, but there is no IncidentStatus evidence to find it in")
}

test_emergency_unapproved_fires_when_a_newest_tie_lacks_the_incident if {
	findings := freeze.findings with input as f.with_evidence("deploy", {
		"Plan": [f.emergency_plan("INC-42")],
		"IncidentStatus": [f.incident_status, f.emergency_incidents],
	})
	f.says(findings, "freeze.emergency-unapproved", "not in the incident list of the newest IncidentStatus (INC-39, INC-40, INC-42)")
}

# An emergency is for an open incident of a blocking severity: one for a
# resolved incident (before #14 this was allowed) or a SEV-4 lifts nothing.
test_emergency_unapproved_fires_for_a_resolved_or_minor_incident if {
	findings := freeze.findings with input as f.with_evidence("deploy", {
		"Plan": [f.emergency_plan("INC-39")],
		"IncidentStatus": [f.incident_status],
	})
	f.says(findings, "freeze.emergency-unapproved", "emergency release names incident INC-39, which the newest IncidentStatus lists as resolved SEV-1, not an open incident of a blocking severity (SEV-1, SEV-2)")
	minor := freeze.findings with input as f.with_evidence("deploy", {
		"Plan": [f.emergency_plan("INC-41")],
		"IncidentStatus": [f.incidents([f.incident("INC-41", "SEV-4", "open")])],
	})
	f.says(minor, "freeze.emergency-unapproved", "lists as open SEV-4, not an open incident")
}

test_emergency_for_a_minor_incident_does_not_lift_the_hard_freeze if {
	findings := freeze.findings with input as f.patched("deploy", {
		"facts": f.hard_freeze,
		"evidence": {"Plan": [f.emergency_plan("INC-41")], "IncidentStatus": [f.incidents([f.incident("INC-41", "SEV-4", "open")])]},
	})
	f.says(findings, "freeze.hard-window", "hard freeze in effect")
	f.says(findings, "freeze.emergency-unapproved", "INC-41")
}

test_emergency_for_an_incident_resolved_later_is_taken if {
	# Resolved at a time still to come: still open, so still an emergency.
	later := object.union(f.incident("INC-42", "SEV-1", "resolved"), {"resolvedAt": "2026-11-26T12:00:00Z"})
	findings := freeze.findings with input as f.patched("deploy", {
		"facts": f.hard_freeze,
		"evidence": {"Plan": [f.emergency_plan("INC-42")], "IncidentStatus": [f.incidents([later])]},
	})
	count(findings) == 0
}

test_emergency_unapproved_fires_for_a_blank_justification if {
	plan := f.plan_with({"emergency": {"incident": "INC-42", "justification": "          "}})
	findings := freeze.findings with input as f.patched("deploy", {
		"facts": f.hard_freeze,
		"evidence": f.emergency_evidence(plan),
	})
	f.says(findings, "freeze.emergency-unapproved", "emergency release for incident INC-42 has no justification, only spaces")
	f.says(findings, "freeze.hard-window", "hard freeze in effect")
}

test_emergency_unapproved_fires_when_tied_plans_disagree if {
	other := object.union(f.emergency_plan("INC-43"), {"digest": f.digest("plan-inc-43")})
	findings := freeze.findings with input as f.with_evidence("deploy", {
		"Plan": [f.emergency_plan("INC-42"), other],
		"IncidentStatus": [f.incidents([f.incident("INC-42", "SEV-1", "open"), f.incident("INC-43", "SEV-1", "open")])],
	})
	f.says(findings, "freeze.emergency-unapproved", "do not declare one emergency (incidents: INC-42, INC-43)")
}

# Required free text of only spaces counts as missing.
test_blank_ticket_and_links_count_as_missing if {
	findings := plan_findings(f.plan_with({
		"changeTicket": "   ",
		"documentation": {"runbook": {"url": " "}, "releaseNotes": {"url": "\t"}},
	}))
	f.says(findings, "freeze.unplanned", "latest Plan has no changeTicket")
	f.says(findings, "freeze.undocumented", "latest Plan has no documentation.runbook.url")
	f.says(findings, "freeze.undocumented", "latest Plan has no documentation.releaseNotes.url")
	outside := plan_findings(f.plan_with({"changeTicket": " ", "window": {"start": "2026-11-26T11:00:00Z", "end": "2026-11-26T12:00:00Z"}}))
	f.says(outside, "freeze.unplanned", "outside the planned window 2026-11-26T11:00:00Z to 2026-11-26T12:00:00Z of the Plan")
}
