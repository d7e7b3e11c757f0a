# Package shipgate.rules.approval: automation assists, humans approve. A
# deploy needs an approval from an approver other than the deployer, and a
# rejection by an approver stops it.
package shipgate.rules.approval

import data.shipgate.lib

rules := {
	"approval.required": {
		"title": "Deploy approved by someone other than the deployer",
		"enforcement": "hard",
		"gates": {"deploy"},
		"remediation": "ask an approver listed in policy data (approvers), other than the deployer, to record an Approval with decision approved for the deploy gate",
	},
	"approval.rejected": {
		"title": "No deploy after a rejection",
		"enforcement": "hard",
		"gates": {"deploy"},
		"remediation": "address the approver's objection, then start a new release (a rejection stays on this one)",
	},
}

findings contains {
	"rule": "approval.required",
	"message": sprintf("no valid deploy approval: %s", [lib.unapproved_reason("deploy")]),
	"evidence": lib.digests([approval | some approval in input.evidence.Approval; approval.data.gate == "deploy"]),
} if not lib.approved("deploy")

findings contains {
	"rule": "approval.rejected",
	"message": sprintf("%s rejected the deploy at %s%s", [approval.data.approver, approval.data.approvedAt, comment(approval.data)]),
	"evidence": [approval.digest],
} if {
	some approval in input.evidence.Approval
	approval.data.decision == "rejected"
	approval.data.gate == "deploy"
	lib.is_approver(approval.data.approver)
}

comment(approval) := sprintf(": %q", [approval.comment]) if approval.comment

else := ""
