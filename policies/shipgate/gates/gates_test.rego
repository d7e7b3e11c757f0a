package shipgate.gates_test

import data.shipgate.gates
import data.shipgate.lib.fixtures as f

happy := {
	"deploy": gates.deploy.decision,
	"verify": gates.verify.decision,
	"complete": gates.complete.decision,
	"flag": gates.flag.decision,
}

test_happy_release_is_allowed_at_every_gate if {
	every gate in ["deploy", "verify", "complete", "flag"] {
		decision := happy[gate] with input as f.input_for(gate)
		decision == {
			"allow": true,
			"violations": [],
			"overridden": [],
			"warnings": [],
			"obligations": [],
			"rules": decision.rules,
		}
		count(decision.rules) > 0
	}
}

test_each_gate_lists_its_rules if {
	decision := gates.verify.decision with input as f.input_for("verify")
	decision.rules == [
		"deploy.approved-command", "forbidden.direct-push", "forbidden.hot-patch",
		"policy.data-missing", "release.environment-undeclared", "release.rolled-back",
		"signature.required", "verify.deploy-succeeded", "verify.mandatory-checks",
	]
}

test_entrypoint_decides_for_its_own_gate if {
	# Called with the wrong input.gate, the deploy entrypoint still judges a deploy.
	decision := gates.deploy.decision with input as f.with_evidence("verify", {"Deploy": [f.deploy_with({"trigger": "manual"})]})
	"forbidden.direct-push" in {v.rule | some v in decision.violations}
	"approval.required" in decision.rules
}

test_missing_evidence_denies_every_gate if {
	empty := object.union(f.input_for("deploy"), {"evidence": f.no_evidence})
	every gate in ["deploy", "verify", "complete", "flag"] {
		decision := happy[gate] with input as object.union(empty, {"gate": gate})
		decision.allow == false
	}
}

# At the verify and complete gates, what ran is judged against what the
# deploy gate approved: a succeeded Deploy with another command, from a dirty
# tree or started by hand denies (issue #14).
test_verify_and_complete_judge_the_deploy_that_ran if {
	every case in [
		[{"exitCode": 3}, "verify.deploy-succeeded"],
		[{"command": ["pm2", "restart", "all"]}, "deploy.approved-command"],
		[{"source": {"clean": false}}, "forbidden.hot-patch"],
		[{"trigger": "manual"}, "forbidden.direct-push"],
	] {
		[patch, rule] := case
		ran := object.union(f.deployed(8), {"data": patch})
		every gate in ["verify", "complete"] {
			evidence := object.union(f.happy_evidence[gate], {"Deploy": [f.deploy_request, ran]})
			decision := happy[gate] with input as f.with_evidence(gate, evidence)
			decision.allow == false
			rule in {v.rule | some v in decision.violations}
		}
	}
}
