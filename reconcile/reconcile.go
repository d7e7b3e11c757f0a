// Package reconcile compares what runs in production with what the ledger
// says was released, and records the difference as production violations.
//
// It is given what PM2 says about the app (collect/pm2: its start time and
// restart count, never its environment) and the git state of the directory
// it runs from (collect/git), and it reads the ledger:
//
//   - the running process must have started during a deploy that a deploy
//     gate allowed, or during a rollback; and every restart counted since
//     the previous reconcile must be one of those. Otherwise someone
//     restarted it by hand (or it crashed): forbidden.direct-push.
//   - the running directory must be clean (forbidden.hot-patch), on a
//     commit reachable from main, and at the commit the last deploy or
//     rollback left there (forbidden.direct-push).
//   - the build output in it (dist/, files git ignores included) must be
//     the one the last deploy or fast rollback left there, compared by
//     tree digest (artifact.Tree), and one must have been recorded when
//     the installation configures build output (forbidden.hot-patch).
//
// Every reconcile is recorded as a decision of the pseudo-gate "reconcile"
// with what it observed; one with findings denies and opens a violation,
// which `shipgate violations list` shows and a Postmortem closes like any
// other. A deploy gate then sees it among the service's open violations.
package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/artifact"
	"github.com/localizevideos/shipgate/collect/git"
	"github.com/localizevideos/shipgate/collect/pm2"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/store"
)

// Gate is the name reconcile decisions are recorded under.
const Gate = "reconcile"

// Rules reconcile reports.
const (
	RuleDirectPush = "forbidden.direct-push"
	RuleHotPatch   = "forbidden.hot-patch"
)

// DefaultTolerance is how far outside a recorded deploy or rollback a
// process start may fall and still be explained by it: the clocks are the
// same host's, but PM2 stamps the start after forking.
const DefaultTolerance = 2 * time.Second

// Store is the ledger as reconcile uses it.
type Store interface {
	Decisions(ctx context.Context, releaseID string) ([]store.Decision, error)
	Evidence(ctx context.Context, releaseID string) ([]store.Evidence, error)
	RecordDecision(ctx context.Context, now time.Time, d store.Decision, opened []store.Violation, ev []store.Evidence) error
	Violation(ctx context.Context, id string) (store.Violation, error)
}

// Request is one reconcile of one app.
type Request struct {
	Service, Environment string
	Process              pm2.Process
	Git                  git.Facts
	// Dir is the running directory the build output paths are relative
	// to; "" skips the build output check.
	Dir string
	// Output are the build output paths the installation configures
	// (artifacts.paths). The last deploy or rollback's recorded paths are
	// the ones compared; these only say that one should have been
	// recorded.
	Output []string
	// Release names the release to hold findings against when the ledger
	// has no deploy of the service yet.
	Release   string
	Actor     string
	Now       time.Time
	Tolerance time.Duration
	// PostmortemDue is how long a violation it opens stays open before it
	// blocks deploys (engine.PostmortemDue).
	PostmortemDue time.Duration
	// NewID names the decision and the violation; nil uses gate.NewID.
	NewID func(prefix string, now time.Time) string
}

// Event is a restart the ledger explains: an allowed deploy or a rollback.
type Event struct {
	Kind      string    `json:"kind"` // Deploy or Rollback
	Release   string    `json:"release"`
	Commit    string    `json:"commit"` // what the checkout holds after it
	StartedAt time.Time `json:"startedAt"`
	EndedAt   time.Time `json:"finishedAt"`
	Evidence  string    `json:"evidence"`
	// Strategy is a rollback's: fast or emergency.
	Strategy string `json:"strategy,omitempty"`
	// Output is the build output it left, when it recorded one.
	Output *Output `json:"output,omitempty"`
}

// Output is build output by its tree digest (artifact.Tree).
type Output struct {
	Tree  string   `json:"tree"`
	Paths []string `json:"paths"`
}

// OutputState is the running build output as a reconcile found it.
type OutputState struct {
	Paths []string `json:"paths"`
	// Tree is its tree digest; "" when it could not be read (Error).
	Tree  string `json:"tree,omitempty"`
	Error string `json:"error,omitempty"`
	// Expected is the tree the last deploy or rollback left; "" when it
	// recorded none.
	Expected string `json:"expected,omitempty"`
}

// Observation is what a reconcile saw, recorded with its decision.
type Observation struct {
	At      time.Time   `json:"at"`
	Process pm2.Process `json:"process"`
	Git     GitState    `json:"git"`
	// Explained is the deploy or rollback during which the process
	// started; nil when none.
	Explained *Event `json:"explained,omitempty"`
	// Expected is the commit the last deploy or rollback left.
	Expected string `json:"expectedCommit,omitempty"`
	// Output is the running build output; nil when none was checked.
	Output *OutputState `json:"output,omitempty"`
}

// GitState is the running directory's git facts as recorded.
type GitState struct {
	Repository  string `json:"repository"`
	Commit      string `json:"commit"`
	Branch      string `json:"branch"`
	Clean       bool   `json:"clean"`
	CommitKnown bool   `json:"commitKnown"`
	OnMain      bool   `json:"onMain"`
}

// Record is the body of a reconcile decision in the ledger: a decision (so
// every reader of decisions reads it) plus what was observed. It has no
// replay: no policy made it.
type Record struct {
	*engine.Decision
	Replay   gate.Replay `json:"replay"`
	Observed Observation `json:"observed"`
}

// Check compares req with the ledger and records the outcome. The
// returned decision denies when it found drift; an error means nothing
// could be concluded (or recorded), which never counts as clean.
func Check(ctx context.Context, st Store, req Request) (*Record, error) {
	if req.Now.IsZero() || req.Service == "" || req.Environment == "" {
		return nil, errors.New("reconcile: service, environment and time are required")
	}
	tol := req.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	h, err := readHistory(ctx, st, req.Service, req.Environment)
	if err != nil {
		return nil, err
	}
	g := req.Git
	obs := Observation{At: req.Now.UTC(), Process: req.Process,
		Git: GitState{Repository: g.Repository, Commit: g.Commit, Branch: g.Branch, Clean: g.Clean, CommitKnown: g.CommitKnown, OnMain: g.OnMain}}
	var findings []engine.Finding
	add := func(rule, msg, remediation string, ev ...string) {
		if ev == nil {
			ev = []string{}
		}
		findings = append(findings, engine.Finding{Rule: rule, Enforcement: engine.Hard, Message: msg, Evidence: ev, Remediation: remediation})
	}
	const restartFix = "restart only through `shipgate run deploy` (or `shipgate rollback`); write the postmortem of this restart, then close it with `shipgate postmortem add`"
	const patchFix = "commit the change and release it through the pipeline, or discard it (the rollback restores the verified commit); then write the postmortem"

	p := req.Process
	if p.StartedAt.IsZero() {
		add(RuleDirectPush, fmt.Sprintf("pm2 app %s (status %s) reports no start time: what runs cannot be tied to a release", p.Name, p.Status), restartFix)
	} else if ev := h.explaining(p.StartedAt, tol); ev != nil {
		obs.Explained = ev
	} else {
		add(RuleDirectPush, fmt.Sprintf("pm2 app %s (pid %d) started at %s, restart #%d, and no allowed deploy or rollback of %s in %s was running then: a restart by hand, or a crash",
			p.Name, p.PID, p.StartedAt.Format(time.RFC3339Nano), p.Restarts, req.Service, req.Environment), restartFix)
	}
	if prev := h.previous; prev != nil && prev.Process.PMID == p.PMID && p.Restarts > prev.Process.Restarts {
		n := p.Restarts - prev.Process.Restarts
		m := h.eventsBetween(prev.At, req.Now.Add(tol))
		if n > m {
			add(RuleDirectPush, fmt.Sprintf("pm2 app %s restarted %d times since the reconcile of %s, and the ledger explains %d of them",
				p.Name, n, prev.At.Format(time.RFC3339), m), restartFix)
		}
	}

	if !g.Clean {
		add(RuleHotPatch, fmt.Sprintf("the running directory %s has uncommitted changes on top of %s: code was patched outside git", p.Cwd, short(g.Commit)), patchFix)
	}
	if !g.CommitKnown || !g.OnMain {
		add(RuleDirectPush, fmt.Sprintf("the running directory %s is at %s, which is not reachable from a main branch", p.Cwd, short(g.Commit)), patchFix)
	}
	if last := h.last(); last != nil {
		obs.Expected = last.Commit
		if g.Commit != "" && g.Commit != last.Commit {
			add(RuleDirectPush, fmt.Sprintf("the running directory %s is at %s, but the last %s (release %s) left %s there",
				p.Cwd, short(g.Commit), strings.ToLower(last.Kind), last.Release, short(last.Commit)), patchFix, last.Evidence)
		}
	}

	if f, ok := checkOutput(req, h, &obs); ok {
		add(RuleHotPatch, f.msg, outputFix, f.evidence...)
	}

	rel := engine.Release{ID: req.Release, Service: req.Service, Environment: req.Environment, Commit: g.Commit}
	if last := h.last(); last != nil && rel.ID == "" {
		rel.ID = last.Release
	}
	if rel.ID == "" {
		rel.ID = h.latest
	}
	if rel.ID == "" {
		return nil, fmt.Errorf("reconcile: the ledger has no release of %s in %s to hold findings against: give --release", req.Service, req.Environment)
	}
	recurs := ""
	if len(findings) > 0 && h.driftVio != "" && slices.Equal(driftKey(findings), h.drift) {
		v, err := st.Violation(ctx, h.driftVio)
		if err != nil {
			return nil, fmt.Errorf("read violation %s: %w", h.driftVio, err)
		}
		if v.Status == store.StatusOpen {
			recurs = v.ID
		}
	}
	return record(ctx, st, req, rel, obs, findings, recurs)
}

const outputFix = "put back the build output the deploy shipped (`shipgate rollback`, or rebuild and deploy through the pipeline); build output is changed only by a build and a deploy; then write the postmortem"

// outputFinding is what checkOutput found wrong.
type outputFinding struct {
	msg      string
	evidence []string
}

// checkOutput compares the running build output with the one the last
// deploy or fast rollback left, by tree digest. It reports a finding when
// they differ, when the output cannot be read, or when build output is
// configured and that deploy or rollback recorded none: what runs cannot
// then be tied to what was deployed.
func checkOutput(req Request, h *history, obs *Observation) (outputFinding, bool) {
	ev := h.lastOutput()
	if req.Dir == "" || ev == nil {
		return outputFinding{}, false
	}
	what := fmt.Sprintf("%s (release %s)", strings.ToLower(ev.Kind), ev.Release)
	if ev.Kind == "Rollback" {
		what = fmt.Sprintf("fast rollback (release %s)", ev.Release)
	}
	if ev.Output == nil {
		if len(req.Output) == 0 {
			return outputFinding{}, false
		}
		obs.Output = &OutputState{Paths: req.Output}
		return outputFinding{fmt.Sprintf("the last %s recorded no digest of the build output %s: what runs in %s cannot be tied to what was deployed",
			what, strings.Join(req.Output, ", "), req.Dir), []string{ev.Evidence}}, true
	}
	st := &OutputState{Paths: ev.Output.Paths, Expected: ev.Output.Tree}
	obs.Output = st
	tree, err := artifact.Tree(req.Dir, ev.Output.Paths)
	if err != nil {
		st.Error = err.Error()
		return outputFinding{fmt.Sprintf("the build output %s in %s cannot be read (%v); the last %s left tree %s there",
			strings.Join(ev.Output.Paths, ", "), req.Dir, err, what, short(strings.TrimPrefix(ev.Output.Tree, "sha256:"))), []string{ev.Evidence}}, true
	}
	st.Tree = tree
	if tree == ev.Output.Tree {
		return outputFinding{}, false
	}
	return outputFinding{fmt.Sprintf("the build output %s in %s has tree %s, but the last %s left %s: it was changed after the deploy, outside git (ignored files count)",
		strings.Join(ev.Output.Paths, ", "), req.Dir, short(strings.TrimPrefix(tree, "sha256:")), what, short(strings.TrimPrefix(ev.Output.Tree, "sha256:"))), []string{ev.Evidence}}, true
}

// record records the reconcile's decision; a drift the open violation
// recurs already names is recorded with it, and opens no other.
func record(ctx context.Context, st Store, req Request, rel engine.Release, obs Observation, findings []engine.Finding, recurs string) (*Record, error) {
	newID := req.NewID
	if newID == nil {
		newID = gate.NewID
	}
	now := req.Now.UTC()
	d := &engine.Decision{ID: newID("dec", now), Gate: Gate, Release: rel, Allow: len(findings) == 0, Reason: engine.ReasonAllow,
		Violations: findings, Overridden: []engine.Finding{}, Warnings: []engine.Finding{}, Obligations: []engine.Obligation{},
		Rules: []string{RuleDirectPush, RuleHotPatch}, Ignored: []engine.Ignored{}, Evidence: []engine.EvidenceRef{}, EvaluatedAt: now}
	if d.Violations == nil {
		d.Violations = []engine.Finding{}
	}
	var opened []store.Violation
	if !d.Allow {
		d.Reason = engine.ReasonDeny
	}
	if !d.Allow && recurs != "" {
		d.Recurs = recurs
	} else if !d.Allow {
		v := store.Violation{ID: newID("vio", now), Kind: store.KindViolation, ReleaseID: rel.ID, Service: rel.Service,
			Environment: rel.Environment, Gate: Gate, DecisionID: d.ID, Actor: req.Actor, OpenedAt: now,
			Due: now.Add(req.PostmortemDue), Status: store.StatusOpen}
		var msgs []string
		for _, f := range findings {
			if !slices.Contains(v.Rules, f.Rule) {
				v.Rules = append(v.Rules, f.Rule)
			}
			msgs = append(msgs, f.Rule+": "+f.Message)
		}
		v.Message = "reconcile found drift: " + strings.Join(msgs, "; ")
		opened = []store.Violation{v}
		d.Opened = []string{v.ID}
	}
	rec := &Record{Decision: d, Replay: gate.Replay{Evidence: []string{}, Violations: []engine.OpenViolation{}}, Observed: obs}
	body, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	err = st.RecordDecision(ctx, now, store.Decision{ID: d.ID, ReleaseID: rel.ID, Service: rel.Service, Environment: rel.Environment,
		Gate: Gate, Allow: d.Allow, Reason: d.Reason, EvaluatedAt: now, Body: body}, opened, nil)
	if err != nil {
		return nil, &gate.RecordError{Err: err}
	}
	return rec, nil
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
