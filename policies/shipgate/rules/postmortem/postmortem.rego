# Package shipgate.rules.postmortem blocks deploys of a service while one of
# its violations is open past the due date of its postmortem.
package shipgate.rules.postmortem

import data.shipgate.lib

# METADATA
# title: No overdue postmortem
# description: >-
#   Fires when the emergency path is not taken, and an `input.violations[]`
#   entry is `open` with `due` before now (one finding per violation).
# custom:
#   enforcement: hard
#   gates: [deploy]
#   remediation: >-
#     write the postmortem and close the violation (`shipgate postmortem add
#     --violation ID FILE`), or take the emergency path
rule["postmortem.overdue"] := lib.metadata(rego.metadata.rule())

# rules is this file's rule metadata as the decision library reads it,
# each entry made from its rule's METADATA annotation (lib.metadata).
rules := rule

findings contains {
	"rule": "postmortem.overdue",
	"message": sprintf(
		"violation %s (%s) has been open since %s; its postmortem was due %s",
		[violation.id, lib.join(violation.rules), violation.openedAt, violation.due],
	),
	"evidence": [],
} if {
	lib.routine
	some violation in input.violations
	violation.status == "open"
	time.parse_rfc3339_ns(violation.due) < lib.now_ns
}
