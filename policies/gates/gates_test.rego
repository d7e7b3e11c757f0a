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
	decision.rules == ["release.environment-undeclared", "signature.required", "verify.deploy-succeeded", "verify.mandatory-checks"]
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
