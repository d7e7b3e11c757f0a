package shipgate.rules.automation_test

import data.shipgate.lib.fixtures as f
import data.shipgate.rules.automation

auto_monitoring(auto) := object.union(
	f.monitoring("healthy", f.healthy_signals),
	{"data": {"automation": {"autoRollback": auto}}},
)

findings_with(auto, capabilities) := findings if {
	findings := automation.findings with input as f.with_evidence("complete", {"Monitoring": [auto_monitoring(auto)]})
		with data.shipgate.config.services["localizevideos-app"].capabilities as capabilities
}

complete := {"auto-rollback": {"metrics": true, "alerts": true, "human_override": true}}

test_quiet_without_auto_rollback if {
	count(findings_with(false, {})) == 0
}

test_quiet_when_monitoring_says_nothing if {
	findings := automation.findings with input as f.input_for("complete")
	count(findings) == 0
}

test_quiet_when_declared_with_all_three if {
	count(findings_with(true, complete)) == 0
}

test_fires_when_not_declared if {
	findings := findings_with(true, {"canary": {"metrics": true, "alerts": true, "human_override": true}})
	f.says(
		findings,
		"automation.auto-rollback",
		"automated rollback was asked for (Monitoring from 2026-11-26T10:08:00Z), but localizevideos-app does not declare capability auto-rollback: it needs metrics, alerts and a human override",
	)
	some finding in findings
	finding.evidence == [auto_monitoring(true).digest]
}

test_fires_naming_what_is_missing if {
	findings := findings_with(true, {"auto-rollback": {"metrics": true, "alerts": false, "human_override": "yes"}})
	f.says(
		findings,
		"automation.auto-rollback",
		"automated rollback was asked for (Monitoring from 2026-11-26T10:08:00Z), but localizevideos-app declares capability auto-rollback without alerts, human_override: it needs metrics, alerts and a human override",
	)
}

test_denies_the_complete_gate if {
	decision := data.shipgate.gates.complete.decision with input as f.with_evidence("complete", {"Monitoring": [auto_monitoring(true)]})
	not decision.allow
	some violation in decision.violations
	violation.rule == "automation.auto-rollback"
	violation.enforcement == "hard"
}

test_complete_gate_allows_when_declared if {
	decision := data.shipgate.gates.complete.decision with input as f.with_evidence("complete", {"Monitoring": [auto_monitoring(true)]})
		with data.shipgate.config.services["localizevideos-app"].capabilities as complete
	decision.allow
}
