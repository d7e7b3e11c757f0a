package shipgate.rules.change_test

import data.shipgate.lib.fixtures as f
import data.shipgate.rules.change

sized(size) := findings if {
	findings := change.findings with input as f.with_evidence("deploy", {"Plan": [f.plan_with({"changeSize": size})]})
}

test_size_quiet_for_a_small_change if {
	count(sized({"filesChanged": 20, "linesAdded": 300, "linesDeleted": 100})) == 0
}

test_size_fires_on_too_many_lines if {
	findings := sized({"filesChanged": 2, "linesAdded": 350, "linesDeleted": 51})
	f.says(findings, "change.size", "change of 401 lines (+350 -51) in 2 files exceeds 400 lines or 20 files")
}

test_size_fires_on_too_many_files if {
	findings := sized({"filesChanged": 21, "linesAdded": 10, "linesDeleted": 0})
	"change.size" in f.fired(findings)
}

test_size_quiet_without_change_size if {
	findings := change.findings with input as f.with_evidence("deploy", {"Plan": [f.plan_without(["changeSize"])]})
	count(findings) == 0
}
