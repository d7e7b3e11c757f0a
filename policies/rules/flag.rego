# Package shipgate.rules.flag: code-level flags, environment toggles and
# per-route enablement are allowed; user-percentage rollout, canaries and
# traffic splitting wait until the capability is declared.
package shipgate.rules.flag

import data.shipgate.lib

rules := {
	"flag.strategy-not-enabled": {
		"title": "Flag strategy enabled for the service",
		"enforcement": "hard",
		"gates": {"flag"},
		"remediation": "use a toggle, environment or route strategy, or declare the capability (with metrics, alerts and a human override) in services.<service>.capabilities through a reviewed policy change",
	},
}

findings contains {
	"rule": "flag.strategy-not-enabled",
	"message": "no FlagChange evidence: the flag change to judge is unknown",
	"evidence": [],
} if count(input.evidence.FlagChange) == 0

# Each FlagChange of the newest tie is judged.
findings contains lib.about(doc, "flag.strategy-not-enabled", message) if {
	some doc in lib.newest("FlagChange")
	change := doc.data
	change.enabled # turning a flag off is the emergency rollback: always allowed
	change.strategy in lib.config.flags.gated_strategies
	not change.strategy in object.keys(lib.capabilities)
	message := sprintf(
		"flag %s uses strategy %s, which is not enabled for %s (declared capabilities: %s)",
		[change.flag, change.strategy, input.release.service, lib.join(sort(object.keys(lib.capabilities)))],
	)
}
