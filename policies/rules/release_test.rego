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
