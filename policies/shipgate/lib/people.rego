package shipgate.lib

# deployers are who make the change: the actors of the newest Deploys at the
# deploy, verify and complete gates, of the newest FlagChanges at the flag
# gate; on a tie, each of them. Without that evidence there is none, and
# then no approval or override counts (fail closed).
deployers := {doc.data.actor | some doc in newest_deploys} if input.gate in {"deploy", "verify", "complete"}

deployers := {doc.data.actor | some doc in newest_flag_changes} if input.gate == "flag"

default deployers := set()

# One identity per person: names are compared after trimming and case
# folding (normal), and through the aliases of policy data identities, which
# map a canonical name to its other names:
#   identities: {alice: ["alice@localizevideos.example", "Alice Smith"]}

# identities is policy data identities, {} when absent.
identities := object.get(config, "identities", {})

# normal(name) is name without surrounding space, case-folded.
normal(name) := lower(trim_space(name))

# identity(name) is the set of canonical names that name stands for: every
# identity whose canonical name or alias it is, or else name itself, all
# normal. (An alias listed under two identities stands for both, so it can
# pass no four-eyes check against either; policy.data-missing names it.)
identity(name) := object.get(identity_of, n, {n}) if n := lower(trim_space(name))

# identity_of maps each name in identities, canonical or alias, normal, to
# the canonical names it stands for. It reads policy data only, so the
# engine works it out once, when it loads the policies.
identity_of := {n: ids |
	some n in identity_names
	ids := {normal(canonical) |
		some canonical, aliases in identities
		known_as(canonical, aliases, n)
	}
}

# identity_names are every name in identities, canonical or alias, normal.
identity_names := {normal(canonical) | some canonical, _ in identities} | {normal(alias) |
	some _, aliases in identities
	some alias in aliases
}

known_as(canonical, _, n) if normal(canonical) == n

known_as(_, aliases, n) if {
	some alias in aliases
	normal(alias) == n
}

# approver_ids are the identities of config.approvers.
approver_ids := {id |
	some approver in config.approvers
	some id in identity(approver)
}

# deployer_ids are the identities of the deployers.
deployer_ids := {id |
	some deployer in deployers
	some id in identity(deployer)
}

# is_approver(person) holds for the people listed in config.approvers, under
# any of their names.
is_approver(person) if count(identity(person) & approver_ids) > 0

# is_deployer(person) holds for a deployer, under any of their names.
is_deployer(person) if count(identity(person) & deployer_ids) > 0

# independent(person) holds for an approver who is none of the deployers,
# when a deployer is known (is_approver and not is_deployer, with the
# person's identities worked out once).
independent(person) if {
	ids := identity(person)
	ids & approver_ids != set()
	deployer_ids != set()
	ids & deployer_ids == set()
}

# valid_approvals(gate) lists the Approval documents that count at gate:
# approved, for that gate, by an approver other than the deployer, at or
# before now (an approval dated in the future is not one yet).
valid_approvals(gate) := [approval |
	some approval in input.evidence.Approval
	approval.data.decision == "approved"
	approval.data.gate == gate
	independent(approval.data.approver)
	time.parse_rfc3339_ns(approval.data.approvedAt) <= now_ns # not future, inline
]

# approved(gate) holds when at least one approval counts at gate.
approved(gate) if valid_approvals(gate) != []

# emergency_incident is the incident of the emergency path: every Plan of
# the newest tie declares an emergency for it, with a justification that is
# more than spaces; the newest IncidentStatus lists it as a blocking incident
# (a blocking severity, in a blocking status: an emergency for a SEV-4 or a
# resolved incident is none); and an approver other than the deployer
# approved the deploy. Undefined otherwise: Plans of a tie that disagree take
# no emergency path.
emergency_incident := id if {
	plans[0].data.emergency
	every doc in plans {
		has_text(doc.data, ["emergency", "justification"])
	}
	ids := {doc.data.emergency.incident | some doc in plans}
	count(ids) == 1
	some id in ids
	approved("deploy")
	incident_blocking(id)
}

# emergency is the emergency path (emergency_incident).
emergency if emergency_incident

# routine holds when the emergency path is not taken, so that the rules it
# lifts apply (one lookup where a rule would otherwise ask `not emergency`).
routine if not emergency

# emergency_justification is what the Plans of the newest tie say.
emergency_justification := concat("; ", sort({doc.data.emergency.justification | some doc in plans}))

# incident_listed(id) holds when the newest IncidentStatus lists incident id,
# in any status; on a tie, every IncidentStatus of the tie must list it.
incident_listed(id) if {
	statuses := newest_incidents
	count(statuses) > 0
	every status in statuses {
		some incident in status.data.incidents
		incident.id == id
	}
}

# incident_blocking(id) holds when every newest IncidentStatus lists incident
# id as blocking.
incident_blocking(id) if {
	statuses := newest_incidents
	count(statuses) > 0
	every status in statuses {
		some incident in status.data.incidents
		incident.id == id
		blocking(incident)
	}
}

# blocking(incident) holds for an incident of a blocking severity in a
# blocking status (incidents.blocking_severities, .blocking_statuses).
blocking(incident) if {
	incident.severity in config.incidents.blocking_severities
	incident_status(incident) in config.incidents.blocking_statuses
}

# incident_status(incident) is its status, except that an incident resolved
# after now (resolvedAt in the future), or before it opened, is still open.
incident_status(incident) := "open" if {
	incident.status == "resolved"
	time.parse_rfc3339_ns(incident.resolvedAt) > now_ns # in the future
} else := "open" if {
	incident.status == "resolved"
	time.parse_rfc3339_ns(incident.resolvedAt) < time.parse_rfc3339_ns(incident.openedAt)
} else := incident.status

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
} else := sprintf("%s approved at %s, after now (%s): an approval in the future does not count", [approval.approver, approval.approvedAt, input.now]) if {
	future(approval.approvedAt)
} else := sprintf("%s is not in approvers", [approval.approver]) if {
	not is_approver(approval.approver)
} else := "no deployer is known (no Deploy evidence), so no approval counts" if {
	count(deployers) == 0
} else := sprintf("%s is the deployer: self-approval does not count", [approval.approver]) if {
	is_deployer(approval.approver)
}
