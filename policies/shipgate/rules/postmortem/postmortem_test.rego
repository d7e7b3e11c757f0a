package shipgate.rules.postmortem_test

import data.shipgate.lib.fixtures as f
import data.shipgate.rules.postmortem

violation(status, due) := {
	"id": "vio_01",
	"gate": "deploy",
	"rules": ["forbidden.hot-patch", "approval.required"],
	"status": status,
	"openedAt": "2026-11-10T08:00:00Z",
	"due": due,
	"release": "lv-2026-11-10.1",
}

with_violations(violations) := findings if {
	findings := postmortem.findings with input as f.patched("deploy", {"violations": violations})
}

test_overdue_fires_on_an_open_violation_past_due if {
	findings := with_violations([violation("open", "2026-11-15T08:00:00Z")])
	f.says(findings, "postmortem.overdue", "violation vio_01 (forbidden.hot-patch, approval.required) has been open since 2026-11-10T08:00:00Z; its postmortem was due 2026-11-15T08:00:00Z")
}

test_overdue_quiet_before_due if {
	count(with_violations([violation("open", "2026-11-30T08:00:00Z")])) == 0
}

test_overdue_quiet_once_closed if {
	count(with_violations([violation("closed", "2026-11-15T08:00:00Z")])) == 0
}

test_overdue_quiet_on_emergency_path if {
	findings := postmortem.findings with input as f.patched("deploy", {
		"violations": [violation("open", "2026-11-15T08:00:00Z")],
		"evidence": f.emergency_evidence(f.emergency_plan("INC-42")),
	})
	count(findings) == 0
}
