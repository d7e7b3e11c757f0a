package shipgate.lib_test

import data.shipgate.lib
import data.shipgate.lib.fixtures as f

test_newest_is_every_document_of_the_newest_tie if {
	# Both Builds are collected at 10:00: a tie.
	tie := [f.build("failed", 1), f.build("passed", 0)]
	lib.newest("Build") == tie with input as f.with_evidence("deploy", {"Build": tie})
	later := object.union(f.build("passed", 0), {"collectedAt": "2026-11-26T10:01:00Z"})
	lib.newest("Build") == [later] with input as f.with_evidence("deploy", {"Build": [later, f.build("failed", 1)]})
	lib.newest("Rollback") == [] with input as f.input_for("deploy")
}

test_plans_stand_in_without_a_plan if {
	lib.plans == [{"data": {}}] with input as f.with_evidence("deploy", {"Plan": []})
	lib.cited({"data": {}}) == []
	lib.lacks({"data": {}}, "Plan", "window") == "no Plan evidence, so no window"
	lib.lacks(f.plan, "Plan", "window") == "latest Plan has no window"
}

test_digests_do_not_follow_the_input_order if {
	a := f.approval("bob", "approved")
	b := f.approval("carol", "approved")
	lib.digests([a, b]) == lib.digests([b, a])
}

test_deployers_are_the_newest_deploy_actors if {
	later := object.union(f.deploy_with({"actor": "bob"}), {"collectedAt": "2026-11-26T10:01:00Z"})
	every gate in ["deploy", "verify", "complete"] {
		lib.deployers == {"bob"} with input as f.patched(gate, {"evidence": {"Deploy": [f.deploy_request, later]}})
	}
}

test_deployers_on_a_tie_are_every_actor if {
	# Collected at the same time: each actor is a deployer, so neither may approve.
	tied := f.deploy_with({"actor": "bob"})
	lib.deployers == {"alice", "bob"} with input as f.with_evidence("deploy", {"Deploy": [f.deploy_request, tied]})
	not lib.independent("bob") with input as f.with_evidence("deploy", {"Deploy": [f.deploy_request, tied]})
	not lib.independent("alice") with input as f.with_evidence("deploy", {"Deploy": [tied, f.deploy_request]})
}

test_deployer_at_the_flag_gate_is_the_flag_actor if {
	change := object.union(f.flag_change("toggle"), {"data": {"actor": "carol"}})
	lib.deployers == {"carol"} with input as f.with_evidence("flag", {"FlagChange": [change], "Deploy": [f.deploy_request]})
}

test_no_deployer_without_evidence if {
	lib.deployers == set() with input as f.with_evidence("deploy", {"Deploy": []})
	lib.deployers == set() with input as f.with_evidence("flag", {"FlagChange": []})
}

test_valid_approvals_keep_only_independent_approvals_for_the_gate if {
	approvals := [
		f.approval("bob", "approved"),
		f.approval("alice", "approved"),
		f.approval("dave", "approved"),
		f.approval("carol", "rejected"),
		f.approval_for("carol", "approved", "verify"),
	]
	valid := lib.valid_approvals("deploy") with input as f.with_evidence("deploy", {"Approval": approvals})
	lib.digests(valid) == [f.approval("bob", "approved").digest]
}

test_no_approval_counts_without_a_deployer if {
	not lib.approved("deploy") with input as f.with_evidence("deploy", {"Deploy": []})
}

test_emergency_needs_plan_approval_and_a_listed_incident if {
	evidence := f.emergency_evidence(f.emergency_plan("INC-42"))
	lib.emergency with input as f.with_evidence("deploy", evidence)
	not lib.emergency with input as f.input_for("deploy")
	not lib.emergency with input as f.with_evidence("deploy", object.union(evidence, {"Approval": []}))
}

test_emergency_needs_the_incident_in_the_newest_incident_status if {
	# The default list has INC-40 and INC-39, not INC-42.
	not lib.emergency with input as f.with_evidence("deploy", {"Plan": [f.emergency_plan("INC-42")]})
	not lib.emergency with input as f.with_evidence("deploy", {"Plan": [f.emergency_plan("INC-42")], "IncidentStatus": []})

	# Listed in an older IncidentStatus only: the newest is the current list.
	newer := object.union(f.incident_status, {"collectedAt": "2026-11-26T10:02:00Z"})
	older := {"Plan": [f.emergency_plan("INC-42")], "IncidentStatus": [f.emergency_incidents, newer]}
	not lib.emergency with input as f.with_evidence("deploy", older)

	# A resolved incident is known, but no emergency (before #14 it was one).
	resolved := f.incidents([f.incident("INC-42", "SEV-1", "resolved")])
	lib.incident_listed("INC-42") with input as f.with_evidence("deploy", {"IncidentStatus": [resolved]})
	not lib.emergency with input as f.with_evidence("deploy", {"Plan": [f.emergency_plan("INC-42")], "IncidentStatus": [resolved]})
}

test_emergency_on_a_tie_needs_the_incident_in_every_newest_status if {
	tie := {"Plan": [f.emergency_plan("INC-42")], "IncidentStatus": [f.emergency_incidents, f.incident_status]}
	not lib.emergency with input as f.with_evidence("deploy", tie)
	lib.newest("IncidentStatus") == [f.emergency_incidents, f.incident_status] with input as f.with_evidence("deploy", tie)
}

test_time_helpers if {
	lib.rfc3339(lib.ns("2026-11-26T11:05:00+01:00")) == "2026-11-26T10:05:00Z"
	lib.age_days("2026-11-24T10:05:01Z") == 1 with input as f.input_for("deploy")
	lib.within("2026-11-26T10:05:00Z", "2026-11-26T10:05:01Z") with input as f.input_for("deploy")
	not lib.within("2026-11-26T10:00:00Z", "2026-11-26T10:05:00Z") with input as f.input_for("deploy")
}

test_message_helpers if {
	lib.join([]) == "none"
	lib.join(["a", "b"]) == "a, b"
	lib.argv(["npm", "run", "build"]) == "`npm run build`"
	lib.short(f.commit) == "3f2c9a0e5b1d"
}

test_identity_folds_case_space_and_aliases if {
	lib.identity(" Alice ") == {"alice"}
	lib.identity("ALICE@localizevideos.example") == {"alice"}
	lib.identity("alice smith") == {"alice"}
	lib.identity("Mallory") == {"mallory"}
	lib.is_approver("Bob")
	not lib.is_approver("dave@localizevideos.example")
	lib.identity("ops") == {"bob", "dave"} with data.shipgate.config.identities as {"bob": ["ops"], "dave": ["OPS"]}
}
