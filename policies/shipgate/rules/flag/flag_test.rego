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

# A user percentage under another strategy's name (issue #14).
test_strategy_fires_for_a_percentage_in_an_environment_or_route if {
	every patch in [
		{"strategy": "environment", "environment": "production:10%"},
		{"strategy": "environment", "environment": "production?rollout=0.1"},
		{"strategy": "route", "routes": ["/editor", "/checkout?pct=25"]},
		{"strategy": "route", "routes": ["/checkout/10%25"]},
		{"strategy": "toggle", "percentage": 25},
	] {
		change := object.union(f.flag_change("toggle"), {"data": patch})
		findings := flag.findings with input as f.with_evidence("flag", {"FlagChange": [change]})
		"flag.strategy-not-enabled" in f.fired(findings)
	}
	change := object.union(f.flag_change("route"), {"data": {"routes": ["/checkout?pct=25"]}})
	findings := flag.findings with input as f.with_evidence("flag", {"FlagChange": [change]})
	f.says(findings, "flag.strategy-not-enabled", "flag new-subtitle-editor (strategy route) carries a user percentage in its route 0 \"/checkout?pct=25\": user-percentage rollout is not enabled for localizevideos-app")
}

test_strategy_quiet_for_plain_environments_and_routes if {
	every patch in [
		{"strategy": "environment", "environment": "production"},
		{"strategy": "route", "routes": ["/editor", "/api/v2/subtitles?lang=fr"]},
		{"strategy": "toggle", "percentage": 100},
		{"strategy": "environment", "environment": "production:10%", "enabled": false},
	] {
		change := object.union(f.flag_change("toggle"), {"data": patch})
		count(flag.findings) == 0 with input as f.with_evidence("flag", {"FlagChange": [change]})
	}
}

test_strategy_percentage_allowed_once_user_percentage_is_declared if {
	change := object.union(f.flag_change("environment"), {"data": {"environment": "production:10%"}})
	findings := flag.findings with input as f.with_evidence("flag", {"FlagChange": [change]})
		with data.shipgate.config.services["localizevideos-app"].capabilities as {"user-percentage": {"metrics": true, "alerts": true, "human_override": true}}
	count(findings) == 0
}

test_strategy_a_canary_share_is_judged_once if {
	change := object.union(f.flag_change("canary"), {"data": {"environment": "production:5%", "percentage": 5}})
	findings := flag.findings with input as f.with_evidence("flag", {"FlagChange": [change]})
	f.count_of(findings, "flag.strategy-not-enabled") == 1
}
