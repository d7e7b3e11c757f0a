# METADATA
# title: Decision library
# description: >-
#   Turns the rule files' metadata (rules, read from each rule's METADATA
#   annotation), results (findings) and obligations into the decision a gate
#   returns.
package shipgate.lib.decision

import data.shipgate.lib

# catalog maps every declared rule id to its metadata. Two rule files
# declaring the same id is a conflict, and a conflict is an error: deny.
# A decision looks up only the rules it reports; the engine evaluates the
# whole catalog when it loads the policies, so a conflict anywhere in it
# refuses the policy set.
catalog[id] := meta if meta := data.shipgate.rules[_].rules[id]

# at_gate lists [package, rule id] for each rule at this gate, in one pass
# over the rule files' metadata.
at_gate contains [pkg, id] if {
	some pkg, id
	data.shipgate.rules[pkg].rules[id].gates[input.gate]
}

# gated lists the rule files (packages) with a rule at this gate.
gated := {pkg | some [pkg, _] in at_gate}

# applicable lists the rules that apply at this gate.
applicable := {id | some [_, id] in at_gate}

# rule_ids are the rules that apply at this gate, sorted (the decision's
# rules; it reads no input but the gate, so the engine works it out once).
rule_ids := sort(applicable)

# found holds the findings of the rule files with a rule at this gate,
# gathered once per evaluation; files with none are not evaluated at all.
# (The engine refuses a rule file with findings but no rules at load.)
found := {finding |
	some pkg in gated
	some finding in data.shipgate.rules[pkg].findings
}

# level(id) is the rule's enforcement, after config.enforcement overrides.
level(id) := object.get(lib.config, ["enforcement", id], catalog[id].enforcement)

# shown maps each rule that applies at this gate to what its results show
# of it: title, enforcement (level) and remediation. It reads no input but
# the gate, so the engine works it out once per gate, and a finding needs
# one lookup.
shown[id] := {"title": meta.title, "enforcement": level(id), "remediation": meta.remediation} if {
	some id in applicable
	meta := catalog[id]
}

# results are the findings of applicable rules, with the rule's metadata.
results contains result if {
	some finding in found
	rule := shown[finding.rule]
	result := {
		"rule": finding.rule,
		"title": rule.title,
		"enforcement": rule.enforcement,
		"message": finding.message,
		"evidence": object.get(finding, "evidence", []),
		"remediation": rule.remediation,
	}
}

# A finding for a rule without metadata is a policy bug: it denies (fail closed).
results contains {
	"rule": finding.rule,
	"title": "Finding for an undeclared rule",
	"enforcement": "hard",
	"message": finding.message,
	"evidence": object.get(finding, "evidence", []),
	"remediation": sprintf("declare rules[%q] (title, enforcement, gates, remediation) in the rule file", [finding.rule]),
} if {
	some finding in found
	not catalog[finding.rule]
}

# warnings are the advisory results.
warnings contains result if {
	some result in results
	result.enforcement == "advisory"
}

# violations deny: soft and hard results, except soft ones lifted by an Override.
# Any level other than advisory or soft is treated as hard (and no Override
# is asked for it).
violations contains result if {
	some result in results
	not result.enforcement in {"advisory", "soft"}
}

violations contains result if {
	some result in results
	result.enforcement == "soft"
	not lifting_override(result)
}

# overridden are the soft results lifted by an Override, naming it.
overridden contains object.union(result, {"override": doc.digest, "approver": doc.data.approver}) if {
	some result in results
	result.enforcement == "soft"
	doc := lifting_override(result)
}

# lifting_override(result) is the newest Override that lifts a soft result;
# of several collected at once, the one first in digest order, whatever the
# order of the input.
lifting_override(result) := doc if {
	result.enforcement == "soft"
	overrides := [doc |
		some doc in input.evidence.Override
		lifts(doc.data, result.rule)
	]
	first := lib.digests(lib.newest_of(overrides))[0]
	some doc in overrides
	doc.digest == first
}

# lifts(ovr, rule) holds when the Override counts for rule at this gate:
# from an approver other than the deployer, created by now and not expired,
# valid for at most overrides.max_hours (24 when absent), for this gate or
# any, with a reason that is not blank. An Override that would last ten
# years is no override.
lifts(ovr, rule) if {
	ovr.rule == rule
	trim_space(ovr.reason) != ""
	lib.independent(ovr.approver)
	not lib.future(ovr.createdAt)
	lib.future(ovr.expiresAt)
	time.parse_rfc3339_ns(ovr.expiresAt) - time.parse_rfc3339_ns(ovr.createdAt) <= max_override_hours * 3600000000000
	for_this_gate(ovr)
}

# max_override_hours is the longest an Override may last (policy data
# overrides.max_hours).
max_override_hours := object.get(lib.config, ["overrides", "max_hours"], 24)

for_this_gate(ovr) if not ovr.gate

for_this_gate(ovr) if ovr.gate == input.gate

# fired lists the rules with a result at this gate.
fired contains result.rule if some result in results

# obligations are what the rules that fired require next. A rule file's
# obligations are for its own rules, so only the files with a rule at this
# gate (gated) are asked. Nothing fired, nothing to require: no rule file's
# obligations are then evaluated at all.
obligations contains obligation if {
	count(fired) > 0
	some pkg in gated
	some obligation in data.shipgate.rules[pkg].obligations
	obligation.rule in fired
}

# The emergency path's obligations hold whatever fired.
obligations contains obligation if some obligation in emergency_obligations

# The emergency path requires a postmortem within config.postmortem.due_days.
emergency_obligations contains {
	"kind": "postmortem",
	"rule": "freeze.emergency",
	"message": sprintf(
		"emergency release for incident %s: write a postmortem within %v days (justification: %s)",
		[lib.emergency_incident, days, lib.emergency_justification],
	),
	"due": lib.rfc3339(lib.now_ns + (days * lib.ns_per_day)),
} if {
	input.gate == "deploy"
	lib.emergency
	days := lib.config.postmortem.due_days
}

# emergency_ordered is emergency_obligations, ordered; [] without asking
# when the emergency path is not taken (most decisions).
default emergency_ordered := []

emergency_ordered := ordered(emergency_obligations) if lib.emergency

# ordered(items) sorts violations, warnings or obligations by rule, then message.
ordered(items) := [entry[2] | some entry in sort([[item.rule, item.message, item] | some item in items])]

# decision is what the gate answers. Without findings there are no results,
# so no violations, overrides, warnings or obligations of fired rules (only
# the emergency path's): the first body says so without evaluating them
# (most decisions allow).
decision := {
	"allow": true,
	"violations": [],
	"overridden": [],
	"warnings": [],
	"obligations": emergency_ordered,
	"rules": rule_ids,
} if {
	count(found) == 0
} else := {
	"allow": count(violations) == 0,
	"violations": ordered(violations),
	"overridden": ordered(overridden),
	"warnings": ordered(warnings),
	"obligations": ordered(obligations),
	"rules": rule_ids,
}
