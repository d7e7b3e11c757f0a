package shipgate.rules.approval_test

import data.shipgate.lib.fixtures as f
import data.shipgate.rules.approval

approved_by(approvals) := findings if {
	findings := approval.findings with input as f.with_evidence("deploy", {"Approval": approvals})
}

# approval.required

test_required_quiet_with_an_independent_approval if {
	count(approved_by([f.approval("bob", "approved")])) == 0
}

test_required_fires_without_approval if {
	findings := approved_by([])
	f.says(findings, "approval.required", "no valid deploy approval: no Approval evidence for the deploy gate")
}

test_required_explains_approvals_that_did_not_count if {
	self := f.approval("alice", "approved")
	outsider := f.approval("dave", "approved")
	other_gate := f.approval_for("bob", "approved", "verify")
	findings := approved_by([self, outsider, other_gate])
	some finding in findings
	finding.rule == "approval.required"
	finding.message == "no valid deploy approval: alice is the deployer: self-approval does not count; dave is not in approvers"
	finding.evidence == [self.digest, outsider.digest]
}

test_required_fires_without_a_known_deployer if {
	findings := approval.findings with input as f.with_evidence("deploy", {"Deploy": []})
	f.says(findings, "approval.required", "no deployer is known (no Deploy evidence), so no approval counts")
}

test_required_approvers_come_from_data if {
	findings := approval.findings with input as f.input_for("deploy")
		with data.shipgate.config.approvers as ["carol"]
	f.says(findings, "approval.required", "bob is not in approvers")
}

# approval.rejected

test_rejected_fires_on_an_approver_rejection if {
	rejection := f.approval("carol", "rejected")
	findings := approved_by([f.approval("bob", "approved"), rejection])
	some finding in findings
	finding.rule == "approval.rejected"
	finding.message == "carol rejected the deploy at 2026-11-26T10:01:00Z: \"looks good\""
	finding.evidence == [rejection.digest]
	not "approval.required" in f.fired(findings)
}

test_rejected_message_without_comment if {
	rejection := json.remove(f.approval("carol", "rejected"), ["data/comment"])
	findings := approved_by([rejection])
	f.says(findings, "approval.rejected", "carol rejected the deploy at 2026-11-26T10:01:00Z")
	f.says(findings, "approval.required", "carol rejected")
}

test_rejected_quiet_for_non_approvers_and_other_gates if {
	findings := approved_by([
		f.approval("bob", "approved"),
		f.approval("mallory", "rejected"),
		f.approval_for("carol", "rejected", "flag"),
	])
	count(findings) == 0
}

# One identity per person (issue #14): names are compared trimmed and
# case-folded, and through the aliases of policy data identities.

deployed_by(actor, approvals) := findings if {
	findings := approval.findings with input as f.with_evidence("deploy", {
		"Deploy": [f.deploy_with({"actor": actor})],
		"Approval": approvals,
	})
}

test_required_fires_when_the_deployer_approves_under_another_case if {
	findings := deployed_by("Alice", [f.approval("alice", "approved")])
	f.says(findings, "approval.required", "alice is the deployer: self-approval does not count")
	f.says(deployed_by("alice", [f.approval(" ALICE ", "approved")]), "approval.required", " ALICE  is the deployer")
}

test_required_fires_when_the_deployer_approves_under_an_alias if {
	findings := deployed_by("alice@localizevideos.example", [f.approval("Alice Smith", "approved")])
	f.says(findings, "approval.required", "Alice Smith is the deployer: self-approval does not count")
}

test_required_quiet_for_an_approver_under_an_alias if {
	count(deployed_by("dave", [f.approval("Alice Smith", "approved")])) == 0
	count(deployed_by("dave", [f.approval("BOB", "approved")])) == 0
}

test_required_fires_for_an_alias_that_names_two_people if {
	# An alias under two identities stands for both: never independent of either.
	findings := approval.findings with input as f.with_evidence("deploy", {
		"Deploy": [f.deploy_with({"actor": "dave"})],
		"Approval": [f.approval("ops", "approved")],
	})
		with data.shipgate.config.identities as {"bob": ["ops"], "dave": ["ops"]}
	f.says(findings, "approval.required", "ops is the deployer")
}

test_rejected_fires_for_an_approver_under_another_name if {
	findings := approved_by([f.approval("bob", "approved"), f.approval("Carol@LocalizeVideos.example", "rejected")])
	f.says(findings, "approval.rejected", "Carol@LocalizeVideos.example rejected the deploy")
}

# An approval dated after now is not one yet (issue #14).
test_required_fires_for_an_approval_in_the_future if {
	later := object.union(f.approval("bob", "approved"), {"data": {"approvedAt": "2026-11-26T10:30:00Z"}})
	findings := approved_by([later])
	f.says(findings, "approval.required", "bob approved at 2026-11-26T10:30:00Z, after now (2026-11-26T10:05:00Z): an approval in the future does not count")
}
