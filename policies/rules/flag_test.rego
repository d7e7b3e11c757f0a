package shipgate.rules.flag_test

import data.shipgate.lib.fixtures as f
import data.shipgate.rules.flag

flagged(strategy) := findings if {
	findings := flag.findings with input as f.with_evidence("flag", {"FlagChange": [f.flag_change(strategy)]})
}

test_strategy_quiet_for_allowed_strategies if {
	every strategy in ["toggle", "environment", "route"] {
		count(flagged(strategy)) == 0
	}
}

test_strategy_fires_for_gated_strategies if {
	every strategy in ["user-percentage", "canary", "traffic-split"] {
		"flag.strategy-not-enabled" in f.fired(flagged(strategy))
	}
}

test_strategy_message_names_flag_and_strategy if {
	change := f.flag_change("canary")
	findings := flag.findings with input as f.with_evidence("flag", {"FlagChange": [change]})
	some finding in findings
	finding.message == "flag new-subtitle-editor uses strategy canary, which is not enabled for localizevideos-app (declared capabilities: none)"
	finding.evidence == [change.digest]
}

test_strategy_quiet_once_the_capability_is_declared if {
	findings := flag.findings with input as f.with_evidence("flag", {"FlagChange": [f.flag_change("canary")]})
		with data.shipgate.config.services["localizevideos-app"].capabilities as {"canary": {"metrics": true, "alerts": true, "human_override": true}}
	count(findings) == 0
}

test_strategy_fires_without_flag_change if {
	findings := flag.findings with input as f.with_evidence("flag", {"FlagChange": []})
	f.says(findings, "flag.strategy-not-enabled", "no FlagChange evidence")
}

test_strategy_quiet_when_turning_a_gated_flag_off if {
	change := object.union(f.flag_change("canary"), {"data": {"enabled": false}})
	findings := flag.findings with input as f.with_evidence("flag", {"FlagChange": [change]})
	count(findings) == 0
}
