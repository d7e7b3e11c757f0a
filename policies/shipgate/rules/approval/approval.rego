# Package shipgate.rules.approval: automation assists, humans approve. A
# deploy needs an approval from an approver other than the deployer, and a
# rejection by an approver stops it.
package shipgate.rules.approval

import data.shipgate.lib

# METADATA
# title: Deploy approved by someone other than the deployer
# description: >-
#   Fires when there is no valid deploy approval; the message explains each
#   deploy approval that did not count (self-approval by the deployer, not in
#   `approvers`, rejected, no deployer known); approvals that were not
#   authenticated as their approver, or were the deployer's, are not there at
#   all: the decision lists them as ignored (`grant.unauthenticated`,
#   `grant.self-approval`).
# custom:
#   enforcement: hard
#   gates: [deploy]
#   remediation: >-
#     ask an approver listed in policy data (approvers), other than the
#     deployer, to record an Approval with decision approved for the deploy
#     gate
rule["approval.required"] := lib.metadata(rego.metadata.rule())

# METADATA
# title: No deploy after a rejection
# description: >-
#   Fires when an approver in `approvers` rejected the deploy (one finding per
#   rejection, even if someone else approved).
# custom:
#   enforcement: hard
#   gates: [deploy]
#   remediation: >-
#     address the approver's objection, then start a new release (a rejection
#     stays on this one)
rule["approval.rejected"] := lib.metadata(rego.metadata.rule())

# rules is this file's rule metadata as the decision library reads it,
# each entry made from its rule's METADATA annotation (lib.metadata).
rules := rule

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
