# Package shipgate.rules.monitoring judges the first minutes after a release:
# every safety signal must be healthy, and no data is not healthy.
package shipgate.rules.monitoring

import data.shipgate.lib

rules["monitoring.healthy"] := {
	"title": "Safety signals healthy after release",
	"enforcement": "hard",
	"gates": {"complete"},
	"remediation": "on a breach, roll back now (`shipgate rollback`); on no data, fix the signal sources and watch the window again (`shipgate watch`)",
}

monitoring := lib.latest("Monitoring")

window := sprintf("%s to %s", [monitoring.data.window.start, monitoring.data.window.end])

signals_with(status) := [signal_name(signal) |
	some signal in monitoring.data.signals
	signal.status == status
]

signal_name(signal) := sprintf("%s (observed %v, baseline %v)", [signal.name, signal.observed, signal.baseline]) if {
	signal.observed
	signal.baseline
} else := signal.name

findings contains {
	"rule": "monitoring.healthy",
	"message": "no Monitoring evidence: the monitoring window was not recorded, and no data is not healthy",
	"evidence": [],
} if not monitoring

findings contains lib.about_latest("Monitoring", "monitoring.healthy", message) if {
	monitoring.data.result == "breach"
	message := sprintf("monitoring %s breached: %s", [window, lib.join(signals_with("breach"))])
}

findings contains lib.about_latest("Monitoring", "monitoring.healthy", message) if {
	monitoring.data.result == "no-data"
	message := sprintf(
		"monitoring %s returned no data, and no data is not healthy (signals without data: %s)",
		[window, lib.join(signals_with("no-data"))],
	)
}

obligations contains {
	"kind": "rollback",
	"rule": "monitoring.healthy",
	"message": sprintf("rollback now: safety signals breached after release: %s", [lib.join(signals_with("breach"))]),
} if monitoring.data.result == "breach"
