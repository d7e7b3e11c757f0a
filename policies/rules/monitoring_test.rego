package shipgate.rules.monitoring_test

import data.shipgate.lib.fixtures as f
import data.shipgate.rules.monitoring

monitored(doc) := {"findings": findings, "obligations": obligations} if {
	findings := monitoring.findings with input as f.with_evidence("complete", {"Monitoring": [doc]})
	obligations := monitoring.obligations with input as f.with_evidence("complete", {"Monitoring": [doc]})
}

test_healthy_quiet_when_healthy if {
	result := monitored(f.monitoring("healthy", f.healthy_signals))
	count(result.findings) == 0
	count(result.obligations) == 0
}

test_healthy_fires_on_breach_naming_signals_and_obliges_rollback if {
	signals := [
		f.signal("auth_success", "healthy"),
		object.union(f.signal("error_rate", "breach"), {"observed": 0.08}),
		object.remove(f.signal("latency_p95", "breach"), ["baseline"]),
	]
	doc := f.monitoring("breach", signals)
	result := monitored(doc)
	some finding in result.findings
	finding.rule == "monitoring.healthy"
	finding.message == concat("", [
		"monitoring 2026-11-26T10:08:00Z to 2026-11-26T10:23:00Z breached: ",
		"error_rate (observed 0.08, baseline 0.01), latency_p95",
	])
	finding.evidence == [doc.digest]
	result.obligations == {{
		"kind": "rollback",
		"rule": "monitoring.healthy",
		"message": "rollback now: safety signals breached after release: error_rate (observed 0.08, baseline 0.01), latency_p95",
	}}
}

test_healthy_fires_on_no_data if {
	result := monitored(f.monitoring("no-data", [f.signal("cpu", "no-data")]))
	f.says(result.findings, "monitoring.healthy", "no data is not healthy (signals without data: cpu")
	count(result.obligations) == 0
}

test_healthy_fires_without_monitoring if {
	findings := monitoring.findings with input as f.with_evidence("complete", {"Monitoring": []})
	f.says(findings, "monitoring.healthy", "no Monitoring evidence")
}
