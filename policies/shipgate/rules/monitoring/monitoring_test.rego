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

# Mutants of issue #14: a Monitoring that says healthy must be one.

# with_signal(patch) is the healthy Monitoring with patch merged into its
# error_rate signal.
with_signal(patch) := f.monitoring("healthy", array.concat(
	[object.union(s, patch) | some s in f.healthy_signals; s.name == "error_rate"],
	[s | some s in f.healthy_signals; s.name != "error_rate"],
))

test_healthy_fires_on_a_healthy_signal_without_samples if {
	result := monitored(with_signal({"samples": 0}))
	f.says(result.findings, "monitoring.healthy", "signal error_rate is recorded healthy on 0 readings with data, fewer than the 5 it needs")
}

test_healthy_fires_on_fewer_samples_than_the_signal_needs if {
	result := monitored(with_signal({"samples": 12, "minSamples": 31}))
	f.says(result.findings, "monitoring.healthy", "signal error_rate is recorded healthy on 12 readings with data, fewer than the 31 it needs")
	count(monitored(with_signal({"samples": 31, "minSamples": 31})).findings) == 0
}

test_healthy_min_samples_come_from_data if {
	findings := monitoring.findings with input as f.with_evidence("complete", {"Monitoring": [with_signal({"samples": 3})]})
		with data.shipgate.config.monitoring.min_samples as 2
	count(findings) == 0
}

test_healthy_fires_on_a_window_that_ends_after_now if {
	doc := object.union(f.monitoring("healthy", f.healthy_signals), {"data": {"window": {"end": "2026-11-26T10:45:00Z"}}})
	result := monitored(doc)
	f.says(result.findings, "monitoring.healthy", "monitoring window 2026-11-26T10:08:00Z to 2026-11-26T10:45:00Z ends after the evaluation time (2026-11-26T10:30:00Z): it was not watched to its end")
}

test_healthy_fires_on_a_window_that_ends_before_it_starts if {
	doc := object.union(f.monitoring("healthy", f.healthy_signals), {"data": {"window": {"start": "2026-11-26T10:25:00Z", "end": "2026-11-26T10:08:00Z"}}})
	result := monitored(doc)
	f.says(result.findings, "monitoring.healthy", "monitoring window 2026-11-26T10:25:00Z to 2026-11-26T10:08:00Z ends before it starts, so it does not count")
}

test_healthy_fires_when_the_recorded_condition_says_breach if {
	breached := with_signal({"observed": 0.9, "baseline": 0.003, "condition": "observed > baseline * 1.5 + 0.01"})
	result := monitored(breached)
	f.says(result.findings, "monitoring.healthy", "signal error_rate is recorded healthy, but its breach condition observed > baseline * 1.5 + 0.01 holds for what the document records (observed 0.9, baseline 0.003)")
	ok := with_signal({"observed": 0.004, "baseline": 0.003, "condition": "observed > baseline * 1.5 + 0.01"})
	count(monitored(ok).findings) == 0
}

test_healthy_condition_without_a_baseline if {
	# A fixed threshold needs no baseline.
	fixed := f.monitoring("healthy", array.concat(
		[object.union(object.remove(s, ["baseline"]), {"observed": 0.95, "condition": "observed > 0.9"}) | some s in f.healthy_signals; s.name == "cpu"],
		[s | some s in f.healthy_signals; s.name != "cpu"],
	))
	f.says(monitored(fixed).findings, "monitoring.healthy", "signal cpu is recorded healthy, but its breach condition observed > 0.9 holds for what the document records (observed 0.95, baseline none)")

	# A condition that reads a baseline the document lacks is left to the status.
	unread := f.monitoring("healthy", array.concat(
		[object.union(object.remove(s, ["baseline"]), {"observed": 0.95, "condition": "observed > baseline"}) | some s in f.healthy_signals; s.name == "cpu"],
		[s | some s in f.healthy_signals; s.name != "cpu"],
	))
	count(monitored(unread).findings) == 0
}

# The breach conditions the policy re-evaluates, and those it leaves to the
# recorded status.
test_breaches_evaluates_plain_conditions if {
	signal := {"observed": 0.9, "baseline": 0.003}
	every condition, want in {
		"observed > baseline * 1.5 + 0.01": true,
		"observed < baseline - 0.05 || observed < 0.9": false,
		"observed < 0.5 || observed >= 0.9": true,
		"observed > baseline * 2.0 && observed > 0.3": true,
		"observed > baseline * 2.0 && observed > 300e6": false,
		"observed / baseline > 2 - 1 * 3": true,
		"observed - baseline - 0.5 <= 0.398": true,
		"observed == 0.9": true,
		"observed != 0.9": false,
		"baseline * 1000 >= 3": true,
	} {
		monitoring.breaches(object.union(signal, {"condition": condition})) == want
	}
}

test_breaches_is_undefined_for_other_conditions if {
	signal := {"observed": 0.9, "baseline": 0.003}
	every condition in [
		"(observed > 2)",
		"observed / 0 > 2",
		"observed > -1",
		"observed > .5",
		"count > 10",
		"observed > window.length",
		"math.abs(observed) > 1",
		"observed",
		"observed > baseline +",
	] {
		not monitoring.breaches(object.union(signal, {"condition": condition}))
	}
	not monitoring.breaches({"baseline": 1, "condition": "observed > 1"})
	not monitoring.breaches({"observed": 1, "condition": "observed > baseline"})
	not monitoring.breaches({"observed": 1})
}
