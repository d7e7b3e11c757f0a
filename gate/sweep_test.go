package gate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/postgres"
	"github.com/localizevideos/shipgate/store/postgres/pgtest"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// finishedAt is when the example's succeeded Deploy (allowed/deploy.json) finished.
var finishedAt = time.Date(2026, 11, 26, 10, 6, 8, 400_000_000, time.UTC)

// exampleDoc decodes the example document at name after edit changed it.
func exampleDoc(t *testing.T, g *gate.Gate, name string, edit func(m map[string]any)) *evidence.Document {
	t.Helper()
	b, err := os.ReadFile(files(name)[0])
	if err != nil {
		t.Fatal(err)
	}
	// The example is signed: edit the document inside and seal it again.
	var m map[string]any
	if err := json.Unmarshal(keys.Open(b), &m); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if b, err = keys.Seal(b); err != nil {
		t.Fatal(err)
	}
	d, err := g.Validator.Decode(name, b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// deployed returns the example Deploy as one of release (of service),
// finished at finished.
func deployed(t *testing.T, g *gate.Gate, release, service string, finished time.Time) *evidence.Document {
	return exampleDoc(t, g, "allowed/deploy.json", func(m map[string]any) {
		rel := m["release"].(map[string]any)
		rel["id"], rel["service"] = release, service
		m["collectedAt"] = finished.Add(2 * time.Second).Format(time.RFC3339Nano)
		data := m["data"].(map[string]any)
		data["startedAt"] = finished.Add(-8 * time.Second).Format(time.RFC3339Nano)
		data["finishedAt"] = finished.Format(time.RFC3339Nano)
	})
}

func add(t *testing.T, db *sqlite.DB, docs ...*evidence.Document) {
	t.Helper()
	evs := make([]store.Evidence, len(docs))
	for i, d := range docs {
		evs[i] = gate.StoreEvidence(d)
	}
	if _, err := db.AddEvidence(context.Background(), finishedAt, evs); err != nil {
		t.Fatal(err)
	}
}

func sweep(t *testing.T, g *gate.Gate, service string, now time.Time) []gate.Skipped {
	t.Helper()
	got, err := g.Sweep(context.Background(), gate.SweepRequest{Service: service, Actor: "sweeper", Now: now})
	if err != nil {
		t.Fatalf("Sweep(%s) = %v", now.Format(time.RFC3339), err)
	}
	return got
}

func TestSweepOpensOneViolationPerUnverifiedDeploy(t *testing.T) {
	ctx := context.Background()
	g, db := newGate(t)
	deploy := exampleDoc(t, g, "allowed/deploy.json", nil)
	add(t, db, deploy, exampleDoc(t, g, "allowed/deploy-requested.json", nil))

	if got := sweep(t, g, "", finishedAt.Add(30*time.Minute)); len(got) != 0 {
		t.Fatalf("Sweep() at the deadline = %+v; want nothing yet", got)
	}
	now := finishedAt.Add(31 * time.Minute)
	got := sweep(t, g, "", now)
	if len(got) != 1 {
		t.Fatalf("Sweep() after the deadline = %+v; want the one succeeded Deploy", got)
	}
	s := got[0]
	if s.Deploy != deploy.Digest || s.Release.ID != lv.ID || s.Release.Service != "localizevideos-app" ||
		s.Deployer != "dave" || !s.FinishedAt.Equal(finishedAt) || s.Deadline != "30m0s" ||
		s.Violation != gate.SkippedViolationID(deploy.Digest) || len(s.Verify) != 0 {
		t.Errorf("Skipped = %+v", s)
	}
	for _, want := range []string{"Deploy " + deploy.Digest[7:19] + " by dave of release lv-2026-11-26.1", "finished at 2026-11-26T10:06:08Z",
		"no verify gate judged its smoke tests within the 30m0s deadline (by 2026-11-26T10:36:08Z): no verify gate was asked"} {
		if !strings.Contains(s.Message, want) {
			t.Errorf("message %q lacks %q", s.Message, want)
		}
	}
	v, err := db.Violation(ctx, s.Violation)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != store.StatusOpen || v.Gate != gate.SweepGate || v.DecisionID != s.Decision || v.Actor != "sweeper" ||
		!slices.Equal(v.Rules, []string{gate.RuleSkippedSmokeTests}) || !v.OpenedAt.Equal(now) || !v.Due.Equal(now.Add(5*24*time.Hour)) {
		t.Errorf("violation = %+v", v)
	}
	d, rec := recordBody[gate.SweepRecord](t, db, s.Decision)
	if d.Gate != gate.SweepGate || d.Allow || rec.Swept.Deploy != deploy.Digest || rec.Replay.Gate != "" ||
		rec.Policy.Revision != g.Engine.Revision() || !slices.Equal(rec.Opened, []string{s.Violation}) ||
		len(rec.Violations) != 1 || rec.Violations[0].Rule != gate.RuleSkippedSmokeTests || rec.Violations[0].Enforcement != engine.Hard {
		t.Errorf("recorded decision %+v, body %+v", d, rec)
	}
	// Idempotent: the next sweeps open nothing more, also once it is closed.
	if again := sweep(t, g, "", now.Add(time.Hour)); len(again) != 0 {
		t.Errorf("second Sweep() = %+v; want nothing", again)
	}
	pm := exampleDoc(t, g, "allowed/plan.json", func(m map[string]any) {
		m["kind"] = "Postmortem"
		m["data"] = map[string]any{"violations": []string{s.Violation}, "summary": "verify was skipped", "author": "carol", "completedAt": "2026-11-26T12:00:00Z"}
	})
	if _, err := db.ClosePostmortem(ctx, now.Add(time.Hour), gate.StoreEvidence(pm), []string{s.Violation}); err != nil {
		t.Fatal(err)
	}
	if again := sweep(t, g, "", now.Add(2*time.Hour)); len(again) != 0 {
		t.Errorf("Sweep() after the postmortem = %+v; want nothing", again)
	}
	if _, err := db.Verify(ctx, nil); err != nil {
		t.Errorf("audit verify: %v", err)
	}
}

// A verify gate that judged the smoke tests in time (allowed, or denied
// by the policies: the tests ran and failed, a violation of its own) covers
// the deploy; a dry run, a denial before any policy ran, or a judgement
// after the deadline does not.
func TestSweepCountsOnlyAVerifyThatJudgedInTime(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		at     time.Duration // after the deploy finished
		dryRun bool
		files  []string
		reason string // of the verify decision
		opens  bool
	}{
		{"allowed in time", 6 * time.Minute, false, files("allowed/deploy.json", "allowed/verification.json"), engine.ReasonAllow, false},
		{"failed checks", 6 * time.Minute, false, files("allowed/deploy.json", "verify-failed/verification.json"), engine.ReasonDeny, false},
		{"a dry run", 6 * time.Minute, true, files("allowed/deploy.json", "allowed/verification.json"), engine.ReasonAllow, true},
		{"no Verification", 6 * time.Minute, false, files("allowed/deploy.json"), engine.ReasonEvidenceMissing, true},
		{"allowed too late", 31 * time.Minute, false, files("allowed/deploy.json", "allowed/verification.json"), engine.ReasonAllow, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, _ := newGate(t)
			if _, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: lv, Now: deployAt,
				EvidencePaths: append(beforeDeploy, files("allowed/approval.json")...)}); err != nil {
				t.Fatal(err)
			}
			d, _ := g.Decide(ctx, gate.Request{Gate: "verify", Release: lv, Now: finishedAt.Add(c.at), DryRun: c.dryRun, EvidencePaths: c.files})
			if d.Reason != c.reason {
				t.Fatalf("verify gate reason = %s; want %s: %+v", d.Reason, c.reason, d.Violations)
			}
			got := sweep(t, g, "localizevideos-app", finishedAt.Add(2*time.Hour))
			if (len(got) == 1) != c.opens || len(got) > 1 {
				t.Fatalf("Sweep() = %+v; want opened %t", got, c.opens)
			}
			if c.name == "no Verification" {
				want := d.ID + " (evidence.missing)"
				if !slices.Equal(got[0].Verify, []string{want}) || !strings.Contains(got[0].Message, "the verify gate never judged a Verification: "+want) {
					t.Errorf("Skipped = %+v; want %s named", got[0], want)
				}
			}
		})
	}
}

// A deploy still within its deadline, one that did not succeed, and one of
// another service (when the sweep is for one service) open nothing.
func TestSweepLeavesOthersAlone(t *testing.T) {
	g, db := newGate(t)
	now := deployAt.Add(3 * time.Hour)
	add(t, db,
		deployed(t, g, "lv-recent", "localizevideos-app", now.Add(-10*time.Minute)),
		exampleDoc(t, g, "allowed/deploy.json", func(m map[string]any) { m["data"].(map[string]any)["status"] = "failed" }),
		deployed(t, g, "api-1", "localizevideos-api", now.Add(-time.Hour)))
	if got := sweep(t, g, "localizevideos-app", now); len(got) != 0 {
		t.Fatalf("Sweep(localizevideos-app) = %+v; want nothing", got)
	}
	got := sweep(t, g, "", now)
	if len(got) != 1 || got[0].Release.ID != "api-1" {
		t.Fatalf("Sweep() of every service = %+v; want api-1 only", got)
	}
}

// The service's next gate finds the deploy that skipped its smoke tests
// even when nobody swept: its deploy is denied until a postmortem closes
// the violation, then allowed.
func TestDecideSweepsTheService(t *testing.T) {
	ctx := context.Background()
	g, db := newGate(t)
	old := deployed(t, g, "lv-old", "localizevideos-app", deployAt.Add(-2*time.Hour))
	add(t, db, old)
	req := gate.Request{Gate: "deploy", Release: lv, Now: deployAt, Actor: "dave",
		EvidencePaths: append(beforeDeploy, files("allowed/approval.json")...)}
	d, err := g.Decide(ctx, req)
	if err != nil || d.Allow {
		t.Fatalf("Decide() = allow %t, %v; want deny", d.Allow, err)
	}
	vid := gate.SkippedViolationID(old.Digest)
	var rules []string
	for _, f := range d.Violations {
		rules = append(rules, f.Rule)
		if f.Rule == gate.RuleSkippedSmokeTests && !strings.Contains(f.Message, "violation "+vid+" (sweep gate, release lv-old") {
			t.Errorf("finding = %q; want it to name %s", f.Message, vid)
		}
	}
	if !slices.Equal(rules, []string{gate.RuleSkippedSmokeTests}) {
		t.Fatalf("violations = %v; want only %s", rules, gate.RuleSkippedSmokeTests)
	}
	v, err := db.Violation(ctx, vid)
	if err != nil || v.Actor != "dave" || v.ReleaseID != "lv-old" {
		t.Fatalf("the sweep's violation = %+v, %v", v, err)
	}
	_, body := recordBody[gate.Record](t, db, d.ID)
	if !slices.ContainsFunc(body.Replay.Violations, func(o engine.OpenViolation) bool { return o.ID == vid }) {
		t.Errorf("replay violations = %+v; want %s", body.Replay.Violations, vid)
	}

	pm := exampleDoc(t, g, "allowed/plan.json", func(m map[string]any) {
		m["release"].(map[string]any)["id"] = "lv-old"
		m["kind"] = "Postmortem"
		m["data"] = map[string]any{"violations": []string{vid}, "summary": "verify was skipped", "author": "carol", "completedAt": "2026-11-26T10:04:00Z"}
	})
	if _, err := db.ClosePostmortem(ctx, deployAt, gate.StoreEvidence(pm), []string{vid}); err != nil {
		t.Fatal(err)
	}
	if d, err := g.Decide(ctx, req); err != nil || !d.Allow {
		t.Fatalf("Decide() after the postmortem = allow %t, %v, %+v; want allow", d.Allow, err, d.Violations)
	}
}

// failingSweepStore cannot read across releases.
type failingSweepStore struct{ *sqlite.DB }

func (failingSweepStore) ServiceEvidence(context.Context, string, string) ([]store.Evidence, error) {
	return nil, errors.New("disk on fire")
}

// A sweep that cannot run denies: the gate cannot tell what it would find.
func TestDecideDeniesWhenTheSweepFails(t *testing.T) {
	g, db := newGate(t)
	g.Store = failingSweepStore{db}
	d, err := g.Decide(context.Background(), gate.Request{Gate: "deploy", Release: lv, Now: deployAt,
		EvidencePaths: append(beforeDeploy, files("allowed/approval.json")...)})
	var re *gate.RecordError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Decide() error = %v; want a *RecordError with the cause", err)
	}
	if d == nil || d.Allow || d.Reason != engine.ReasonStore {
		t.Fatalf("Decide() = %+v; want a denial with %s", d, engine.ReasonStore)
	}
}

// sweepStore is a store as the sweep needs it, and what the test checks
// it with.
type sweepStore interface {
	gate.Store
	AddEvidence(ctx context.Context, now time.Time, docs []store.Evidence) ([]store.Evidence, error)
	Verify(ctx context.Context, cp *ledger.Checkpoint) (ledger.Head, error)
}

// Two processes sweeping one ledger at the same time, on each store,
// open one violation for the deploy and record one sweep decision.
func TestSweepConcurrentlyOnEveryStore(t *testing.T) {
	for _, c := range []struct {
		name string
		open func(t *testing.T) (a, b sweepStore)
	}{
		{"sqlite", func(t *testing.T) (sweepStore, sweepStore) {
			p := filepath.Join(t.TempDir(), "ledger.db")
			return pgtest.Open(t, p, sqlite.Open), pgtest.Open(t, p, sqlite.Open)
		}},
		{"postgres", func(t *testing.T) (sweepStore, sweepStore) {
			u := pgtest.NewDatabase(t)
			return pgtest.Open(t, u, postgres.Open), pgtest.Open(t, u, postgres.Open)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			a, b := c.open(t)
			g, _ := newGate(t)
			now := finishedAt.Add(time.Hour)
			clock := func() time.Time { return now }
			ga := &gate.Gate{Engine: g.Engine, Validator: g.Validator, Store: a, Clock: clock}
			gb := &gate.Gate{Engine: g.Engine, Validator: g.Validator, Store: b, Clock: clock}
			deploy := exampleDoc(t, g, "allowed/deploy.json", nil)
			if _, err := a.AddEvidence(ctx, finishedAt, []store.Evidence{gate.StoreEvidence(deploy)}); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			found := make([][]gate.Skipped, 6)
			errs := make([]error, len(found))
			for i := range found {
				g := ga
				if i%2 == 1 {
					g = gb
				}
				wg.Go(func() { found[i], errs[i] = g.Sweep(ctx, gate.SweepRequest{Now: now, Actor: "cron"}) })
			}
			wg.Wait()
			opened := 0
			for i := range found {
				if errs[i] != nil {
					t.Fatalf("Sweep() = %v", errs[i])
				}
				opened += len(found[i])
			}
			if opened != 1 {
				t.Errorf("the sweeps opened %d violations; want 1", opened)
			}
			vs, err := b.Violations(ctx, store.Filter{})
			if err != nil || len(vs) != 1 || vs[0].ID != gate.SkippedViolationID(deploy.Digest) {
				t.Errorf("violations = %+v, %v; want the one of the deploy", vs, err)
			}
			ds, err := a.ServiceDecisions(ctx, "localizevideos-app", gate.SweepGate)
			if err != nil || len(ds) != 1 {
				t.Errorf("sweep decisions = %d, %v; want 1", len(ds), err)
			}
			// A sweep that misses the violation (another process opened it
			// after the sweep read) is refused it by the store: nothing twice.
			blind := &gate.Gate{Engine: g.Engine, Validator: g.Validator, Store: blindStore{a}, Clock: clock}
			if again, err := blind.Sweep(ctx, gate.SweepRequest{Now: now}); err != nil || len(again) != 0 {
				t.Errorf("a sweep that read no violation = %+v, %v; want nothing opened, no error", again, err)
			}
			if _, err := b.Verify(ctx, nil); err != nil {
				t.Errorf("audit verify: %v", err)
			}
		})
	}
}

// blindStore reads no violation: a sweep's read raced by another's write.
type blindStore struct{ gate.Store }

func (blindStore) Violations(context.Context, store.Filter) ([]store.Violation, error) {
	return nil, nil
}

// violationsCounter counts the reads of violations made apart from a
// release's evidence (ReleaseReads reads them with it).
type violationsCounter struct {
	*sqlite.DB
	reads int
}

func (c *violationsCounter) Violations(ctx context.Context, f store.Filter) ([]store.Violation, error) {
	c.reads++
	return c.DB.Violations(ctx, f)
}

// recordAll records the documents at paths in the ledger.
func recordAll(t *testing.T, g *gate.Gate, db *sqlite.DB, paths ...string) {
	t.Helper()
	docs, err := g.Validator.LoadPaths(paths)
	if err != nil {
		t.Fatal(err)
	}
	add(t, db, docs...)
}

// foldingStore reads the open violations of the services a release's
// Plans name with its evidence, as a store whose dialect folds them in
// (PostgreSQL's) does; SQLite's reads them apart.
type foldingStore struct{ *violationsCounter }

func (f foldingStore) ReleaseReads(ctx context.Context, releaseID string) (store.ReleaseReads, error) {
	r, err := f.DB.ReleaseReads(ctx, releaseID)
	if err != nil || r.OpenRead {
		return r, err
	}
	services := map[string]bool{}
	for _, e := range r.Evidence {
		if e.Kind == "Plan" && !services[e.Service] {
			services[e.Service] = true
			open, err := f.DB.Violations(ctx, store.Filter{Status: store.StatusOpen, Service: e.Service})
			if err != nil {
				return store.ReleaseReads{}, err
			}
			r.Open = append(r.Open, open...)
		}
	}
	r.OpenRead = true
	return r, nil
}

// With its release's evidence in the ledger, a decision takes the open
// violations of the service from what the store read with it, when it
// read them (a read of their own otherwise): an overdue one denies.
func TestDecideReadsOpenViolationsWithTheEvidence(t *testing.T) {
	for _, folds := range []bool{false, true} {
		t.Run(fmt.Sprintf("folded=%t", folds), func(t *testing.T) { testDecideReadsOpenViolations(t, folds) })
	}
}

func testDecideReadsOpenViolations(t *testing.T, folds bool) {
	ctx := context.Background()
	g, db := newGate(t)
	counter := &violationsCounter{DB: db}
	g.Store = counter
	wantReads := 1
	if folds {
		g.Store, wantReads = foldingStore{counter}, 0
	}
	recordAll(t, g, db, append(beforeDeploy, files("allowed/approval.json")...)...)
	req := gate.Request{Gate: "deploy", Release: lv, Now: deployAt}
	if d, err := g.Decide(ctx, req); err != nil || !d.Allow {
		t.Fatalf("Decide() = allow %t, %v, %+v; want allow", d.Allow, err, d.Violations)
	}
	past := deployAt.Add(-10 * 24 * time.Hour)
	for _, v := range []struct {
		id, service string
		due         time.Time
	}{
		{"vio_old", "localizevideos-app", past.Add(5 * 24 * time.Hour)},
		{"vio_other", "localizevideos-api", past},
		{"vio_later", "localizevideos-app", deployAt.Add(time.Hour)},
	} {
		id := "dec_" + v.id
		body, err := json.Marshal(gate.Record{Decision: &engine.Decision{ID: id, Gate: "deploy", Reason: engine.ReasonDeny, EvaluatedAt: past,
			Release: engine.Release{ID: "lv-old", Service: v.service, Environment: "production", Commit: "9a8b7c6d5e4f30211203f4e5d6c7b8a990817263"}}})
		if err != nil {
			t.Fatal(err)
		}
		err = db.RecordDecision(ctx, past, store.Decision{ID: id, ReleaseID: "lv-old", Service: v.service,
			Environment: "production", Gate: "deploy", Reason: engine.ReasonDeny, EvaluatedAt: past, Body: body},
			[]store.Violation{{ID: v.id, Kind: store.KindViolation, ReleaseID: "lv-old", Service: v.service,
				Environment: "production", Gate: "deploy", Rules: []string{"approval.required"},
				OpenedAt: past, Due: v.due, Status: store.StatusOpen}}, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	counter.reads = 0
	d, err := g.Decide(ctx, req)
	if err != nil || d.Allow {
		t.Fatalf("Decide() = allow %t, %v; want deny", d.Allow, err)
	}
	if !slices.ContainsFunc(d.Violations, func(f engine.Finding) bool { return f.Rule == "postmortem.overdue" }) {
		t.Errorf("violations = %+v; want postmortem.overdue", d.Violations)
	}
	_, body := recordBody[gate.Record](t, db, d.ID)
	var ids []string
	for _, o := range body.Replay.Violations {
		ids = append(ids, o.ID)
	}
	if !slices.Equal(ids, []string{"vio_old", "vio_later"}) {
		t.Errorf("replay violations = %v; want the service's, by due date: vio_old, vio_later", ids)
	}
	if counter.reads != wantReads {
		t.Errorf("%d reads of violations apart from the evidence; want %d", counter.reads, wantReads)
	}
}

// With its release's evidence in the ledger, a decision whose sweep opens
// a violation reads the service's violations again, and sees it; the next
// decision sees it from the sweep's own read.
func TestDecideSeesWhatItsSweepOpened(t *testing.T) {
	ctx := context.Background()
	g, db := newGate(t)
	counter := &violationsCounter{DB: db}
	g.Store = counter
	old := deployed(t, g, "lv-old", "localizevideos-app", deployAt.Add(-2*time.Hour))
	add(t, db, old)
	recordAll(t, g, db, append(beforeDeploy, files("allowed/approval.json")...)...)
	vid := gate.SkippedViolationID(old.Digest)
	req := gate.Request{Gate: "deploy", Release: lv, Now: deployAt, Actor: "dave"}
	for i, wantReads := range []int{2, 1} { // the sweep's read, and one after it opened vio
		counter.reads = 0
		d, err := g.Decide(ctx, req)
		if err != nil || d.Allow {
			t.Fatalf("decision %d: Decide() = allow %t, %v; want deny", i, d.Allow, err)
		}
		if !slices.ContainsFunc(d.Violations, func(f engine.Finding) bool {
			return f.Rule == gate.RuleSkippedSmokeTests && strings.Contains(f.Message, vid)
		}) {
			t.Errorf("decision %d: violations = %+v; want %s naming %s", i, d.Violations, gate.RuleSkippedSmokeTests, vid)
		}
		if counter.reads != wantReads {
			t.Errorf("decision %d: %d reads of violations; want %d", i, counter.reads, wantReads)
		}
	}
}
