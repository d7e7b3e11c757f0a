package mutation_test

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/localizevideos/shipgate/engine"
)

// edits changes documents of a step by name; a nil func leaves the
// document out.
type edits map[string]func(m map[string]any)

// rule adds a case on stepID whose documents are changed by e, plus the
// documents of added, denying with one of codes.
func (k *corpus) rule(name, desc, stepID string, codes []string, e edits, added map[string]map[string]any) {
	c := k.at(stepID)
	files := map[string][]byte{}
	for doc, f := range e {
		if f == nil {
			c.Without = append(c.Without, doc)
			continue
		}
		m := k.doc(stepID, doc)
		f(m)
		files[doc] = encode(m)
	}
	for doc, m := range added {
		files[doc] = encode(m)
	}
	slices.Sort(c.Without)
	k.add("rule-"+name, desc, c, denyWith(codes...), files)
}

func to(path string, v any) func(m map[string]any) {
	return func(m map[string]any) { set(m, split(path), v) }
}

func without(paths ...string) func(m map[string]any) {
	return func(m map[string]any) {
		for _, p := range paths {
			remove(m, split(p))
		}
	}
}

func all(fs ...func(m map[string]any)) func(m map[string]any) {
	return func(m map[string]any) {
		for _, f := range fs {
			f(m)
		}
	}
}

func n(s string) json.Number { return json.Number(s) }

func codesOf(codes ...string) []string { return codes }

// rules: a case for each denial docs/rules.md describes, built from the
// allowed release and the example cases.
func (k *corpus) rules() {
	const deploy, verify, complete, flag = "allowed/deploy", "allowed/verify", "allowed/complete", "flag-route/flag"
	const emergency, override = "emergency/deploy", "override-error-budget/deploy"
	one := codesOf

	// checklist.*
	k.rule("build-missing", "no Build was recorded", deploy, one(ruleBuild), edits{"build.json": nil}, nil)
	k.rule("build-failed", "the Build failed with exit code 1", deploy, one(ruleBuild),
		edits{"build.json": all(to("data.status", "failed"), to("data.exitCode", n("1")))}, nil)
	k.rule("build-passed-exit-1", "the Build says passed but exited 1", deploy, one(ruleBuild), edits{"build.json": to("data.exitCode", n("1"))}, nil)
	k.rule("error-budget-spent", "the Plan's error budget is spent", deploy, one(ruleBudget), edits{"plan.json": to("data.errorBudget.remaining", n("0"))}, nil)
	k.rule("error-budget-missing", "the Plan records no error budget", deploy, one(ruleBudget), edits{"plan.json": without("data.errorBudget")}, nil)
	spent := k.made("ErrorBudget")
	set(spent, split("data.remaining"), n("-0.1"))
	k.rule("error-budget-measured-spent", "a measured ErrorBudget, which counts before the Plan's, is overspent", deploy, one(ruleBudget),
		nil, map[string]map[string]any{"errorbudget.json": spent})
	k.rule("runbook-review-old", "the runbook was last reviewed 56 days ago", deploy, one(ruleRunbook),
		edits{"plan.json": to("data.documentation.runbook.reviewedAt", "2026-10-01T09:00:00Z")}, nil)
	k.rule("runbook-review-future", "the runbook review is dated after now", deploy, one(ruleRunbook),
		edits{"plan.json": to("data.documentation.runbook.reviewedAt", "2026-12-01T09:00:00Z")}, nil)
	k.rule("runbook-no-reviewer", "nobody is named as the runbook's reviewer", deploy, one(ruleRunbook),
		edits{"plan.json": without("data.documentation.runbook.reviewer")}, nil)

	// deploy.approved-command, forbidden.*
	for name, cmd := range map[string][]any{
		"without-update-env": {"pm2", "restart", "localizevideos-app"},
		"npm-start":          {"npm", "start"},
		"shell-string":       {"sh", "-c", "pm2 restart localizevideos-app --update-env"},
		"other-app":          {"pm2", "restart", "localizevideos-api", "--update-env"},
	} {
		k.rule("command-"+name, "the deploy command is not the approved one", deploy, one(ruleCommand), edits{"deploy-requested.json": to("data.command", cmd)}, nil)
	}
	k.rule("command-no-deploy", "no Deploy: the deploy command is unknown", deploy, one(ruleCommand), edits{"deploy-requested.json": nil}, nil)
	k.rule("direct-push-manual", "the deploy was triggered by hand", deploy, one(ruleDirectPush), edits{"deploy-requested.json": to("data.trigger", "manual")}, nil)
	k.rule("direct-push-unknown-trigger", "the deploy's trigger is unknown", deploy, one(ruleDirectPush), edits{"deploy-requested.json": to("data.trigger", "unknown")}, nil)
	k.rule("direct-push-branch", "deployed from a feature branch not on main", deploy, one(ruleDirectPush),
		edits{"deploy-requested.json": all(to("data.source.branch", "hotfix/login"), to("data.source.onMain", false))}, nil)
	k.rule("direct-push-not-on-main", "deployed from main, but the commit is not on main", deploy, one(ruleDirectPush),
		edits{"deploy-requested.json": to("data.source.onMain", false)}, nil)
	k.rule("hot-patch-dirty-tree", "deployed from a tree with uncommitted changes", deploy, one(ruleHotPatch), edits{"deploy-requested.json": to("data.source.clean", false)}, nil)
	k.rule("hot-patch-unknown-commit", "deployed a commit the repository does not have", deploy, one(ruleHotPatch),
		edits{"deploy-requested.json": to("data.source.commitKnown", false)}, nil)
	k.rule("incident-open-sev1", "INC-41 is now an open SEV-1", deploy, one(ruleIncident), edits{"incidents.json": to("data.incidents.1.severity", "SEV-1")}, nil)
	k.rule("incident-mitigated-sev2", "INC-39 (SEV-2) is only mitigated", deploy, one(ruleIncident), edits{"incidents.json": to("data.incidents.0.status", "mitigated")}, nil)
	k.rule("incident-status-missing", "no IncidentStatus: whether an incident is open is unknown", deploy, one(ruleIncident), edits{"incidents.json": nil}, nil)
	k.rule("incident-other-during-emergency", "the emergency lifts INC-42 only; another SEV-2 is open", emergency, one(ruleIncident),
		edits{"incidents.json": func(m map[string]any) {
			in, _ := get(m, split("data.incidents"))
			set(m, split("data.incidents"), append(in.([]any), map[string]any{"id": "INC-44", "severity": "SEV-2", "status": "open"}))
		}}, nil)
	k.rule("no-rollback-plan", "the Plan has no rollback plan", deploy, one(ruleRollbackPlan), edits{"plan.json": without("data.rollbackPlan")}, nil)
	k.rule("rollback-plan-to-release", "the rollback plan returns to the commit being released", deploy, one(ruleRollbackPlan),
		edits{"plan.json": to("data.rollbackPlan.previousCommit", "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e")}, nil)

	// freeze.*
	k.rule("freeze-no-ticket", "production is frozen and the Plan has no change ticket", deploy, one(ruleUnplanned), edits{"plan.json": without("data.changeTicket")}, nil)
	k.rule("freeze-no-window", "production is frozen and the Plan has no window", deploy, one(ruleUnplanned), edits{"plan.json": without("data.window")}, nil)
	k.rule("freeze-window-over", "the planned window ended before now", deploy, one(ruleUnplanned), edits{"plan.json": to("data.window.end", "2026-11-26T10:00:00Z")}, nil)
	k.rule("freeze-window-later", "the planned window opens after now", deploy, one(ruleUnplanned), edits{"plan.json": to("data.window.start", "2026-11-26T11:00:00Z")}, nil)
	k.rule("freeze-no-documentation", "the Plan links neither runbook nor release notes", deploy, one(ruleUndocumented), edits{"plan.json": without("data.documentation")}, nil)
	k.rule("freeze-no-release-notes", "the Plan links no release notes", deploy, one(ruleUndocumented),
		edits{"plan.json": without("data.documentation.releaseNotes")}, nil)
	k.rule("freeze-unverified", "CI failed and no Build passed", deploy, one("freeze.unverified"),
		edits{"plan.json": to("data.ci.status", "failed"), "build.json": all(to("data.status", "failed"), to("data.exitCode", n("1")))}, nil)
	for name, shift := range map[string]time.Duration{"weekend": 48 * time.Hour, "year-end": 27 * 24 * time.Hour} {
		c := k.at(deploy)
		c.Base = ""
		now := k.steps[deploy].now.Add(shift)
		c.Now = now.Format(time.RFC3339)
		k.add("rule-freeze-hard-window-"+name, "the allowed release moved, every time with it, into the "+name+" hard freeze ("+c.Now+")",
			c, denyWith(ruleHardWindow), k.shifted(deploy, shift))
	}
	k.rule("emergency-self-approved", "the deployer approves his own emergency", emergency, one(ruleEmergency), edits{"approval.json": to("data.approver", "dave")}, nil)
	k.rule("emergency-unknown-incident", "the emergency names an incident nobody lists", emergency, one(ruleEmergency),
		edits{"plan.json": to("data.emergency.incident", "INC-99")}, nil)
	k.rule("emergency-no-incident-status", "an emergency without any IncidentStatus to find its incident in", emergency, one(ruleEmergency),
		edits{"incidents.json": nil}, nil)
	k.rule("emergency-hot-patch", "the emergency path lifts the freeze, not the ban on hot patches", emergency, one(ruleHotPatch),
		edits{"deploy-requested.json": to("data.source.clean", false)}, nil)
	k.rule("emergency-no-build", "the emergency path still needs a passed Build", emergency, one(ruleBuild), edits{"build.json": nil}, nil)
	k.rule("emergency-wrong-command", "the emergency path still needs the approved command", emergency, one(ruleCommand),
		edits{"deploy-requested.json": to("data.command", []any{"pm2", "reload", "all"})}, nil)

	// approval.*
	k.rule("approval-missing", "nobody approved the deploy", deploy, one(ruleApproval), edits{"approval.json": nil}, nil)
	k.rule("approval-self", "the deployer approved his own deploy", deploy, one(ruleApproval), edits{"approval.json": to("data.approver", "dave")}, nil)
	k.rule("approval-not-an-approver", "someone who is not an approver approved", deploy, one(ruleApproval), edits{"approval.json": to("data.approver", "mallory")}, nil)
	k.rule("approval-other-gate", "the approval is for the verify gate", deploy, one(ruleApproval), edits{"approval.json": to("data.gate", "verify")}, nil)
	k.rule("approval-rejected", "the approver rejected the deploy", deploy, one(ruleRejected), edits{"approval.json": to("data.decision", "rejected")}, nil)
	rejection := k.doc(deploy, "approval.json")
	set(rejection, split("data.approver"), "bob")
	set(rejection, split("data.decision"), "rejected")
	set(rejection, split("data.comment"), "not before the load test")
	k.rule("approval-rejected-by-another", "bob rejected the deploy that alice approved", deploy, one(ruleRejected), nil,
		map[string]map[string]any{"approval-bob.json": rejection})
	k.rule("approval-no-deployer", "no Deploy, so no deployer: no approval counts", deploy, one(ruleApproval), edits{"deploy-requested.json": nil}, nil)
	k.rule("approval-deployer-is-approver", "alice, an approver, deploys and approves herself", deploy, one(ruleApproval),
		edits{"deploy-requested.json": to("data.actor", "alice")}, nil)

	// Overrides lift a soft rule only, from an approver who is not the
	// deployer, unexpired, for this gate.
	hard := k.doc(override, "override.json")
	set(hard, split("data.rule"), ruleHotPatch)
	k.rule("override-hard-rule", "an Override of forbidden.hot-patch, which is hard", deploy, one(ruleHotPatch),
		edits{"deploy-requested.json": to("data.source.clean", false)}, map[string]map[string]any{"override.json": hard})
	k.rule("override-expired", "the Override expired before now", override, one(ruleBudget), edits{"override.json": to("data.expiresAt", "2026-11-26T10:00:00Z")}, nil)
	k.rule("override-self", "the deployer overrides for himself", override, one(ruleBudget), edits{"override.json": to("data.approver", "dave")}, nil)
	k.rule("override-not-an-approver", "someone who is not an approver overrides", override, one(ruleBudget), edits{"override.json": to("data.approver", "mallory")}, nil)
	k.rule("override-other-gate", "the Override is for the complete gate", override, one(ruleBudget), edits{"override.json": to("data.gate", "complete")}, nil)
	k.rule("override-other-rule", "the Override lifts checklist.runbook-reviewed, not the error budget", override, one(ruleBudget),
		edits{"override.json": to("data.rule", ruleRunbook)}, nil)

	// verify.*
	for i, check := range []string{"home", "login", "logout", "api-me", "error-spike"} {
		idx := string(rune('0' + i))
		k.rule("verify-failed-"+check, "the "+check+" smoke check failed", verify, one(ruleChecks),
			edits{"verification.json": to("data.checks."+idx+".status", "failed")}, nil)
	}
	k.rule("verify-check-missing", "the api-me check did not run", verify, one(ruleChecks), edits{"verification.json": without("data.checks.3")}, nil)
	k.rule("verify-check-skipped", "the login check was skipped", verify, one(ruleChecks), edits{"verification.json": to("data.checks.1.status", "skipped")}, nil)
	k.rule("verify-check-error", "the logout check errored", verify, one(ruleChecks), edits{"verification.json": to("data.checks.2.status", "error")}, nil)
	k.rule("verify-check-twice", "the home check passed once and failed once", verify, one(ruleChecks),
		edits{"verification.json": func(m map[string]any) {
			insertAfter(m, split("data.checks.0"), map[string]any{"name": "home", "status": "failed"})
		}}, nil)
	k.rule("verify-before-deploy", "the smoke tests started before the deploy finished", verify, one(ruleChecks),
		edits{"verification.json": to("data.startedAt", "2026-11-26T10:06:00Z")}, nil)
	k.rule("verify-no-verification", "no Verification was recorded", verify, one(ruleChecks), edits{"verification.json": nil}, nil)
	k.rule("verify-deploy-failed", "the deploy failed", verify, one(ruleDeployed),
		edits{"deploy.json": all(to("data.status", "failed"), to("data.exitCode", n("1")))}, nil)
	k.rule("verify-deploy-only-requested", "the deploy was requested, never recorded as run", verify, one(ruleDeployed), edits{"deploy.json": nil}, nil)
	k.rule("verify-no-deploy", "no Deploy at all", verify, one(ruleDeployed), edits{"deploy.json": nil, "deploy-requested.json": nil}, nil)

	// complete: smoke tests, monitoring, automation, rollback.
	k.rule("complete-no-verification", "the smoke tests were skipped", complete, one(ruleSmokeTests), edits{"verification.json": nil}, nil)
	k.rule("complete-verification-failed", "the smoke tests failed", complete, one(ruleSmokeTests), edits{"verification.json": to("data.checks.1.status", "failed")}, nil)
	k.rule("complete-verification-before-deploy", "the only smoke tests ran before the deploy finished", complete, one(ruleSmokeTests),
		edits{"verification.json": to("data.startedAt", "2026-11-26T10:05:00Z")}, nil)
	k.rule("complete-deploy-failed", "the deploy failed", complete, one(ruleDeployed), edits{"deploy.json": all(to("data.status", "failed"), to("data.exitCode", n("1")))}, nil)
	k.rule("monitoring-breach", "the monitoring window breached", complete, one(ruleMonitoring),
		edits{"monitoring.json": all(to("data.result", "breach"), to("data.signals.0.status", "breach"), to("data.signals.0.observed", n("0.09")))}, nil)
	k.rule("monitoring-no-data", "the monitoring window returned no data", complete, one(ruleMonitoring),
		edits{"monitoring.json": all(to("data.result", "no-data"), to("data.signals.1.status", "no-data"))}, nil)
	k.rule("monitoring-signal-breach", "a signal breached under a healthy result", complete, one(ruleMonitoring),
		edits{"monitoring.json": to("data.signals.2.status", "breach")}, nil)
	k.rule("monitoring-signal-missing", "the cpu signal is missing", complete, one(ruleMonitoring), edits{"monitoring.json": without("data.signals.3")}, nil)
	k.rule("monitoring-short-window", "the window lasted 10 minutes, not 15", complete, one(ruleMonitoring),
		edits{"monitoring.json": to("data.window.end", "2026-11-26T10:16:30Z")}, nil)
	k.rule("monitoring-before-deploy", "the window began before the deploy finished", complete, one(ruleMonitoring),
		edits{"monitoring.json": to("data.window.start", "2026-11-26T10:05:00Z")}, nil)
	k.rule("monitoring-missing", "no Monitoring was recorded", complete, one(ruleMonitoring), edits{"monitoring.json": nil}, nil)
	k.rule("automation-auto-rollback", "the watch rolls back automatically, a capability not declared", complete, one(ruleAutoRollback),
		edits{"monitoring.json": to("data.automation", map[string]any{"autoRollback": true})}, nil)
	slow := k.made("Rollback")
	slow["collectedAt"] = "2026-11-26T10:25:40Z"
	set(slow, split("data.startedAt"), "2026-11-26T10:24:00Z")
	set(slow, split("data.finishedAt"), "2026-11-26T10:25:36Z")
	set(slow, split("data.durationSeconds"), n("96"))
	k.rule("rollback-slower-than-deploy", "the rollback took 96 s, more than the build and the deploy", complete, one("rollback.slower-than-deploy"),
		nil, map[string]map[string]any{"rollback.json": slow})

	// flag.strategy-not-enabled
	for _, s := range []string{"canary", "user-percentage", "traffic-split"} {
		k.rule("flag-"+s, "a "+s+" rollout, a capability not declared", flag, one(ruleFlag),
			edits{"flagchange.json": all(to("data.strategy", s), to("data.percentage", n("5")))}, nil)
	}
	k.rule("flag-missing", "the flag gate without a FlagChange", flag, one(ruleFlag), edits{"flagchange.json": nil}, nil)

	// Missing evidence.
	k.rule("missing-plan", "no Plan declares the release", deploy, one(engine.ReasonEvidenceMissing), edits{"plan.json": nil}, nil)
	k.rule("missing-all-but-plan", "only a Plan", deploy, one(engine.ReasonEvidenceMissing),
		edits{"incidents.json": nil, "build.json": nil, "deploy-requested.json": nil, "approval.json": nil}, nil)
	k.rule("missing-deploy-at-complete", "no Deploy at the complete gate", complete, one(ruleDeployed),
		edits{"deploy.json": nil, "deploy-requested.json": nil}, nil)
}
