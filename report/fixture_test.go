package report_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// The fixture ledger: a few dozen LocalizeVideos releases recorded through
// the real gate, engine, validator and SQLite store, from the example
// evidence with each release's id, commit and times rewritten. Every
// scenario keeps the test's own record of what it did (rel), from which
// the test computes the figures it expects, without the report's code.

const examples = "../examples/localizevideos/evidence"

// Times the example documents were written for: the deploy gate of
// allowed/ (and the cases built on it), of emergency/ and of
// freeze-window/.
var (
	baseAllowed   = time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)
	baseEmergency = time.Date(2026, 11, 27, 19, 30, 0, 0, time.UTC)
	baseFreeze    = time.Date(2026, 11, 27, 19, 0, 0, 0, time.UTC)
)

// The release and commit the example documents name.
var templateIDs = []string{"lv-2026-11-26.1", "lv-2026-11-27.1"}
var templateCommits = []string{"3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e", "b7e4d2c19f0a8e6d5c4b3a29180f7e6d5c4b3a21"}

// rel is what the test did to one release.
type rel struct {
	ID, Service, Env, Commit string
	Scenario                 string
	Decisions                []*engine.Decision
	// Set by the scenarios, from what they recorded.
	Emergency, FrozenDeploy bool
	VerifyFailed, Breach    bool
	RolledBack              bool
	FailureAt, RestoredAt   time.Time
	RollbackSeconds         float64 // the first succeeded rollback
	DeploySeconds           float64 // the succeeded Deploy
	HasRollback, HasDeploy  bool
}

type pending struct {
	at time.Time
	fn func()
}

type fixture struct {
	t     *testing.T
	ctx   context.Context
	path  string
	db    *sqlite.DB
	eng   *engine.Engine
	v     *evidence.Validator
	g     *gate.Gate
	clock time.Time
	n     int

	rels    []*rel
	queue   []pending
	closed  map[string]time.Time // violation id → closed at
	tmpl    map[string]map[string]any
	signed  map[string]bool   // the example template came signed
	ruleSet map[string]string // rule → title, from the findings
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	// The example evidence is signed with the EXAMPLE keys.
	eng, err := engine.Load(ctx, engine.Options{Policies: policies.FS, People: keys.People()})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, ctx: ctx, path: path, db: db, eng: eng, v: evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring()),
		closed: map[string]time.Time{}, tmpl: map[string]map[string]any{}, signed: map[string]bool{}, ruleSet: map[string]string{}}
	f.g = &gate.Gate{Engine: eng, Validator: f.v, Store: db,
		Clock: func() time.Time { return f.clock },
		NewID: func(prefix string, _ time.Time) string { f.n++; return fmt.Sprintf("%s_%04d", prefix, f.n) }}
	return f
}

// advance runs the scheduled events (postmortems) due by now, in time
// order, so the gate sees the violations open or closed as they were.
func (f *fixture) advance(now time.Time) {
	sort.SliceStable(f.queue, func(i, j int) bool { return f.queue[i].at.Before(f.queue[j].at) })
	for len(f.queue) > 0 && !f.queue[0].at.After(now) {
		p := f.queue[0]
		f.queue = f.queue[1:]
		p.fn()
	}
}

func (f *fixture) at(t time.Time, fn func()) { f.queue = append(f.queue, pending{t, fn}) }

func (f *fixture) newRel(id, service, env, scenario string) *rel {
	sum := sha1.Sum([]byte(id))
	r := &rel{ID: id, Service: service, Env: env, Commit: hex.EncodeToString(sum[:]), Scenario: scenario}
	f.rels = append(f.rels, r)
	return r
}

var timestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$`)

// doc loads an example document for r: release and commit rewritten, every
// timestamp moved by delta, then edit applied; decoded and validated.
func (f *fixture) doc(r *rel, name string, delta time.Duration, edit func(m map[string]any)) *evidence.Document {
	f.t.Helper()
	m := f.template(name)
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		case string:
			if timestamp.MatchString(x) {
				t, err := time.Parse(time.RFC3339Nano, x)
				if err != nil {
					f.t.Fatal(err)
				}
				return t.Add(delta).UTC().Format(time.RFC3339Nano)
			}
			for _, id := range templateIDs {
				x = strings.ReplaceAll(x, id, r.ID)
			}
			for _, c := range templateCommits {
				x = strings.ReplaceAll(x, c, r.Commit)
			}
			return x
		}
		return v
	}
	walk(m)
	m["release"] = map[string]any{"id": r.ID, "service": r.Service, "environment": r.Env}
	m["subject"].(map[string]any)["commit"] = r.Commit
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		f.t.Fatal(err)
	}
	if f.signed[name] {
		// Edited, so signed again, as the example was.
		if b, err = keys.Seal(b); err != nil {
			f.t.Fatalf("%s for %s: %v", name, r.ID, err)
		}
	}
	d, err := f.v.Decode(r.ID+"/"+name, b)
	if err != nil {
		f.t.Fatalf("%s for %s: %v", name, r.ID, err)
	}
	return d
}

// template returns a fresh copy of an example document.
func (f *fixture) template(name string) map[string]any {
	if _, ok := f.tmpl[name]; !ok {
		b, err := os.ReadFile(filepath.Join(examples, name))
		if err != nil {
			f.t.Fatal(err)
		}
		var m map[string]any
		f.signed[name] = !bytes.Equal(keys.Open(b), b)
		dec := json.NewDecoder(bytes.NewReader(keys.Open(b)))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			f.t.Fatal(err)
		}
		f.tmpl[name] = m
	}
	b, _ := json.Marshal(f.tmpl[name])
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		f.t.Fatal(err)
	}
	return m
}

// decide asks a gate through the real gate, recording in the ledger.
func (f *fixture) decide(r *rel, gateName string, now time.Time, dryRun bool, docs ...*evidence.Document) *engine.Decision {
	f.t.Helper()
	f.advance(now)
	f.clock = now.Add(time.Second)
	d, err := f.g.Decide(f.ctx, gate.Request{Gate: gateName, Release: engine.Release{ID: r.ID}, Evidence: docs, Actor: "dave", Now: now, DryRun: dryRun})
	if err != nil {
		f.t.Fatalf("%s %s gate: %v", r.ID, gateName, err)
	}
	for _, fs := range [][]engine.Finding{d.Violations, d.Overridden, d.Warnings} {
		for _, x := range fs {
			f.ruleSet[x.Rule] = x.Title
		}
	}
	r.Decisions = append(r.Decisions, d)
	return d
}

func (f *fixture) want(r *rel, d *engine.Decision, allow bool, rules ...string) {
	f.t.Helper()
	var got []string
	for _, v := range d.Violations {
		if !slices.Contains(got, v.Rule) {
			got = append(got, v.Rule)
		}
	}
	if d.Allow != allow || (rules != nil && !slices.Equal(got, rules)) {
		f.t.Fatalf("%s %s gate: allow %t, violations %v; want allow %t, %v", r.ID, d.Gate, d.Allow, got, allow, rules)
	}
}

// addEvidence records documents outside any gate, as `evidence add` does.
func (f *fixture) addEvidence(at time.Time, docs ...*evidence.Document) {
	f.t.Helper()
	f.advance(at)
	var evs []store.Evidence
	for _, d := range docs {
		evs = append(evs, gate.StoreEvidence(d))
	}
	if _, err := f.db.AddEvidence(f.ctx, at, evs); err != nil {
		f.t.Fatal(err)
	}
}

// postmortem schedules a Postmortem closing ids at closeAt.
func (f *fixture) postmortem(r *rel, ids []string, closeAt time.Time) {
	f.at(closeAt, func() {
		delta := closeAt.Sub(baseAllowed)
		doc := f.doc(r, "allowed/approval.json", delta, func(m map[string]any) {
			m["kind"] = "Postmortem"
			m["collector"] = map[string]any{"name": "manual", "actor": "carol"}
			vs := make([]any, len(ids))
			for i, id := range ids {
				vs[i] = id
			}
			m["data"] = map[string]any{
				"violations": vs, "author": "carol",
				"summary":     fmt.Sprintf("what went wrong with %s and what changes", r.ID),
				"completedAt": closeAt.Add(-30 * time.Minute).Format(time.RFC3339),
				"url":         "https://wiki.localizevideos.com/postmortems/" + r.ID,
			}
		})
		closed, err := f.db.ClosePostmortem(f.ctx, closeAt, gate.StoreEvidence(doc), ids)
		if err != nil {
			f.t.Fatalf("close %v: %v", ids, err)
		}
		for _, v := range closed {
			f.closed[v.ID] = v.ClosedAt
		}
	})
}

// Scenarios. S is the deploy gate's time.

type variant struct {
	plan, incidents, deployRequested string
	approval                         bool
	extra                            []string
	dryRunFirst                      bool
}

func okVariant() variant {
	return variant{plan: "allowed/plan.json", incidents: "allowed/incidents.json", deployRequested: "allowed/deploy-requested.json", approval: true}
}

func (f *fixture) deployGate(r *rel, S time.Time, v variant) *engine.Decision {
	delta := S.Sub(baseAllowed)
	docs := []*evidence.Document{
		f.doc(r, v.plan, delta, nil), f.doc(r, v.incidents, delta, nil), f.doc(r, "allowed/build.json", delta, nil),
		f.doc(r, v.deployRequested, delta, nil),
	}
	if v.approval {
		docs = append(docs, f.doc(r, "allowed/approval.json", delta, nil))
	}
	for _, x := range v.extra {
		docs = append(docs, f.doc(r, x, delta, nil))
	}
	if v.dryRunFirst {
		d := f.decide(r, "deploy", S.Add(-time.Minute), true, docs...)
		f.want(r, d, true)
	}
	return f.decide(r, "deploy", S, false, docs...)
}

// deployed records the succeeded Deploy and asks the verify gate.
func (f *fixture) verifyGate(r *rel, S time.Time, verification string) *engine.Decision {
	delta := S.Sub(baseAllowed)
	r.HasDeploy, r.DeploySeconds = true, 8.4 // allowed/deploy.json
	return f.decide(r, "verify", S.Add(7*time.Minute), false,
		f.doc(r, "allowed/deploy.json", delta, nil), f.doc(r, verification, delta, nil))
}

func (f *fixture) completeGate(r *rel, S time.Time, docs ...*evidence.Document) *engine.Decision {
	return f.decide(r, "complete", S.Add(25*time.Minute), false, docs...)
}

func (f *fixture) monitoring(r *rel, S time.Time, breach bool) *evidence.Document {
	return f.doc(r, "allowed/monitoring.json", S.Sub(baseAllowed), func(m map[string]any) {
		if !breach {
			return
		}
		data := m["data"].(map[string]any)
		data["result"] = "breach"
		sig := data["signals"].([]any)[0].(map[string]any)
		sig["status"], sig["observed"] = "breach", json.Number("0.094")
	})
}

// rollback makes a Rollback document of r from rollback-slower/.
func (f *fixture) rollback(r *rel, S time.Time, status string, started time.Time, seconds float64, reason string) *evidence.Document {
	return f.doc(r, "rollback-slower/rollback.json", S.Sub(baseAllowed), func(m map[string]any) {
		finished := started.Add(time.Duration(seconds * float64(time.Second)))
		m["collectedAt"] = finished.Add(4 * time.Second).Format(time.RFC3339Nano)
		data := m["data"].(map[string]any)
		data["status"], data["reason"] = status, reason
		data["startedAt"], data["finishedAt"] = started.Format(time.RFC3339Nano), finished.Format(time.RFC3339Nano)
		data["durationSeconds"] = json.Number(fmt.Sprint(seconds))
	})
}

func (f *fixture) noteRollback(r *rel, status string, started time.Time, seconds float64) {
	if status != "succeeded" {
		return
	}
	finished := started.Add(time.Duration(seconds * float64(time.Second)))
	if !r.RolledBack {
		r.RolledBack, r.HasRollback, r.RollbackSeconds = true, true, seconds
		if !r.FailureAt.IsZero() && !finished.Before(r.FailureAt) {
			r.RestoredAt = finished
		}
	}
}

func (f *fixture) ok(r *rel, S time.Time, v variant) {
	d := f.deployGate(r, S, v)
	f.want(r, d, true)
	f.want(r, f.verifyGate(r, S, "allowed/verification.json"), true)
	f.want(r, f.completeGate(r, S, f.monitoring(r, S, false)), true)
}

// denied asks only the deploy gate, which must deny with rules, and closes
// the violation at closeAt (never when zero).
func (f *fixture) denied(r *rel, S time.Time, v variant, closeAt time.Time, rules ...string) {
	d := f.deployGate(r, S, v)
	f.want(r, d, false, rules...)
	if !closeAt.IsZero() {
		f.postmortem(r, d.Opened, closeAt)
	}
}

// verifyFail: the verify gate denies; rollbacks says how the release is
// rolled back: 0 never (fixed forward), 1 at once, 2 after a failed try.
func (f *fixture) verifyFail(r *rel, S time.Time, closeAt time.Time, rollbacks int) {
	f.want(r, f.deployGate(r, S, okVariant()), true)
	d := f.verifyGate(r, S, "verify-failed/verification.json")
	f.want(r, d, false, "verify.mandatory-checks")
	r.VerifyFailed, r.FailureAt = true, d.EvaluatedAt
	f.postmortem(r, d.Opened, closeAt)
	if rollbacks == 0 {
		return
	}
	start, secs := S.Add(14*time.Minute), 60.0
	if rollbacks == 2 {
		fs := S.Add(9 * time.Minute)
		f.addEvidence(fs.Add(65*time.Second), f.rollback(r, S, "failed", fs, 60, "pm2 restart failed: port in use"))
		f.noteRollback(r, "failed", fs, 60)
		secs = 120
	}
	f.addEvidence(start.Add(time.Duration(secs)*time.Second+4*time.Second), f.rollback(r, S, "succeeded", start, secs, "smoke tests failed: /api/me returned the wrong user"))
	f.noteRollback(r, "succeeded", start, secs)
}

func (f *fixture) breach(r *rel, S time.Time, closeAt time.Time) {
	f.want(r, f.deployGate(r, S, okVariant()), true)
	f.want(r, f.verifyGate(r, S, "allowed/verification.json"), true)
	mon := f.monitoring(r, S, true)
	r.Breach, r.FailureAt = true, mon.CollectedAt.UTC()
	d := f.completeGate(r, S, mon)
	f.want(r, d, false, "monitoring.healthy")
	start := S.Add(27 * time.Minute)
	// Disabling the change by its flag is faster than the deploy.
	f.addEvidence(start.Add(10*time.Second), f.rollback(r, S, "succeeded", start, 6, "error rate breach after the deploy"))
	f.noteRollback(r, "succeeded", start, 6)
	f.postmortem(r, d.Opened, closeAt)
}

func (f *fixture) slowRollback(r *rel, S time.Time, closeAt time.Time) {
	f.want(r, f.deployGate(r, S, okVariant()), true)
	f.want(r, f.verifyGate(r, S, "allowed/verification.json"), true)
	rb := f.doc(r, "rollback-slower/rollback.json", S.Sub(baseAllowed), nil)
	d := f.completeGate(r, S, f.monitoring(r, S, false), rb)
	f.want(r, d, false, "release.rolled-back", "rollback.slower-than-deploy")
	f.noteRollback(r, "succeeded", S.Add(19*time.Minute), 96)
	if !closeAt.IsZero() {
		f.postmortem(r, d.Opened, closeAt)
	}
}

func (f *fixture) emergency(r *rel, S time.Time, closeAt time.Time) {
	delta := S.Sub(baseEmergency)
	var docs []*evidence.Document
	for _, n := range []string{"plan", "incidents", "build", "deploy-requested", "approval"} {
		docs = append(docs, f.doc(r, "emergency/"+n+".json", delta, nil))
	}
	d := f.decide(r, "deploy", S, false, docs...)
	f.want(r, d, true)
	if len(d.Opened) != 1 || !strings.HasPrefix(d.Opened[0], "obl_") {
		f.t.Fatalf("%s: emergency opened %v; want one obligation", r.ID, d.Opened)
	}
	r.Emergency, r.FrozenDeploy = true, true
	if !closeAt.IsZero() {
		f.postmortem(r, d.Opened, closeAt)
	}
}

func (f *fixture) freezeWindow(r *rel, S time.Time, closeAt time.Time) {
	delta := S.Sub(baseFreeze)
	docs := []*evidence.Document{
		f.doc(r, "freeze-window/plan.json", delta, nil), f.doc(r, "freeze-window/incidents.json", delta, nil),
		f.doc(r, "allowed/build.json", delta, nil), f.doc(r, "freeze-window/deploy-requested.json", delta, nil),
		f.doc(r, "freeze-window/approval.json", delta, nil),
	}
	d := f.decide(r, "deploy", S, false, docs...)
	f.want(r, d, false, "freeze.hard-window")
	r.FrozenDeploy = true
	f.postmortem(r, d.Opened, closeAt)
}

func day(m time.Month, d int, h, min int) time.Time {
	return time.Date(2026, m, d, h, min, 0, 0, time.UTC)
}

// build records the whole schedule.
func (f *fixture) build() {
	const app, worker = "localizevideos-app", "lv-worker"
	A, B := func(m time.Month, d int) time.Time { return day(m, d, 10, 5) }, func(m time.Month, d int) time.Time { return day(m, d, 14, 5) }
	id := func(at time.Time, n int) string { return fmt.Sprintf("lv-%s.%d", at.Format(time.DateOnly), n) }
	prod := func(at time.Time, n int, scenario string) *rel {
		return f.newRel(id(at, n), app, "production", scenario)
	}
	noApproval := okVariant()
	noApproval.approval = false
	override := okVariant()
	override.plan, override.extra = "override-error-budget/plan.json", []string{"override-error-budget/override.json"}
	bigChange := okVariant()
	bigChange.plan = "big-change/plan.json"
	with := func(v variant, set func(*variant)) variant { set(&v); return v }
	dry := with(okVariant(), func(v *variant) { v.dryRunFirst = true })

	f.ok(prod(A(10, 29), 1, "ok"), A(10, 29), okVariant()) // before the period
	f.ok(prod(A(11, 2), 1, "ok"), A(11, 2), okVariant())
	// Late: due Sat 7 14:05, closed Sun 8 12:00, before the next deploy.
	f.denied(prod(B(11, 2), 2, "denied"), B(11, 2), noApproval, day(11, 8, 12, 0), "approval.required")
	f.ok(prod(A(11, 3), 1, "override"), A(11, 3), override)
	f.verifyFail(prod(B(11, 3), 2, "verify-failed"), B(11, 3), day(11, 5, 9, 0), 1)
	f.ok(prod(A(11, 4), 1, "dry-run"), A(11, 4), dry)
	f.denied(prod(B(11, 4), 2, "denied"), B(11, 4), with(okVariant(), func(v *variant) { v.deployRequested = "direct-push/deploy-requested.json" }),
		day(11, 6, 9, 0), "forbidden.direct-push")
	f.ok(prod(A(11, 5), 1, "big-change"), A(11, 5), bigChange)
	// Late: due Tue 10 14:30, closed Tue 10 18:00.
	f.breach(prod(B(11, 5), 2, "breach"), B(11, 5), day(11, 10, 18, 0))
	f.ok(prod(A(11, 6), 1, "ok"), A(11, 6), okVariant())
	f.freezeWindow(prod(day(11, 6, 19, 0), 2, "freeze-window"), day(11, 6, 19, 0), day(11, 9, 9, 30))
	f.emergency(prod(day(11, 6, 19, 30), 3, "emergency"), day(11, 6, 19, 30), day(11, 9, 9, 0))
	f.slowRollback(prod(A(11, 9), 1, "slow-rollback"), A(11, 9), day(11, 10, 9, 0))
	f.denied(prod(B(11, 9), 2, "denied"), B(11, 9), with(okVariant(), func(v *variant) { v.deployRequested = "wrong-command/deploy-requested.json" }),
		day(11, 14, 10, 0), "deploy.approved-command") // on time, 4h before due
	f.ok(prod(A(11, 10), 1, "ok"), A(11, 10), okVariant())
	f.denied(prod(B(11, 10), 2, "denied"), B(11, 10), with(okVariant(), func(v *variant) { v.incidents = "incident-sev1/incidents.json" }),
		day(11, 13, 9, 0), "forbidden.deploy-during-incident")
	f.denied(prod(A(11, 11), 1, "denied"), A(11, 11), with(okVariant(), func(v *variant) { v.plan = "no-rollback-plan/plan.json" }),
		day(11, 14, 11, 0), "forbidden.no-rollback-plan")
	f.ok(f.newRel(id(B(11, 11), 2), app, "staging", "staging"), B(11, 11), okVariant())
	f.ok(prod(A(11, 12), 1, "ok"), A(11, 12), okVariant())
	f.denied(prod(B(11, 12), 2, "denied"), B(11, 12), with(okVariant(), func(v *variant) { v.deployRequested = "hot-patch/deploy-requested.json" }),
		day(11, 16, 8, 0), "forbidden.hot-patch")
	f.verifyFail(prod(A(11, 13), 1, "verify-failed"), A(11, 13), day(11, 16, 9, 0), 1)
	// Late: due Wed 18 19:30, closed Wed 18 21:00.
	f.emergency(prod(day(11, 13, 19, 30), 2, "emergency"), day(11, 13, 19, 30), day(11, 18, 21, 0))
	// Never closed: overdue at the end of the period (and it blocks the
	// next lv-worker deploy).
	f.denied(f.newRel(id(A(11, 16), 1), worker, "production", "worker"), A(11, 16), okVariant(), time.Time{}, "deploy.approved-command")
	f.ok(prod(B(11, 16), 2, "ok"), B(11, 16), okVariant())
	f.ok(prod(A(11, 17), 1, "override"), A(11, 17), override)
	// Fixed forward: failed verification, never rolled back.
	f.verifyFail(prod(B(11, 17), 2, "verify-failed"), B(11, 17), day(11, 19, 9, 30), 0)
	f.breach(prod(A(11, 18), 1, "breach"), A(11, 18), day(11, 20, 9, 0))
	f.denied(prod(B(11, 18), 2, "denied"), B(11, 18), noApproval, day(11, 19, 9, 0), "approval.required")
	f.ok(prod(A(11, 19), 1, "ok"), A(11, 19), okVariant())
	f.verifyFail(prod(B(11, 19), 2, "verify-failed"), B(11, 19), day(11, 23, 9, 0), 2)
	f.ok(prod(A(11, 20), 1, "ok"), A(11, 20), okVariant())
	f.freezeWindow(prod(day(11, 20, 19, 0), 2, "freeze-window"), day(11, 20, 19, 0), day(11, 23, 9, 30))
	f.denied(f.newRel(id(A(11, 23), 1), worker, "production", "worker"), A(11, 23), okVariant(), time.Time{}, "deploy.approved-command", "postmortem.overdue")
	f.ok(prod(B(11, 23), 2, "ok"), B(11, 23), okVariant())
	f.ok(prod(A(11, 24), 1, "big-change"), A(11, 24), bigChange)
	f.ok(f.newRel(id(B(11, 24), 2), app, "staging", "staging"), B(11, 24), okVariant())
	f.ok(prod(A(11, 25), 1, "ok"), A(11, 25), okVariant())
	f.denied(prod(B(11, 25), 2, "denied"), B(11, 25), with(okVariant(), func(v *variant) { v.deployRequested = "direct-push/deploy-requested.json" }),
		day(11, 27, 9, 0), "forbidden.direct-push")
	f.ok(prod(A(11, 26), 1, "ok"), A(11, 26), okVariant())
	// Open at the end of the period, not yet due.
	f.slowRollback(prod(B(11, 26), 2, "slow-rollback"), B(11, 26), time.Time{})
	f.denied(prod(A(11, 27), 1, "denied"), A(11, 27), noApproval, time.Time{}, "approval.required")
	f.emergency(prod(day(11, 27, 19, 30), 2, "emergency"), day(11, 27, 19, 30), time.Time{})
	f.ok(prod(A(12, 1), 1, "ok"), A(12, 1), okVariant()) // after the period
	f.advance(day(12, 31, 0, 0))
}
