package shipgate.rules.release_test

import data.shipgate.gates
import data.shipgate.lib.fixtures as f
import data.shipgate.rules.release

in_environment(gate, environment) := object.union(f.input_for(gate), {"release": {"environment": environment}})

# release.environment-undeclared

test_environment_undeclared_quiet_for_a_declared_environment if {
	every environment in ["production", "staging"] {
		count(release.findings) == 0 with input as in_environment("deploy", environment)
	}
}

test_environment_undeclared_fires_for_a_relabelled_environment if {
	findings := release.findings with input as in_environment("deploy", "Production")
	f.says(findings, "release.environment-undeclared", "environment \"Production\" is not declared (declared: production, staging); it differs from production only in case or spaces")
	f.says(release.findings, "release.environment-undeclared", "environment \"prod\" is not declared (declared: production, staging):") with input as in_environment("deploy", "prod")
}

test_environment_undeclared_fires_without_declared_environments if {
	findings := release.findings with input as f.input_for("deploy")
		with data.shipgate.config.environments as []
	f.says(findings, "release.environment-undeclared", "(declared: none)")
}

# Relabelled evidence skips the freeze of production: the release denies at
# every gate instead.
decide("deploy") := gates.deploy.decision

decide("verify") := gates.verify.decision

decide("complete") := gates.complete.decision

decide("flag") := gates.flag.decision

test_a_relabelled_release_denies_at_every_gate if {
	every environment in ["Production", "prod", " production"] {
		every gate in ["deploy", "verify", "complete", "flag"] {
			decision := decide(gate) with input as in_environment(gate, environment)
			decision.allow == false
			"release.environment-undeclared" in {v.rule | some v in decision.violations}
		}
	}
}

# release.rolled-back

rolled_back(gate, rollbacks) := findings if {
	findings := release.findings with input as f.with_evidence(gate, object.union(f.happy_evidence[gate], {"Rollback": rollbacks}))
}

test_rolled_back_fires_after_the_deploy if {
	# The deploy finished at 10:06:08; the rollback ran 10:30 to 10:31.
	rollback := f.rollback("succeeded", 60)
	every gate in ["verify", "complete"] {
		findings := rolled_back(gate, [rollback])
		some finding in findings
		finding.rule == "release.rolled-back"
		finding.evidence == [rollback.digest]
		contains(finding.message, "succeeded fast rollback")
		contains(finding.message, "after the deploy: the release was rolled back: a rolled-back release cannot be verified or completed")
	}
}

test_rolled_back_fires_for_a_failed_rollback_too if {
	f.says(rolled_back("complete", [f.rollback("failed", 60)]), "release.rolled-back", "after the deploy: what runs now is unknown")
}

test_rolled_back_fires_whatever_the_rollback_says_of_its_times if {
	# Finished before it started, and both before the deploy, but collected after it.
	misdated := object.union(f.rollback("succeeded", 60), {
		"collectedAt": "2026-11-26T10:20:00Z",
		"data": {"startedAt": "2026-11-26T10:01:00Z", "finishedAt": "2026-11-26T10:00:00Z"},
	})
	"release.rolled-back" in f.fired(rolled_back("complete", [misdated]))
}

test_rolled_back_quiet_for_a_rollback_before_the_redeploy if {
	# Rolled back at 10:02 (collected 10:03), then deployed again at 10:06.
	earlier := object.union(f.rollback("succeeded", 60), {
		"collectedAt": "2026-11-26T10:03:00Z",
		"data": {"startedAt": "2026-11-26T10:01:00Z", "finishedAt": "2026-11-26T10:02:00Z"},
	})
	count(rolled_back("complete", [earlier])) == 0
}

test_rolled_back_fires_without_a_succeeded_deploy if {
	findings := release.findings with input as f.with_evidence("complete", {"Deploy": [f.deploy_request], "Rollback": [f.rollback("succeeded", 60)]})
	"release.rolled-back" in f.fired(findings)
}

test_a_rolled_back_release_cannot_complete if {
	decision := gates.complete.decision with input as f.with_evidence("complete", object.union(f.happy_evidence.complete, {"Rollback": [f.rollback("succeeded", 5)]}))
	decision.allow == false
	{v.rule | some v in decision.violations} == {"release.rolled-back"}
}

test_rolled_back_quiet_for_an_emergency_rollback if {
	# A flag turned off: the release's commit still runs, and is verified again.
	emergency := object.union(f.rollback("succeeded", 6), {"data": {"strategy": "emergency", "flag": "new-editor"}})
	count(rolled_back("verify", [emergency])) == 0
}
