# Package shipgate.rules.freeze is the change freeze: frozen environments
# take only planned, documented and verified releases; hard-freeze windows
# take none; the emergency path (justified and approved) lifts both.
package shipgate.rules.freeze

import data.shipgate.lib

# METADATA
# title: "Frozen environment: release is planned"
# description: >-
#   Fires when the environment is frozen, the emergency path not taken, and
#   the latest Plan has no `changeTicket` (or only spaces), no `window`, or
#   now is outside it (`start <= now < end`).
# custom:
#   enforcement: hard
#   gates: [deploy]
#   remediation: >-
#     record a change ticket and a planned window (window.start <= now <
#     window.end) in the Plan, and deploy inside the window
rule["freeze.unplanned"] := lib.metadata(rego.metadata.rule())

# METADATA
# title: "Frozen environment: release is documented"
# description: >-
#   Fires when the environment is frozen, the emergency path not taken, and
#   the latest Plan lacks `documentation.runbook.url` or
#   `documentation.releaseNotes.url` (or one is only spaces).
# custom:
#   enforcement: hard
#   gates: [deploy]
#   remediation: >-
#     link the runbook (documentation.runbook.url) and the release notes
#     (documentation.releaseNotes.url) in the Plan
rule["freeze.undocumented"] := lib.metadata(rego.metadata.rule())

# METADATA
# title: "Frozen environment: release is verified"
# description: >-
#   Fires when the environment is frozen, the emergency path not taken, the
#   latest Plan's `ci.status` is not `passed` and there is no passed Build.
# custom:
#   enforcement: hard
#   gates: [deploy]
#   remediation: >-
#     get CI green (Plan ci.status passed) or run `npm run build` and record a
#     passed Build
rule["freeze.unverified"] := lib.metadata(rego.metadata.rule())

# METADATA
# title: No release in a hard-freeze window
# description: >-
#   Fires when `input.facts.freeze.active` holds and the emergency path is not
#   taken; lists the active windows (id, name, start, end).
# custom:
#   enforcement: hard
#   gates: [deploy]
#   remediation: >-
#     wait until the freeze window ends, or take the emergency path: a Plan
#     with emergency (incident, justification) plus an Approval from someone
#     other than the deployer
rule["freeze.hard-window"] := lib.metadata(rego.metadata.rule())

# METADATA
# title: Emergency release justified and approved, for an open blocking incident
# description: >-
#   Fires when the latest Plan has `emergency` but there is no valid deploy
#   approval (the message says why the approvals did not count); also,
#   separately, when the incident it names is not in the newest IncidentStatus
#   (the message lists the incidents there) or there is no IncidentStatus;
#   when the incident is listed but is not blocking (a SEV-4, or resolved: the
#   emergency path is for an open SEV-1/SEV-2); when the justification is only
#   spaces; and when the latest Plans of a tie do not all declare the same
#   emergency. This is the rule that names the emergency path: an emergency
#   that does not qualify lifts nothing, so `freeze.hard-window` and the other
#   freeze rules fire beside it.
# custom:
#   enforcement: hard
#   gates: [deploy]
#   remediation: >-
#     justify the emergency in the Plan (emergency.justification, in words),
#     get an Approval for the deploy gate from an approver other than the
#     deployer, and name in Plan emergency.incident an open incident of a
#     blocking severity (SEV-1, SEV-2) that the newest IncidentStatus lists
rule["freeze.emergency-unapproved"] := lib.metadata(rego.metadata.rule())

# rules is this file's rule metadata as the decision library reads it,
# each entry made from its rule's METADATA annotation (lib.metadata).
rules := rule

# frozen holds for environments frozen by default.
frozen if input.release.environment in lib.config.freeze.environments

# guarded: the freeze conditions apply, as the emergency path is not taken.
guarded if {
	frozen
	lib.routine
}

# Each Plan of the newest tie is judged (lib.plans).
on_plan(doc, rule, message) := lib.about(doc, rule, sprintf("%s is frozen: %s", [input.release.environment, message]))

# required_text lists the Plan fields a frozen environment requires, each
# with the rule that fires when it is missing or only spaces.
required_text := [
	["freeze.unplanned", ["changeTicket"]],
	["freeze.undocumented", ["documentation", "runbook", "url"]],
	["freeze.undocumented", ["documentation", "releaseNotes", "url"]],
]

findings contains on_plan(doc, rule, lib.lacks(doc, "Plan", concat(".", path))) if {
	guarded
	some doc in lib.plans
	some [rule, path] in required_text
	not lib.has_text(doc.data, path)
}

findings contains on_plan(doc, "freeze.unplanned", lib.lacks(doc, "Plan", "window")) if {
	guarded
	some doc in lib.plans
	not doc.data.window
}

findings contains on_plan(doc, "freeze.unplanned", message) if {
	guarded
	some doc in lib.plans
	w := doc.data.window
	not lib.within(w.start, w.end)
	ticket := ticket_name(doc.data)
	message := sprintf("now (%s) is outside the planned window %s to %s of %s", [input.now, w.start, w.end, ticket])
}

ticket_name(plan) := plan.changeTicket if lib.has_text(plan, ["changeTicket"])

else := "the Plan"

findings contains {
	"rule": "freeze.unverified",
	"message": sprintf("%s is frozen: the Plan's CI status is %s and there is no passed Build", [input.release.environment, ci]),
	"evidence": array.concat(lib.cited(doc), lib.digests(input.evidence.Build)),
} if {
	guarded
	some doc in lib.plans
	ci := object.get(doc.data, ["ci", "status"], "not recorded")
	ci != "passed"
	count(lib.passed_builds) == 0
}

findings contains {
	"rule": "freeze.hard-window",
	"message": sprintf("hard freeze in effect: %s", [lib.join([window_name(w) | some w in input.facts.freeze.windows])]),
	"evidence": [],
} if {
	input.facts.freeze.active
	guarded
}

window_name(w) := sprintf("%s %q (%s to %s)", [w.id, object.get(w, "name", w.id), w.start, w.end])

# The emergency path is judged only when a Plan of the newest tie declares
# an emergency (most releases take none): its findings are those of
# emergency_findings.
findings contains finding if {
	declared_emergency
	some finding in emergency_findings
}

declared_emergency if {
	some doc in lib.plans
	doc.data.emergency
}

emergency_findings contains lib.about(doc, "freeze.emergency-unapproved", message) if {
	some doc in lib.plans
	emergency := doc.data.emergency
	not lib.approved("deploy")
	message := sprintf(
		"emergency release for incident %s has no valid deploy approval: %s",
		[emergency.incident, lib.unapproved_reason("deploy")],
	)
}

# The emergency path needs the incident it names in the newest IncidentStatus
# (lib.incident_listed); otherwise it is not taken.
emergency_findings contains {
	"rule": "freeze.emergency-unapproved",
	"message": sprintf(
		"emergency release names incident %s, which is not in the incident list of the newest IncidentStatus (%s), so the emergency path is not taken",
		[emergency.incident, lib.join(sort(listed))],
	),
	"evidence": array.concat(lib.cited(doc), lib.digests(statuses)),
} if {
	some doc in lib.plans
	emergency := doc.data.emergency
	statuses := lib.newest_incidents
	count(statuses) > 0
	not lib.incident_listed(emergency.incident)
	listed := {incident.id |
		some status in statuses
		some incident in status.data.incidents
	}
}

emergency_findings contains lib.about(doc, "freeze.emergency-unapproved", message) if {
	some doc in lib.plans
	emergency := doc.data.emergency
	count(input.evidence.IncidentStatus) == 0
	message := sprintf(
		"emergency release names incident %s, but there is no IncidentStatus evidence to find it in, so the emergency path is not taken",
		[emergency.incident],
	)
}

# Plans of the newest tie that do not declare the same emergency take no
# emergency path; say so rather than leave it to the freeze rules alone.
emergency_findings contains {
	"rule": "freeze.emergency-unapproved",
	"message": sprintf(
		"the newest Plans (collected at the same time) do not declare one emergency (incidents: %s), so the emergency path is not taken",
		[lib.join(sort(incidents))],
	),
	"evidence": lib.digests(lib.plans),
} if {
	some doc in lib.plans
	doc.data.emergency
	incidents := {object.get(other.data, ["emergency", "incident"], "none") | some other in lib.plans}
	count(incidents) > 1
}

# The emergency path is for a blocking incident: one of
# incidents.blocking_severities, in incidents.blocking_statuses (an incident
# resolved after now is still open). An emergency for a SEV-4 or for an
# incident already resolved lifts nothing.
emergency_findings contains {
	"rule": "freeze.emergency-unapproved",
	"message": sprintf(
		"emergency release names incident %s, which the newest IncidentStatus lists as %s, not an open incident of a blocking severity (%s), so the emergency path is not taken",
		[emergency.incident, lib.join(sort(states)), lib.join(lib.config.incidents.blocking_severities)],
	),
	"evidence": array.concat(lib.cited(doc), lib.digests(lib.newest_incidents)),
} if {
	some doc in lib.plans
	emergency := doc.data.emergency
	lib.incident_listed(emergency.incident)
	not lib.incident_blocking(emergency.incident)
	states := {sprintf("%s %s", [lib.incident_status(incident), incident.severity]) |
		some status in lib.newest_incidents
		some incident in status.data.incidents
		incident.id == emergency.incident
	}
}

# A justification of only spaces is none.
emergency_findings contains lib.about(doc, "freeze.emergency-unapproved", message) if {
	some doc in lib.plans
	emergency := doc.data.emergency
	not lib.has_text(emergency, ["justification"])
	message := sprintf("emergency release for incident %s has no justification, only spaces, so the emergency path is not taken", [emergency.incident])
}
