package shipgate.gates.ties_test

import data.shipgate.gates
import data.shipgate.lib.fixtures as f

# No tie decides (issue #14): where several documents of a kind were
# collected at the same time, every one of them is judged and the worst
# counts. The engine orders such documents by digest; these tests give the
# same documents in every order and expect the same denial each time.

# decide(gate) is the decision of gate (evaluate it with input as …).
decide(gate) := gates.deploy.decision if gate == "deploy"

else := gates.verify.decision if gate == "verify"

else := gates.complete.decision if gate == "complete"

else := gates.flag.decision

reverse(xs) := [xs[(count(xs) - 1) - i] | some i, _ in xs]

rotate(xs) := array.concat(array.slice(xs, 1, count(xs)), array.slice(xs, 0, 1)) if count(xs) > 0

else := []

# orders(given) is the input given with its evidence as it is, reversed and
# rotated.
orders(given) := [
	given,
	object.union(given, {"evidence": {kind: reverse(docs) | some kind, docs in given.evidence}}),
	object.union(given, {"evidence": {kind: rotate(docs) | some kind, docs in given.evidence}}),
]

rules_of(decision) := {v.rule | some v in decision.violations}

open_sev1 := f.incidents([f.incident("INC-42", "SEV-1", "open")])

# A curl | sh deploy, collected at the same time as the approved request.
curl_sh := f.deploy_with({"command": ["sh", "-c", "curl -fsSL https://get.example.com | sh"]})

# early_check ran before the deploy finished: it is named as ignored, in an
# order that does not follow the input.
early_check := object.union(f.verification({"login": "failed"}), {"data": {"startedAt": "2026-11-26T10:05:00Z", "finishedAt": "2026-11-26T10:05:30Z"}})

# Each case: a gate, the tied evidence (the bad document last), and the rule
# that must deny.
cases := [
	["deploy", {"IncidentStatus": [f.incident_status, open_sev1]}, "forbidden.deploy-during-incident"],
	["deploy", {"IncidentStatus": [f.incident_status, f.incidents([]), open_sev1]}, "forbidden.deploy-during-incident"],
	["deploy", {"Deploy": [f.deploy_request, f.deploy_with({"source": {"clean": false}})]}, "forbidden.hot-patch"],
	["deploy", {"Deploy": [f.deploy_request, curl_sh]}, "deploy.approved-command"],
	["deploy", {"Deploy": [f.deploy_request, f.deploy_with({"trigger": "manual"})]}, "forbidden.direct-push"],
	["deploy", {"Plan": [f.plan, f.plan_without(["changeTicket"])]}, "freeze.unplanned"],
	["deploy", {"Plan": [f.plan, f.plan_without(["rollbackPlan"])]}, "forbidden.no-rollback-plan"],
	["deploy", {"Plan": [f.plan, f.plan_with({"errorBudget": {"remaining": 0}})]}, "checklist.error-budget"],
	["deploy", {"Plan": [f.plan, f.plan_without(["documentation/runbook/reviewer"])]}, "checklist.runbook-reviewed"],
	[
		# Deploys of a tie by alice and bob: bob approving is a self-approval.
		"deploy",
		{"Deploy": [f.deploy_request, f.deploy_with({"actor": "bob"})], "Approval": [f.approval("bob", "approved")]},
		"approval.required",
	],
	["verify", {"Deploy": [f.deploy_request, f.deployed(8), f.deploy_failed]}, "verify.deploy-succeeded"],
	["verify", {"Verification": [early_check, f.verification({}), f.verification({"home": "failed"})]}, "verify.mandatory-checks"],
	[
		"complete",
		{"Monitoring": [f.monitoring("healthy", f.healthy_signals), f.monitoring("breach", [f.signal("error_rate", "breach")])]},
		"monitoring.healthy",
	],
	["flag", {"FlagChange": [f.flag_change("toggle"), f.flag_change("canary")]}, "flag.strategy-not-enabled"],
]

test_no_order_of_a_tie_allows if {
	every c in cases {
		[gate, evidence, rule] := c
		decisions := [decision |
			some ordered in orders(f.with_evidence(gate, evidence))
			decision := decide(gate) with input as ordered
		]
		count(decisions) == 3
		every decision in decisions {
			decision == decisions[0]
			decision.allow == false
			rule in rules_of(decision)
		}
	}
}

# Without its last (bad) document each case allows: the denial comes from
# the tie, not from something else in the case.
test_the_good_documents_of_each_tie_allow if {
	every c in cases {
		[gate, evidence, _] := c
		good := {kind: but_last(docs) | some kind, docs in evidence}
		decision := decide(gate) with input as f.with_evidence(gate, good)
		decision.allow == true
	}
}

but_last(docs) := array.slice(docs, 0, count(docs) - 1) if count(docs) > 1

else := docs
