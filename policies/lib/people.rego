package shipgate.lib

# deployer is who makes the change: the latest Deploy's actor at the deploy,
# verify and complete gates, the latest FlagChange's actor at the flag gate.
# It is undefined without that evidence, and then no approval or override
# counts (fail closed).
deployer := latest("Deploy").data.actor if input.gate in {"deploy", "verify", "complete"}

deployer := latest("FlagChange").data.actor if input.gate == "flag"

# is_approver(person) holds for the people listed in config.approvers.
is_approver(person) if person in config.approvers

# independent(person) holds for an approver who is not the deployer.
independent(person) if {
	is_approver(person)
	person != deployer
}

# valid_approvals(gate) lists the Approval documents that count at gate:
# approved, for that gate, by an approver other than the deployer.
valid_approvals(gate) := [approval |
	some approval in input.evidence.Approval
	approval.data.decision == "approved"
	approval.data.gate == gate
	independent(approval.data.approver)
]

# approved(gate) holds when at least one approval counts at gate.
approved(gate) if count(valid_approvals(gate)) > 0

# emergency is the emergency path: the latest Plan declares an emergency for
# an incident that the newest IncidentStatus lists, and an approver other than
# the deployer approved the deploy.
emergency if {
	plan.emergency
	approved("deploy")
	incident_listed(plan.emergency.incident)
}

# incident_listed(id) holds when the newest IncidentStatus lists incident id,
# in any status; on a tie, every IncidentStatus of the tie must list it.
incident_listed(id) if {
	statuses := newest("IncidentStatus")
	count(statuses) > 0
	every status in statuses {
		some incident in status.data.incidents
		incident.id == id
	}
}

# unapproved_reason(gate) explains why no approval counts at gate.
unapproved_reason(gate) := concat("; ", reasons) if {
	reasons := sort({not_counted(approval.data) |
		some approval in input.evidence.Approval
		approval.data.gate == gate
	})
	count(reasons) > 0
} else := sprintf("no Approval evidence for the %s gate", [gate])

# not_counted(approval) says why an Approval does not count; undefined when it does.
not_counted(approval) := sprintf("%s rejected", [approval.approver]) if {
	approval.decision == "rejected"
} else := sprintf("%s is not in approvers", [approval.approver]) if {
	not is_approver(approval.approver)
} else := "no deployer is known (no Deploy evidence), so no approval counts" if {
	not deployer
} else := sprintf("%s is the deployer: self-approval does not count", [approval.approver]) if {
	approval.approver == deployer
}
