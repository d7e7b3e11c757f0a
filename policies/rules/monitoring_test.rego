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

# A healthy result does not hide an unhealthy signal.

test_healthy_fires_on_a_breached_signal_under_a_healthy_result if {
	signals := array.concat([f.signal("error_rate", "breach")], [s | some s in f.healthy_signals; s.name != "error_rate"])
	result := monitored(f.monitoring("healthy", signals))
	f.count_of(result.findings, "monitoring.healthy") == 1
	f.says(result.findings, "monitoring.healthy", "monitoring 2026-11-26T10:08:00Z to 2026-11-26T10:23:00Z: signal error_rate (observed 0.01, baseline 0.01) is breach, not healthy (result healthy)")
	result.obligations == {{
		"kind": "rollback",
		"rule": "monitoring.healthy",
		"message": "rollback now: safety signals breached after release: error_rate (observed 0.01, baseline 0.01)",
	}}
}

test_healthy_fires_on_a_signal_without_data_under_a_healthy_result if {
	signals := array.concat([f.signal("cpu", "no-data")], [s | some s in f.healthy_signals; s.name != "cpu"])
	result := monitored(f.monitoring("healthy", signals))
	f.says(result.findings, "monitoring.healthy", "signal cpu (observed 0.01, baseline 0.01) is no-data, not healthy (result healthy)")
	count(result.obligations) == 0
}

test_healthy_names_a_signal_the_result_does_not_cover if {
	signals := array.concat([f.signal("error_rate", "breach"), f.signal("cpu", "no-data")], [s | some s in f.healthy_signals; not s.name in {"error_rate", "cpu"}])
	result := monitored(f.monitoring("breach", signals))
	f.count_of(result.findings, "monitoring.healthy") == 2
	f.says(result.findings, "monitoring.healthy", "breached: error_rate")
	f.says(result.findings, "monitoring.healthy", "signal cpu (observed 0.01, baseline 0.01) is no-data, not healthy (result breach)")
}

# Required signals

test_healthy_fires_once_per_missing_required_signal if {
	signals := [s | some s in f.healthy_signals; not s.name in {"cpu", "memory"}]
	doc := f.monitoring("healthy", signals)
	result := monitored(doc)
	f.count_of(result.findings, "monitoring.healthy") == 2
	f.says(result.findings, "monitoring.healthy", "monitoring 2026-11-26T10:08:00Z to 2026-11-26T10:23:00Z: required signal cpu is missing")
	f.says(result.findings, "monitoring.healthy", "required signal memory is missing")
	every finding in result.findings {
		finding.evidence == [doc.digest]
	}
	count(result.obligations) == 0
}

test_healthy_required_signals_come_from_data if {
	input_doc := f.with_evidence("complete", {"Monitoring": [f.monitoring("healthy", [f.signal("error_rate", "healthy")])]})
	findings := monitoring.findings with input as input_doc
		with data.shipgate.config.monitoring.required_signals as ["error_rate"]
	count(findings) == 0
}

# The window

window_doc(start, end) := object.union(f.monitoring("healthy", f.healthy_signals), {"data": {"window": {"start": start, "end": end}}})

test_healthy_fires_on_a_short_window if {
	result := monitored(window_doc("2026-11-26T10:08:00Z", "2026-11-26T10:18:30Z"))
	f.count_of(result.findings, "monitoring.healthy") == 1
	f.says(result.findings, "monitoring.healthy", "monitoring window 2026-11-26T10:08:00Z to 2026-11-26T10:18:30Z lasted 10.5 minutes, shorter than the required 15 minutes")
}

test_healthy_quiet_on_a_window_of_exactly_the_minimum if {
	result := monitored(window_doc("2026-11-26T10:08:00Z", "2026-11-26T10:23:00Z"))
	count(result.findings) == 0
}

test_healthy_min_window_comes_from_data if {
	findings := monitoring.findings with input as f.with_evidence("complete", {"Monitoring": [window_doc("2026-11-26T10:08:00Z", "2026-11-26T10:18:00Z")]})
		with data.shipgate.config.monitoring.min_window_minutes as 10
	count(findings) == 0
}

# Ties among the newest Monitoring: the worst counts.

test_healthy_fires_when_any_of_the_newest_tie_breached if {
	breach := f.monitoring("breach", [f.signal("error_rate", "breach")])
	healthy := f.monitoring("healthy", f.healthy_signals)
	result := monitored_all([breach, healthy])
	f.says(result.findings, "monitoring.healthy", "breached: error_rate")
	count(result.obligations) == 1
}

test_healthy_quiet_when_a_newer_monitoring_is_healthy if {
	breach := f.monitoring("breach", [f.signal("error_rate", "breach")])
	healthy := object.union(f.monitoring("healthy", f.healthy_signals), {"collectedAt": "2026-11-26T10:24:00Z"})
	result := monitored_all([breach, healthy])
	count(result.findings) == 0
	count(result.obligations) == 0
}

monitored_all(docs) := {"findings": findings, "obligations": obligations} if {
	findings := monitoring.findings with input as f.with_evidence("complete", {"Monitoring": docs})
	obligations := monitoring.obligations with input as f.with_evidence("complete", {"Monitoring": docs})
}

# Only a window that started after the deploy finished counts.

test_healthy_fires_when_the_window_started_before_the_deploy_finished if {
	early := window_doc("2026-11-26T10:06:00Z", "2026-11-26T10:23:00Z")
	result := monitored(early)
	short := substring(trim_prefix(early.digest, "sha256:"), 0, 12)
	some finding in result.findings
	finding.rule == "monitoring.healthy"
	finding.message == sprintf(
		"no Monitoring window started after the deploy finished, and no data is not healthy (ignored Monitoring that started before the newest succeeded Deploy finished (2026-11-26T10:06:08Z): %s (window from 2026-11-26T10:06:00Z))",
		[short],
	)
	finding.evidence == [early.digest]
}

test_healthy_fires_without_a_succeeded_deploy if {
	findings := monitoring.findings with input as f.with_evidence("complete", {"Deploy": [f.deploy_request]})
	f.says(findings, "monitoring.healthy", "(ignored Monitoring, as no Deploy succeeded: ")
}

test_healthy_quiet_with_an_early_breach_and_a_later_healthy_window if {
	early := object.union(f.monitoring("breach", [f.signal("error_rate", "breach")]), {"data": {"window": {"start": "2026-11-26T10:00:00Z"}}})
	result := monitored_all([early, f.monitoring("healthy", f.healthy_signals)])
	count(result.findings) == 0
	count(result.obligations) == 0
}
