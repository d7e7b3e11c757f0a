# Package shipgate.lib.fixtures builds test inputs: the evidence of a complete,
# healthy LocalizeVideos release, and small variations of it. The file ends in
# _test.rego so that only `opa test` loads it, never the engine.
package shipgate.lib.fixtures

now := "2026-11-26T10:05:00Z"

# now_at is when each gate of the healthy release is asked: the monitoring
# window (10:08 to 10:23) has ended by the complete gate.
now_at := {
	"deploy": now,
	"verify": "2026-11-26T10:12:00Z",
	"complete": "2026-11-26T10:30:00Z",
	"flag": now,
}

commit := "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"

previous_commit := "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"

release := {
	"id": "lv-2026-11-26.1",
	"service": "localizevideos-app",
	"environment": "production",
	"commit": commit,
	"repository": "localizevideos/app",
}

# doc wraps kind-specific data in an evidence envelope; the digest derives from name.
doc(kind, name, body) := {
	"digest": digest(name),
	"apiVersion": "shipgate.dev/v1",
	"kind": kind,
	"release": {"id": release.id, "service": release.service, "environment": release.environment},
	"subject": {"repository": release.repository, "commit": commit},
	"collectedAt": "2026-11-26T10:00:00Z",
	"collector": {"name": "shipgate", "version": "0.1.0", "host": "ci-7", "actor": "ci-bot"},
	"data": body,
}

digest(name) := sprintf("sha256:%s", [crypto.sha256(name)])

# earlier(d) is d collected a minute before the others: not one of the
# newest tie.
earlier(d) := object.union(d, {"collectedAt": "2026-11-26T09:59:00Z"})

# Plan

plan_data := {
	"changeTicket": "CHG-1234",
	"window": {"start": "2026-11-26T10:00:00Z", "end": "2026-11-26T11:00:00Z"},
	"documentation": {
		"runbook": {
			"url": "https://wiki.example.com/lv/runbook",
			"reviewer": "carol",
			"reviewedAt": "2026-11-20T15:00:00Z",
		},
		"releaseNotes": {"url": "https://wiki.example.com/lv/releases/2026-11-26"},
	},
	"rollbackPlan": {
		"previousCommit": previous_commit,
		"command": ["git", "revert", "--no-edit", commit],
	},
	"errorBudget": {"remaining": 0.42, "slo": "99.5% availability"},
	"ci": {"status": "passed", "provider": "github-actions", "runId": "4242"},
	"changeSize": {"filesChanged": 3, "linesAdded": 120, "linesDeleted": 30},
}

plan := doc("Plan", "plan", plan_data)

# plan_with(patch) is the Plan with patch merged into its data.
plan_with(patch) := doc("Plan", "plan-patched", object.union(plan_data, patch))

# plan_without(paths) is the Plan without the data fields at paths ("a/b").
plan_without(paths) := doc("Plan", "plan-trimmed", json.remove(plan_data, paths))

# emergency_plan(incident) declares an emergency release for incident.
emergency_plan(incident) := plan_with({"emergency": {
	"incident": incident,
	"justification": "login is broken for every user; the fix is one line",
}})

# IncidentStatus

incident(id, severity, status) := {
	"id": id,
	"severity": severity,
	"status": status,
	"title": "Checkout is down",
	"openedAt": "2026-11-26T09:12:00Z",
}

incidents(list) := doc("IncidentStatus", sprintf("incidents-%v", [list]), {"source": "pagerduty", "incidents": list})

incident_status := incidents([incident("INC-40", "SEV-3", "open"), incident("INC-39", "SEV-1", "resolved")])

# emergency_incidents lists the open SEV-1 INC-42 that emergency_plan("INC-42")
# names: the emergency path needs the incident in the newest IncidentStatus.
emergency_incidents := incidents([incident("INC-42", "SEV-1", "open")])

# emergency_evidence(plan) is plan with the incident list that names INC-42.
emergency_evidence(plan) := {"Plan": [plan], "IncidentStatus": [emergency_incidents]}

# Build

build(status, exit_code) := doc("Build", sprintf("build-%s-%d", [status, exit_code]), {
	"command": ["npm", "run", "build"],
	"status": status,
	"exitCode": exit_code,
	"startedAt": "2026-11-26T09:58:00Z",
	"finishedAt": "2026-11-26T09:59:12Z",
	"durationSeconds": 72,
	"source": {"branch": "main", "onMain": true, "clean": true, "commitKnown": true},
})

# Deploy

deploy_request_data := {
	"command": ["pm2", "restart", "localizevideos-app", "--update-env"],
	"status": "requested",
	"actor": "alice",
	"trigger": "shipgate-run",
	"source": {"branch": "main", "onMain": true, "clean": true, "commitKnown": true},
	"host": "lv-prod-1",
}

deploy_request := doc("Deploy", "deploy-requested", deploy_request_data)

# deploy_with(patch) is the deploy request with patch merged into its data.
deploy_with(patch) := doc("Deploy", "deploy-patched", object.union(deploy_request_data, patch))

# deployed(seconds) is a succeeded deploy that took seconds, collected after
# the request (the newest Deploy).
deployed(seconds) := deploy_outcome(sprintf("deploy-succeeded-%v", [seconds]), {
	"status": "succeeded",
	"durationSeconds": seconds,
})

# deploy_failed is a failed deploy, collected when deployed(8) would be.
deploy_failed := deploy_outcome("deploy-failed", {"status": "failed", "durationSeconds": 8, "exitCode": 1})

# deploy_outcome(name, patch) is a finished deploy, finished at 10:06:08 and
# collected at 10:06:10, with patch merged into its data.
deploy_outcome(name, patch) := object.union(
	doc("Deploy", name, object.union(
		object.union(deploy_request_data, {
			"startedAt": "2026-11-26T10:06:00Z",
			"finishedAt": "2026-11-26T10:06:08Z",
			"exitCode": 0,
		}),
		patch,
	)),
	{"collectedAt": "2026-11-26T10:06:10Z"},
)

# Approval

approval_for(approver, decision, gate) := doc("Approval", sprintf("approval-%s-%s-%s", [approver, decision, gate]), {
	"approver": approver,
	"decision": decision,
	"gate": gate,
	"approvedAt": "2026-11-26T10:01:00Z",
	"comment": "looks good",
})

approval(approver, decision) := approval_for(approver, decision, "deploy")

# Verification

mandatory_checks := ["home", "login", "logout", "api-me", "error-spike"]

check(name, status) := {"name": name, "status": status, "message": sprintf("%s %s", [name, status]), "durationMs": 120}

# verification(statuses) checks every mandatory check; statuses maps some of
# them to a status other than passed.
verification(statuses) := doc("Verification", sprintf("verification-%v", [statuses]), {
	"checks": [check(name, object.get(statuses, name, "passed")) | some name in mandatory_checks],
	"startedAt": "2026-11-26T10:07:00Z",
	"finishedAt": "2026-11-26T10:07:30Z",
	"target": "https://localizevideos.example.com",
})

# Monitoring

signal(name, status) := {"name": name, "status": status, "observed": 0.01, "baseline": 0.01, "samples": 15}

monitoring(result, signals) := doc("Monitoring", sprintf("monitoring-%s", [result]), {
	"window": {"start": "2026-11-26T10:08:00Z", "end": "2026-11-26T10:23:00Z"},
	"result": result,
	"signals": signals,
})

healthy_signals := [signal(name, "healthy") | some name in ["error_rate", "auth_success", "latency_p95", "cpu", "memory"]]

# Rollback

rollback(status, seconds) := doc("Rollback", sprintf("rollback-%s-%v", [status, seconds]), {
	"strategy": "fast",
	"status": status,
	"fromCommit": commit,
	"toCommit": previous_commit,
	"startedAt": "2026-11-26T10:30:00Z",
	"finishedAt": "2026-11-26T10:31:00Z",
	"durationSeconds": seconds,
})

# FlagChange

flag_change(strategy) := doc("FlagChange", sprintf("flag-%s", [strategy]), {
	"flag": "new-subtitle-editor",
	"strategy": strategy,
	"enabled": true,
	"actor": "alice",
	"reason": "enable the new editor",
})

# Override

override_doc(rule, approver, expires_at, gate) := doc("Override", sprintf("override-%s-%s-%s-%s", [rule, approver, expires_at, gate]), object.union(
	{
		"rule": rule,
		"approver": approver,
		"reason": "accepted risk for this release",
		"createdAt": "2026-11-26T10:00:00Z",
		"expiresAt": expires_at,
	},
	gate_field(gate),
))

gate_field("") := {}

gate_field(gate) := {"gate": gate} if gate != ""

# override_by(rule, approver) is an Override valid for a day, at any gate.
override_by(rule, approver) := override_doc(rule, approver, "2026-11-27T10:00:00Z", "")

# Inputs

kinds := [
	"Plan", "IncidentStatus", "Build", "Deploy", "Verification", "Monitoring",
	"Rollback", "FlagChange", "Approval", "Override", "Postmortem", "Hold", "ErrorBudget",
]

no_evidence := {kind: [] | some kind in kinds}

# happy_evidence is what a healthy release has recorded by each gate.
happy_evidence := {
	"deploy": deploy_evidence,
	"verify": verify_evidence,
	"complete": object.union(verify_evidence, {"Monitoring": [monitoring("healthy", healthy_signals)]}),
	"flag": {"FlagChange": [flag_change("toggle")]},
}

deploy_evidence := {
	"Plan": [plan],
	"IncidentStatus": [incident_status],
	"Build": [earlier(build("failed", 1)), build("passed", 0)],
	"Deploy": [deploy_request],
	"Approval": [approval("bob", "approved")],
}

verify_evidence := object.union(deploy_evidence, {
	"Deploy": [deploy_request, deployed(8)],
	"Verification": [verification({})],
})

# input_for(gate) is the input of a healthy LocalizeVideos release at gate.
input_for(gate) := {
	"gate": gate,
	"now": object.get(now_at, gate, now),
	"release": release,
	"evidence": object.union(no_evidence, happy_evidence[gate]),
	"facts": {"freeze": {"active": false, "windows": []}},
	"violations": [],
}

# with_evidence(gate, evidence) replaces some kinds' evidence in input_for(gate).
with_evidence(gate, evidence) := object.union(input_for(gate), {"evidence": evidence})

# patched(gate, patch) merges patch into input_for(gate).
patched(gate, patch) := object.union(input_for(gate), patch)

# hard_freeze is the input fact of an active year-end freeze.
hard_freeze := {"freeze": {
	"active": true,
	"windows": [{
		"id": "year-end-2026",
		"name": "Year-end freeze",
		"reason": "holiday traffic peak",
		"start": "2026-12-22T00:00:00Z",
		"end": "2027-01-04T00:00:00Z",
	}],
}}

# Assertions on findings

# fired(findings) is the set of rule ids among findings.
fired(findings) := {finding.rule | some finding in findings}

# says(findings, rule, text) holds when a finding of rule mentions text.
says(findings, rule, text) if {
	some finding in findings
	finding.rule == rule
	contains(finding.message, text)
}

# count_of(findings, rule) is the number of findings of rule.
count_of(findings, rule) := count([finding | some finding in findings; finding.rule == rule])
