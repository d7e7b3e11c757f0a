package shipgate.rules.capability_test

import data.shipgate.lib.fixtures as f
import data.shipgate.rules.capability

with_capabilities(capabilities) := findings if {
	findings := capability.findings with input as f.input_for("flag")
		with data.shipgate.config.services["localizevideos-app"].capabilities as capabilities
}

test_prerequisites_quiet_without_capabilities if {
	findings := capability.findings with input as f.input_for("deploy")
	count(findings) == 0
}

test_prerequisites_quiet_when_complete if {
	count(with_capabilities({"canary": {"metrics": true, "alerts": true, "human_override": true}})) == 0
}

test_prerequisites_fires_once_per_incomplete_capability if {
	findings := with_capabilities({
		"canary": {"metrics": true, "alerts": false},
		"automated-rollback": {"metrics": true, "alerts": true, "human_override": "yes"},
		"ci-builds": {"metrics": true, "alerts": true, "human_override": true},
	})
	f.count_of(findings, "capability.prerequisites") == 2
	f.says(findings, "capability.prerequisites", "capability canary of localizevideos-app lacks alerts, human_override")
	f.says(findings, "capability.prerequisites", "capability automated-rollback of localizevideos-app lacks human_override")
}
