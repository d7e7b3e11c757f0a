# Package shipgate.rules.postmortem blocks deploys of a service while one of
# its violations is open past the due date of its postmortem.
package shipgate.rules.postmortem

import data.shipgate.lib

rules := {
	"postmortem.overdue": {
		"title": "No overdue postmortem",
		"enforcement": "hard",
		"gates": {"deploy"},
		"remediation": "write the postmortem and close the violation (`shipgate postmortem add --violation ID FILE`), or take the emergency path",
	},
}

findings contains {
	"rule": "postmortem.overdue",
	"message": sprintf(
		"violation %s (%s) has been open since %s; its postmortem was due %s",
		[violation.id, lib.join(violation.rules), violation.openedAt, violation.due],
	),
	"evidence": [],
} if {
	not lib.emergency
	some violation in input.violations
	violation.status == "open"
	time.parse_rfc3339_ns(violation.due) < lib.now_ns
}
