# Package shipgate.rules.monitoring judges the first minutes after a release:
# every safety signal must be healthy, every required signal present, the
# window long enough and started after the deploy finished; no data is not
# healthy.
package shipgate.rules.monitoring

import data.shipgate.lib

rules := {
	"monitoring.healthy": {
		"title": "Safety signals healthy after release",
		"enforcement": "hard",
		"gates": {"complete"},
		"remediation": "on a breach, roll back now (`shipgate rollback`); on no data, a missing signal or a short window, fix the signal sources and watch a full window after the deploy again (`shipgate watch`)",
	},
}

# required_signals and min_window_minutes come from data (monitoring.*).
required_signals := object.get(lib.config, ["monitoring", "required_signals"], [])

min_window_minutes := object.get(lib.config, ["monitoring", "min_window_minutes"], 15)

# monitorings are the newest of the Monitoring documents whose window started
# after the newest succeeded Deploy finished; each one of a tie is judged, so
# the worst of the tie counts.
monitorings := lib.newest_of(lib.tied_monitoring)

window(monitoring) := sprintf("%s to %s", [monitoring.data.window.start, monitoring.data.window.end])

breached(monitoring) := [signal_name(signal) |
	some signal in monitoring.data.signals
	signal.status == "breach"
]

without_data(monitoring) := [signal_name(signal) |
	some signal in monitoring.data.signals
	signal.status == "no-data"
]

signal_name(signal) := sprintf("%s (observed %v, baseline %v)", [signal.name, signal.observed, signal.baseline]) if {
	signal.observed
	signal.baseline
} else := signal.name

on(monitoring, message) := {"rule": "monitoring.healthy", "message": message, "evidence": [monitoring.digest]}

findings contains {
	"rule": "monitoring.healthy",
	"message": "no Monitoring evidence: the monitoring window was not recorded, and no data is not healthy",
	"evidence": [],
} if count(input.evidence.Monitoring) == 0

findings contains {
	"rule": "monitoring.healthy",
	"message": sprintf("no Monitoring window started after the deploy finished, and no data is not healthy (%s)", [lib.ignored_monitoring]),
	"evidence": lib.digests(input.evidence.Monitoring),
} if {
	count(input.evidence.Monitoring) > 0
	count(monitorings) == 0
}

findings contains on(monitoring, message) if {
	some monitoring in monitorings
	monitoring.data.result == "breach"
	message := sprintf("monitoring %s breached: %s", [window(monitoring), lib.join(breached(monitoring))])
}

findings contains on(monitoring, message) if {
	some monitoring in monitorings
	monitoring.data.result == "no-data"
	message := sprintf(
		"monitoring %s returned no data, and no data is not healthy (signals without data: %s)",
		[window(monitoring), lib.join(without_data(monitoring))],
	)
}

# A signal that is not healthy fires even when result says healthy; signals
# already named by a breach or no-data result are not repeated.
findings contains on(monitoring, message) if {
	some monitoring in monitorings
	some signal in monitoring.data.signals
	signal.status != "healthy"
	signal.status != monitoring.data.result
	message := sprintf(
		"monitoring %s: signal %s is %s, not healthy (result %s)",
		[window(monitoring), signal_name(signal), signal.status, monitoring.data.result],
	)
}

findings contains on(monitoring, message) if {
	some monitoring in monitorings
	some name in required_signals
	every signal in monitoring.data.signals {
		signal.name != name
	}
	message := sprintf("monitoring %s: required signal %s is missing", [window(monitoring), name])
}

findings contains on(monitoring, message) if {
	some monitoring in monitorings
	minutes := (lib.ns(monitoring.data.window.end) - lib.ns(monitoring.data.window.start)) / 60000000000
	minutes < min_window_minutes
	message := sprintf(
		"monitoring window %s lasted %v minutes, shorter than the required %v minutes",
		[window(monitoring), minutes, min_window_minutes],
	)
}

obligations contains {
	"kind": "rollback",
	"rule": "monitoring.healthy",
	"message": sprintf("rollback now: safety signals breached after release: %s", [lib.join(sort(signals))]),
} if {
	signals := {name |
		some monitoring in monitorings
		some name in breached(monitoring)
	}
	some monitoring in monitorings
	breach(monitoring)
}

breach(monitoring) if monitoring.data.result == "breach"

breach(monitoring) if count(breached(monitoring)) > 0
