# Package shipgate.rules.verify judges the mandatory verification after a
# deploy: any failed check means rollback now.
package shipgate.rules.verify

import data.shipgate.lib

rules["verify.mandatory-checks"] := {
	"title": "Mandatory verification passed",
	"enforcement": "hard",
	"gates": {"verify"},
	"remediation": "roll back now (`shipgate rollback`), fix the cause, and release again; a check that is missing must be added to the smoke-check file",
}

# failing lists the mandatory checks that the latest Verification did not pass.
failing contains name if {
	some name in lib.config.verification.mandatory_checks
	not passed(name)
}

passed(name) if lib.check_passed(lib.latest("Verification"), name)

findings contains lib.about_latest("Verification", "verify.mandatory-checks", outcome(name)) if {
	some name in failing
}

outcome(name) := sprintf("mandatory check %s: no Verification evidence", [name]) if {
	not lib.latest("Verification")
}

outcome(name) := sprintf("mandatory check %s: %s", [name, concat("; ", results)]) if {
	results := [result(check) |
		some check in lib.latest("Verification").data.checks
		check.name == name
	]
	count(results) > 0
}

outcome(name) := sprintf("mandatory check %s: missing from the latest Verification", [name]) if {
	checks := lib.latest("Verification").data.checks
	every check in checks {
		check.name != name
	}
}

result(check) := sprintf("%s (%s)", [check.status, check.message]) if check.message

else := check.status

obligations contains {
	"kind": "rollback",
	"rule": "verify.mandatory-checks",
	"message": sprintf("rollback now: mandatory checks not passed: %s", [concat(", ", sort(failing))]),
} if count(failing) > 0
