package mutation_test

import (
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/localizevideos/shipgate/engine"
)

// Rule ids and reason codes the oracles expect. Some are not in the
// policies yet: the harness says what must deny, whatever the policies do.
const (
	ruleIncident      = "forbidden.deploy-during-incident"
	ruleHotPatch      = "forbidden.hot-patch"
	ruleDirectPush    = "forbidden.direct-push"
	ruleRollbackPlan  = "forbidden.no-rollback-plan"
	ruleSmokeTests    = "forbidden.skipped-smoke-tests"
	ruleCommand       = "deploy.approved-command"
	ruleUnplanned     = "freeze.unplanned"
	ruleUndocumented  = "freeze.undocumented"
	ruleHardWindow    = "freeze.hard-window"
	ruleEmergency     = "freeze.emergency-unapproved"
	ruleApproval      = "approval.required"
	ruleRejected      = "approval.rejected"
	ruleBuild         = "checklist.build-passed"
	ruleBudget        = "checklist.error-budget"
	ruleRunbook       = "checklist.runbook-reviewed"
	ruleDeployed      = "verify.deploy-succeeded"
	ruleChecks        = "verify.mandatory-checks"
	ruleMonitoring    = "monitoring.healthy"
	ruleRolledBack    = "release.rolled-back"
	ruleFlag          = "flag.strategy-not-enabled"
	ruleAutoRollback  = "automation.auto-rollback"
	ruleUndeclaredEnv = "release.environment-undeclared"
	reasonUndeclared  = "environment.undeclared"

	// absent stands for what the gate must deny with when the document the
	// mutant changes does not count at all (dropped, foreign, stale, from
	// the future, contradicting itself): see absent below.
	absentToken = "@absent"
)

// absent is, per step and document, the denial the gate owes when that
// document does not count: the rule that fails closed without it.
var absent = map[string][]string{
	"allowed/deploy/plan.json":                   {engine.ReasonEvidenceMissing, engine.ReasonEvidenceBinding, engine.ReasonEvidenceConflict},
	"allowed/deploy/incidents.json":              {ruleIncident},
	"allowed/deploy/build.json":                  {ruleBuild},
	"allowed/deploy/deploy-requested.json":       {ruleCommand},
	"allowed/deploy/approval.json":               {ruleApproval},
	"allowed/verify/deploy.json":                 {ruleDeployed},
	"allowed/verify/verification.json":           {ruleChecks},
	"allowed/complete/deploy.json":               {ruleDeployed},
	"allowed/complete/verification.json":         {ruleSmokeTests},
	"allowed/complete/monitoring.json":           {ruleMonitoring},
	"flag-route/flag/flagchange.json":            {ruleFlag},
	"override-error-budget/deploy/override.json": {ruleBudget},
	"emergency/deploy/plan.json":                 {engine.ReasonEvidenceMissing, engine.ReasonEvidenceBinding, engine.ReasonEvidenceConflict},
	"emergency/deploy/incidents.json":            {ruleEmergency, ruleIncident},
	"emergency/deploy/approval.json":             {ruleApproval, ruleEmergency},
}

// An oracle says what a schema-valid mutant must deny with: any one of
// codes (a rule id among the violations, or the decision's reason). The
// first oracle whose pattern (path.Match over the mutant name
// step/doc/field/op) matches is the mutant's. A schema-invalid mutant needs
// none: it must deny with evidence.invalid.
type oracle struct {
	pattern string
	codes   []string
	why     string
	// design marks mutants that a broader oracle below would claim but
	// that may allow: testdata/allowed-by-design.yaml must list them.
	design bool
}

func deny(pattern, why string, codes ...string) oracle {
	return oracle{pattern: pattern, codes: codes, why: why}
}

// byDesignOnly stops the search for an oracle: the mutant must then be in
// testdata/allowed-by-design.yaml, which says why.
func byDesignOnly(pattern string) oracle { return oracle{pattern: pattern, design: true} }

var oracles = []oracle{
	// The whole release relabelled: an environment no policy data declares
	// must not dodge the production freeze (issue #14).
	deny("*/*/release/release.environment/*", "an environment the policy data does not declare is not a release target", ruleUndeclaredEnv, reasonUndeclared),
	deny("allowed/*/release/release.service/*", "a service without approved deploy commands cannot deploy", ruleCommand),
	deny("*/*/release/release.id/*", "the release asked for has no evidence at all", engine.ReasonEvidenceMissing),

	// The envelope: a document of another release, service, environment,
	// repository or commit does not count, nor one from the future or past
	// its kind's freshness limit (docs/evidence.md, Envelope).
	deny("*/*/plan.json/release.environment/*", "the Plan declares the release: relabelled, the release is another environment that nothing else binds to",
		engine.ReasonEvidenceMissing, engine.ReasonEvidenceBinding, engine.ReasonEvidenceConflict, ruleUndeclaredEnv, reasonUndeclared),
	deny("*/*/*/release.id/*", "evidence of another release does not count", absentToken),
	deny("*/*/*/release.service/*", "evidence of another service does not count", absentToken),
	deny("*/*/*/release.environment/*", "evidence of another environment does not count", absentToken),
	deny("*/*/*/subject.repository/*", "evidence of another repository does not count", absentToken),
	deny("*/*/*/subject.commit/*", "evidence of another commit does not count", absentToken),
	// Plans and FlagChanges never go stale (no freshness limit), and a
	// Deploy request reports nothing it could not know earlier.
	byDesignOnly("*/*/plan.json/collectedAt/retimed:far-past"),
	byDesignOnly("*/*/plan.json/collectedAt/retimed:before-others"),
	byDesignOnly("*/*/flagchange.json/collectedAt/retimed:far-past"),
	byDesignOnly("*/*/flagchange.json/collectedAt/retimed:before-others"),
	byDesignOnly("*/deploy/deploy-requested.json/collectedAt/retimed:before-others"),
	deny("*/*/*/collectedAt/retimed:future", "evidence collected after the evaluation time does not count (freshness.future)", absentToken),
	deny("*/*/*/collectedAt/retimed:far-past", "evidence older than its kind's freshness limit does not count (freshness.stale)", absentToken),
	deny("*/*/*/collectedAt/retimed:before-others", "collected before what it reports happened (or stale): it does not count", absentToken),
	deny("*/*/*/document/dropped", "without the document the rule that needs it fails closed", absentToken),

	// Ties: the worst document of a tie counts (DESIGN.md, Trust rules).
	deny("*/deploy/incidents.json/document/tied:open-sev1:*", "a tied IncidentStatus lists an open SEV-1", ruleIncident),
	deny("emergency/deploy/incidents.json/document/tied:without-emergency-incident:*", "a tied IncidentStatus does not list the emergency's incident", ruleEmergency, ruleHardWindow),
	deny("*/deploy/plan.json/document/tied:without-change-ticket:*", "a tied Plan has no change ticket", ruleUnplanned, ruleUndocumented),
	deny("*/deploy/plan.json/document/tied:without-rollback-plan:*", "a tied Plan has no rollback plan", ruleRollbackPlan),
	deny("*/deploy/plan.json/document/tied:without-runbook:*", "a tied Plan links no runbook", ruleUndocumented),
	deny("*/deploy/plan.json/document/tied:budget-spent:*", "a tied Plan's error budget is spent", ruleBudget),
	deny("*/deploy/plan.json/document/tied:window-closed:*", "a tied Plan's window has closed", ruleUnplanned),
	deny("emergency/deploy/plan.json/document/tied:without-emergency:*", "a tied Plan declares no emergency: the weekend freeze and INC-42 hold", ruleHardWindow, ruleIncident),
	deny("*/deploy/build.json/document/tied:*", "a tied Build did not pass", ruleBuild),
	deny("*/*/deploy*.json/document/tied:hot-patched:*", "a tied Deploy ran from a dirty tree", ruleHotPatch),
	deny("*/*/deploy*.json/document/tied:commit-unknown:*", "a tied Deploy ran an unknown commit", ruleHotPatch),
	deny("*/*/deploy*.json/document/tied:unapproved-command:*", "a tied Deploy ran another command", ruleCommand),
	deny("*/*/deploy*.json/document/tied:manual:*", "a tied Deploy was triggered by hand", ruleDirectPush),
	deny("*/*/deploy*.json/document/tied:off-main:*", "a tied Deploy is not on main", ruleDirectPush),
	deny("*/deploy/deploy-requested.json/document/tied:by-the-approver:*", "in a tied Deploy request the approver deploys: a self-approval", ruleApproval),
	deny("*/*/deploy.json/document/tied:failed:*", "a tied Deploy failed", ruleDeployed),
	deny("*/*/deploy.json/document/tied:exit-code-1:*", "a tied Deploy exited 1", ruleDeployed),
	deny("*/deploy/approval.json/document/tied:rejected:*", "a tied Approval rejects", ruleRejected),
	deny("*/verify/verification.json/document/tied:failed-check:*", "a tied Verification failed a check", ruleChecks),
	deny("*/complete/verification.json/document/tied:failed-check:*", "a tied Verification failed a check", ruleSmokeTests),
	deny("*/complete/monitoring.json/document/tied:breach:*", "a tied Monitoring breached", ruleMonitoring),
	deny("*/flag/flagchange.json/document/tied:*", "a tied FlagChange uses a percentage", ruleFlag),
	deny("*/complete/rollback.json/document/added:succeeded", "a release that was rolled back did not complete", ruleRolledBack),

	// Plan (docs/rules.md: freeze.*, checklist.*, forbidden.no-rollback-plan).
	deny("*/deploy/plan.json/data.changeTicket/dropped", "no change ticket: unplanned", ruleUnplanned),
	deny("*/deploy/plan.json/data.window/dropped", "no window: unplanned", ruleUnplanned),
	deny("*/deploy/plan.json/data.window.start/retimed:future", "the window opens after now", ruleUnplanned),
	deny("*/deploy/plan.json/data.window.start/retimed:after-end", "the window opens after it closes", ruleUnplanned),
	deny("*/deploy/plan.json/data.window.end/retimed:far-past", "the window closed long ago", ruleUnplanned),
	deny("*/deploy/plan.json/data.window.end/retimed:before-start", "the window closes before it opens", ruleUnplanned),
	deny("*/deploy/plan.json/data.documentation/dropped", "no runbook, no release notes", ruleUndocumented),
	deny("*/deploy/plan.json/data.documentation.runbook/dropped", "no runbook", ruleUndocumented),
	deny("*/deploy/plan.json/data.documentation.releaseNotes/dropped", "no release notes", ruleUndocumented),
	deny("*/deploy/plan.json/data.documentation.runbook.reviewer/dropped", "runbook review without a reviewer", ruleRunbook),
	deny("*/deploy/plan.json/data.documentation.runbook.reviewedAt/*", "runbook review missing, in the future, or too old", ruleRunbook),
	deny("*/deploy/plan.json/data.rollbackPlan/dropped", "no rollback plan", ruleRollbackPlan),
	deny("*/deploy/plan.json/data.rollbackPlan.previousCommit/changed:release-commit", "the rollback plan returns to the commit released", ruleRollbackPlan),
	deny("*/deploy/plan.json/data.errorBudget/dropped", "no error budget", ruleBudget),
	deny("*/deploy/plan.json/data.errorBudget.remaining/changed:0", "error budget spent", ruleBudget),
	deny("*/deploy/plan.json/data.errorBudget.remaining/changed:-1", "error budget overspent", ruleBudget),
	deny("emergency/deploy/plan.json/data.emergency/dropped", "no emergency: the weekend freeze and INC-42 hold", ruleHardWindow, ruleIncident),
	deny("emergency/deploy/plan.json/data.emergency.incident/changed:*", "an emergency for an incident nobody lists", ruleEmergency),
	deny("emergency/deploy/plan.json/data.emergency.justification/changed:spaces", "a justification of spaces justifies nothing (issue #14)"),

	// IncidentStatus (forbidden.deploy-during-incident; the emergency path).
	deny("allowed/deploy/incidents.json/data.incidents.0.status/changed:open", "INC-39 (SEV-2) open again", ruleIncident),
	deny("allowed/deploy/incidents.json/data.incidents.0.status/changed:mitigated", "INC-39 (SEV-2) only mitigated", ruleIncident),
	deny("allowed/deploy/incidents.json/data.incidents.0.resolvedAt/retimed:*", "a resolution in the future, or before the incident opened, does not count: INC-39 is not resolved (issue #14)", ruleIncident),
	deny("allowed/deploy/incidents.json/data.incidents.?/duplicated", "the incident listed again as an open SEV-1", ruleIncident),
	deny("allowed/deploy/incidents.json/data.incidents.1.severity/changed:SEV-1", "INC-41 open at SEV-1", ruleIncident),
	deny("allowed/deploy/incidents.json/data.incidents.1.severity/changed:SEV-2", "INC-41 open at SEV-2", ruleIncident),
	deny("emergency/deploy/incidents.json/data.incidents.0.severity/changed:SEV-1", "INC-41 open at SEV-1 besides the emergency's", ruleIncident),
	deny("emergency/deploy/incidents.json/data.incidents.0.severity/changed:SEV-2", "INC-41 open at SEV-2 besides the emergency's", ruleIncident),
	deny("emergency/deploy/incidents.json/data.incidents.0/duplicated", "INC-41 listed again as an open SEV-1", ruleIncident),
	deny("emergency/deploy/incidents.json/data.incidents.1.severity/changed:SEV-3", "an emergency for an incident that blocks nothing (issue #14)", ruleHardWindow, ruleEmergency),
	deny("emergency/deploy/incidents.json/data.incidents.1.severity/changed:SEV-4", "an emergency for a SEV-4 incident (issue #14)", ruleHardWindow, ruleEmergency),
	deny("emergency/deploy/incidents.json/data.incidents.1.status/changed:resolved", "an emergency for a resolved incident (issue #14)", ruleHardWindow, ruleEmergency),
	deny("emergency/deploy/incidents.json/data.incidents.1.id/changed:*", "the emergency's incident is no longer listed", ruleEmergency),
	deny("emergency/deploy/incidents.json/data.incidents.1/dropped", "the emergency's incident is no longer listed", ruleEmergency),
	deny("emergency/deploy/incidents.json/data.incidents/emptied", "the emergency's incident is no longer listed", ruleEmergency),

	// Build (checklist.build-passed): the build is `npm run build`, it
	// passed, exited 0, and finished after it started and before now.
	deny("*/deploy/build.json/data.command*/*", "a Build of another command is not the build (issue #14: `true` builds nothing)", ruleBuild),
	deny("*/deploy/build.json/data.status/changed:failed", "the build failed", ruleBuild),
	deny("*/deploy/build.json/data.exitCode/*", "the build exited non-zero", ruleBuild),
	deny("*/deploy/build.json/data.startedAt/retimed:future", "a build that starts after now, and after it finished, does not count", ruleBuild),
	deny("*/deploy/build.json/data.startedAt/retimed:after-finish", "finished before it started: it does not count (issue #14)", ruleBuild),
	deny("*/deploy/build.json/data.finishedAt/*", "finished before it started, or after now: it does not count (issue #14)", ruleBuild),

	// The Deploy request (deploy.approved-command, forbidden.*, approval.required).
	deny("*/deploy/deploy-requested.json/data.command*/*", "another deploy command", ruleCommand),
	deny("*/deploy/deploy-requested.json/data.actor/changed:alice", "the approver deploys: self-approval", ruleApproval),
	deny("*/deploy/deploy-requested.json/data.actor/relabelled:Alice", "Alice is alice after case folding: self-approval (issue #14)", ruleApproval),
	deny("*/deploy/deploy-requested.json/data.trigger/changed:manual", "a direct push", ruleDirectPush),
	deny("*/deploy/deploy-requested.json/data.trigger/changed:unknown", "not the pipeline", ruleDirectPush),
	deny("*/*/build.json/data.source/dropped", "a Build that does not record source.clean counts as not clean (issue #14)", ruleHotPatch),
	deny("*/*/build.json/data.source.clean/flipped", "a build of an uncommitted tree (issue #14)", ruleHotPatch),
	deny("*/deploy/deploy-requested.json/data.source.onMain/flipped", "not on main", ruleDirectPush),
	deny("*/deploy/deploy-requested.json/data.source.clean/flipped", "a hot patch", ruleHotPatch),
	deny("*/deploy/deploy-requested.json/data.source.commitKnown/flipped", "a commit Git does not know", ruleHotPatch),

	// Approval.
	deny("allowed/deploy/approval.json/data.approver/changed:dave", "the deployer approves himself", ruleApproval),
	deny("allowed/deploy/approval.json/data.approver/changed:mallory", "not an approver", ruleApproval),
	deny("allowed/deploy/approval.json/data.decision/changed:rejected", "rejected", ruleRejected, ruleApproval),
	deny("allowed/deploy/approval.json/data.gate/*", "an approval for another gate", ruleApproval),
	deny("allowed/deploy/approval.json/data.approvedAt/retimed:*", "an approval given after now does not count (issue #14), nor one older than the Approval freshness limit", ruleApproval),
	deny("emergency/deploy/approval.json/data.approver/changed:dave", "the deployer approves his own emergency", ruleEmergency, ruleApproval),
	deny("emergency/deploy/approval.json/data.approver/changed:mallory", "not an approver", ruleEmergency, ruleApproval),
	deny("emergency/deploy/approval.json/data.decision/changed:rejected", "rejected", ruleRejected, ruleEmergency),
	deny("emergency/deploy/approval.json/data.gate/*", "an approval for another gate", ruleEmergency, ruleApproval),
	deny("emergency/deploy/approval.json/data.approvedAt/retimed:*", "an approval given after now does not count (issue #14), nor one older than the Approval freshness limit", ruleEmergency, ruleApproval),

	// The Deploy outcome, at verify and complete (issue #14: the outcome is
	// judged like the request).
	deny("*/*/deploy.json/data.command*/*", "the deploy ran another command (issue #14)", ruleCommand),
	deny("*/*/deploy.json/data.status/changed:failed", "the deploy failed", ruleDeployed),
	deny("*/*/deploy.json/data.exitCode/*", "succeeded with a non-zero exit code (issue #14)", ruleDeployed),
	deny("*/*/deploy.json/data.trigger/changed:manual", "a direct push (issue #14)", ruleDirectPush),
	deny("*/*/deploy.json/data.trigger/changed:unknown", "not the pipeline", ruleDirectPush),
	deny("*/*/deploy.json/data.source.onMain/flipped", "not on main", ruleDirectPush),
	deny("*/*/deploy.json/data.source.clean/flipped", "a hot patch (issue #14)", ruleHotPatch),
	deny("*/*/deploy.json/data.source.commitKnown/flipped", "a commit Git does not know", ruleHotPatch),
	deny("*/*/deploy.json/data.startedAt/retimed:future", "started after now and after it finished: it does not count", ruleDeployed),
	deny("*/*/deploy.json/data.startedAt/retimed:after-finish", "finished before it started: it does not count (issue #14)", ruleDeployed),
	deny("*/*/deploy.json/data.finishedAt/retimed:far-past", "finished before it started: it does not count (issue #14)", ruleDeployed),
	deny("*/*/deploy.json/data.finishedAt/retimed:before-start", "finished before it started: it does not count (issue #14)", ruleDeployed),
	deny("*/verify/deploy.json/data.finishedAt/retimed:future", "not finished yet: nothing to verify", ruleDeployed, ruleChecks),
	deny("*/complete/deploy.json/data.finishedAt/retimed:future", "not finished yet: nothing was verified or watched", ruleDeployed, ruleSmokeTests, ruleMonitoring),

	// Verification: every mandatory check passed, after the deploy, in a
	// document that finished after it started and before now.
	deny("*/verify/verification.json/data.checks.?.name/*", "a mandatory check is missing", ruleChecks),
	deny("*/verify/verification.json/data.checks.?.status/*", "a mandatory check did not pass", ruleChecks),
	deny("*/verify/verification.json/data.checks.?/dropped", "a mandatory check is missing", ruleChecks),
	deny("*/verify/verification.json/data.checks.?/duplicated", "a mandatory check also failed", ruleChecks),
	deny("*/verify/verification.json/data.startedAt/*", "started before the deploy, after it finished, or after now: it does not count", ruleChecks),
	deny("*/verify/verification.json/data.finishedAt/*", "finished before it started, or after now: it does not count", ruleChecks),
	deny("*/complete/verification.json/data.checks.?.name/*", "a mandatory check is missing", ruleSmokeTests),
	deny("*/complete/verification.json/data.checks.?.status/*", "a mandatory check did not pass", ruleSmokeTests),
	deny("*/complete/verification.json/data.checks.?/dropped", "a mandatory check is missing", ruleSmokeTests),
	deny("*/complete/verification.json/data.checks.?/duplicated", "a mandatory check also failed", ruleSmokeTests),
	deny("*/complete/verification.json/data.startedAt/*", "started before the deploy, after it finished, or after now: it does not count", ruleSmokeTests),
	deny("*/complete/verification.json/data.finishedAt/*", "finished before it started, or after now: it does not count", ruleSmokeTests),

	// Monitoring (monitoring.healthy; issue #14: no samples, too few, a
	// window ending after now, an observed value that breaks its own
	// condition marked healthy).
	deny("*/complete/monitoring.json/data.window.*/retimed:*", "a window that began before the deploy, ends after now, or is too short", ruleMonitoring),
	deny("*/complete/monitoring.json/data.result/*", "not healthy", ruleMonitoring),
	deny("*/complete/monitoring.json/data.signals.?.name/*", "a required signal is missing", ruleMonitoring),
	deny("*/complete/monitoring.json/data.signals.?.status/*", "a signal is not healthy", ruleMonitoring),
	deny("*/complete/monitoring.json/data.signals.?.observed/changed:breach", "marked healthy while its observed value breaks its condition", ruleMonitoring),
	deny("*/complete/monitoring.json/data.signals.?.samples/changed:0", "a signal without samples is no data", ruleMonitoring),
	deny("*/complete/monitoring.json/data.signals.?.minSamples/added:above-samples", "fewer samples than the signal needs", ruleMonitoring),
	deny("*/complete/monitoring.json/data.signals.?/dropped", "a required signal is missing", ruleMonitoring),
	deny("*/complete/monitoring.json/data.signals.?/duplicated", "a signal also breached", ruleMonitoring),
	deny("*/complete/monitoring.json/data.signals/emptied", "every required signal is missing", ruleMonitoring),
	deny("*/complete/monitoring.json/data.automation/added:auto-rollback", "automated rollback is not a declared capability", ruleAutoRollback),

	// FlagChange (flag.strategy-not-enabled).
	deny("*/flag/flagchange.json/data.strategy/changed:user-percentage", "a gated strategy", ruleFlag),
	deny("*/flag/flagchange.json/data.strategy/changed:canary", "a gated strategy", ruleFlag),
	deny("*/flag/flagchange.json/data.strategy/changed:traffic-split", "a gated strategy", ruleFlag),
	deny("*/flag/flagchange.json/data.strategy/changed:environment+percentage", "an environment toggle carrying a user percentage (issue #14)", ruleFlag),
	deny("*/flag/flagchange.json/data.percentage/added:*", "a route carrying a user percentage (issue #14)", ruleFlag),

	// Override (checklist.error-budget stays unless a valid Override lifts it).
	deny("*/deploy/override.json/data.rule/*", "an override of another rule", ruleBudget),
	deny("*/deploy/override.json/data.approver/changed:dave", "the deployer overrides for himself", ruleBudget),
	deny("*/deploy/override.json/data.approver/changed:mallory", "not an approver", ruleBudget),
	deny("*/deploy/override.json/data.reason/changed:spaces", "a reason of spaces is no reason (issue #14)"),
	deny("*/deploy/override.json/data.createdAt/retimed:*", "created after now (issue #14), or years before its release: it does not count", ruleBudget),
	deny("*/deploy/override.json/data.expiresAt/retimed:far-past", "expired", ruleBudget),
	deny("*/deploy/override.json/data.expiresAt/retimed:before-creation", "expired before it was created", ruleBudget),
	deny("*/deploy/override.json/data.expiresAt/retimed:ten-years", "an override for ten years is no exception (issue #14)", ruleBudget),
	deny("*/deploy/override.json/data.gate/changed:*", "an override for another gate", ruleBudget),
}

// oracleFor returns the oracle of a schema-valid mutant, its codes
// expanded; ok is false when none matches.
func oracleFor(m *mutant) (oracle, bool) {
	for _, o := range oracles {
		if ok, _ := path.Match(o.pattern, m.name); !ok {
			continue
		}
		if o.design {
			return oracle{}, false
		}
		var out []string
		applies := true
		for _, c := range o.codes {
			if c != absentToken {
				out = append(out, c)
				continue
			}
			// A document that does not count: what its absence denies with.
			// The release-wide mutants have no one document; such an
			// oracle is not theirs.
			key := m.step.id() + "/" + strings.SplitN(strings.TrimPrefix(m.name, m.step.id()+"/"), "/", 2)[0]
			a, ok := absent[key]
			applies = applies && ok
			out = append(out, a...)
		}
		if !applies {
			continue
		}
		o.codes = out
		return o, true
	}
	return oracle{}, false
}

// byDesign is one entry of testdata/allowed-by-design.yaml: a mutant (or a
// path.Match pattern over mutant names) that may still allow, and why.
type byDesign struct {
	Mutant string `yaml:"mutant"`
	Reason string `yaml:"reason"`
	used   int
}

func loadByDesign(file string) ([]*byDesign, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var list []*byDesign
	if err := yaml.UnmarshalWithOptions(b, &list, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s: %s", file, yaml.FormatError(err, false, true))
	}
	seen := map[string]bool{}
	for i, e := range list {
		if e.Mutant == "" || strings.TrimSpace(e.Reason) == "" {
			return nil, fmt.Errorf("%s: entry %d: mutant and reason are required", file, i)
		}
		if _, err := path.Match(e.Mutant, ""); err != nil {
			return nil, fmt.Errorf("%s: entry %d: %q: %w", file, i, e.Mutant, err)
		}
		if seen[e.Mutant] {
			return nil, fmt.Errorf("%s: %s is listed twice", file, e.Mutant)
		}
		seen[e.Mutant] = true
	}
	return list, nil
}

func designFor(list []*byDesign, name string) *byDesign {
	for _, e := range list {
		if ok, _ := path.Match(e.Mutant, name); ok {
			return e
		}
	}
	return nil
}
