package gate_test

import (
	"context"
	"crypto/ed25519"
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
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/sqlite"
)

const ex = "../examples/localizevideos/evidence"

var (
	deployAt = time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)
	lv       = engine.Release{ID: "lv-2026-11-26.1"}
)

func files(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(ex, n)
	}
	return out
}

var beforeDeploy = files("allowed/plan.json", "allowed/incidents.json", "allowed/build.json", "allowed/deploy-requested.json")

// recordBody reads the decision id from db and decodes its body (a
// gate.Record, a gate.SweepRecord) as T.
func recordBody[T any](t *testing.T, db interface {
	Decision(context.Context, string) (store.Decision, error)
}, id string) (store.Decision, T) {
	t.Helper()
	var body T
	d, err := db.Decision(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(d.Body, &body); err != nil {
		t.Fatal(err)
	}
	return d, body
}

func newGate(t testing.TB) (*gate.Gate, *sqlite.DB) {
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
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	return &gate.Gate{Engine: eng, Validator: evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring()), Store: db,
		Clock: func() time.Time { clock = clock.Add(time.Second); return clock }}, db
}

func TestDecideRecordsBeforeAnswering(t *testing.T) {
	ctx := context.Background()
	g, db := newGate(t)
	d, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: lv, Now: deployAt, Actor: "dave",
		EvidencePaths: append(beforeDeploy, files("allowed/approval.json")...)})
	if err != nil || !d.Allow {
		t.Fatalf("Decide() = allow %t, %v; want allow", d.Allow, err)
	}
	rec, err := db.Decision(ctx, d.ID)
	if err != nil {
		t.Fatalf("decision %s not in the ledger: %v", d.ID, err)
	}
	if !rec.Allow || rec.Gate != "deploy" || rec.ReleaseID != lv.ID {
		t.Errorf("recorded %+v", rec)
	}
	ev, err := db.Evidence(ctx, lv.ID)
	if err != nil || len(ev) != 5 {
		t.Errorf("recorded evidence = %d, %v; want the 5 documents given", len(ev), err)
	}
	// The evidence is now in the ledger: the same gate needs no files.
	d2, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: lv, Now: deployAt})
	if err != nil || !d2.Allow || d2.Input.Digest != d.Input.Digest {
		t.Errorf("from the ledger: allow %t, input %s (was %s), %v", d2.Allow, d2.Input.Digest, d.Input.Digest, err)
	}
}

func TestDenialOpensViolation(t *testing.T) {
	ctx := context.Background()
	g, db := newGate(t)
	d, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: lv, Now: deployAt, Actor: "dave", EvidencePaths: beforeDeploy})
	if err != nil || d.Allow {
		t.Fatalf("Decide() = allow %t, %v; want deny", d.Allow, err)
	}
	if len(d.Opened) != 1 {
		t.Fatalf("Opened = %v; want one violation", d.Opened)
	}
	v, err := db.Violation(ctx, d.Opened[0])
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != store.StatusOpen || v.Kind != store.KindViolation || v.Actor != "dave" || v.DecisionID != d.ID ||
		!slices.Contains(v.Rules, "approval.required") || !v.Due.Equal(deployAt.Add(5*24*time.Hour)) {
		t.Errorf("violation = %+v", v)
	}
}

func TestDryRunOpensNothing(t *testing.T) {
	ctx := context.Background()
	g, db := newGate(t)
	d, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: lv, Now: deployAt, DryRun: true, EvidencePaths: beforeDeploy})
	if err != nil || d.Allow || len(d.Opened) != 0 {
		t.Fatalf("Decide() = allow %t, opened %v, %v; want deny, nothing opened", d.Allow, d.Opened, err)
	}
	rec, err := db.Decision(ctx, d.ID)
	if err != nil || !rec.DryRun {
		t.Errorf("dry run recorded as %+v, %v", rec, err)
	}
	vs, err := db.Violations(ctx, store.Filter{})
	if err != nil || len(vs) != 0 {
		t.Errorf("violations = %v, %v; want none", vs, err)
	}
}

func TestEmergencyOpensObligation(t *testing.T) {
	ctx := context.Background()
	g, db := newGate(t)
	d, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: engine.Release{ID: "lv-2026-11-27.1"},
		Now: time.Date(2026, 11, 27, 19, 30, 0, 0, time.UTC), EvidencePaths: files("emergency")})
	if err != nil || !d.Allow || len(d.Opened) != 1 {
		t.Fatalf("Decide() = allow %t, opened %v, %v; want allow with an obligation", d.Allow, d.Opened, err)
	}
	v, err := db.Violation(ctx, d.Opened[0])
	if err != nil || v.Kind != store.KindObligation || v.Status != store.StatusOpen {
		t.Errorf("obligation = %+v, %v", v, err)
	}
}

func TestOverdueViolationDeniesNextDeploy(t *testing.T) {
	ctx := context.Background()
	g, db := newGate(t)
	past := deployAt.Add(-10 * 24 * time.Hour)
	old := &engine.Decision{ID: "dec_old", Gate: "deploy", Reason: engine.ReasonDeny, EvaluatedAt: past,
		Release: engine.Release{ID: "lv-old", Service: "localizevideos-app", Environment: "production", Commit: "9a8b7c6d5e4f30211203f4e5d6c7b8a990817263"}}
	body, err := json.Marshal(gate.Record{Decision: old})
	if err != nil {
		t.Fatal(err)
	}
	err = db.RecordDecision(ctx, past, store.Decision{ID: "dec_old", ReleaseID: "lv-old", Service: "localizevideos-app",
		Environment: "production", Gate: "deploy", Reason: engine.ReasonDeny, EvaluatedAt: past, Body: body},
		[]store.Violation{{ID: "vio_old", Kind: store.KindViolation, ReleaseID: "lv-old", Service: "localizevideos-app",
			Environment: "production", Gate: "deploy", DecisionID: "dec_old", Rules: []string{"approval.required"},
			OpenedAt: past, Due: past.Add(5 * 24 * time.Hour), Status: store.StatusOpen}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: lv, Now: deployAt,
		EvidencePaths: append(beforeDeploy, files("allowed/approval.json")...)})
	if err != nil || d.Allow {
		t.Fatalf("Decide() = allow %t, %v; want deny", d.Allow, err)
	}
	if !slices.ContainsFunc(d.Violations, func(f engine.Finding) bool { return f.Rule == "postmortem.overdue" }) {
		t.Errorf("violations = %+v; want postmortem.overdue", d.Violations)
	}
}

// A ledger that cannot be written never lets a decision through.
func TestUnwritableStoreDenies(t *testing.T) {
	ctx := context.Background()
	g, db := newGate(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: lv, Now: deployAt,
		EvidencePaths: append(beforeDeploy, files("allowed/approval.json")...)})
	var re *gate.RecordError
	if !errors.As(err, &re) {
		t.Fatalf("Decide() error = %v; want a *RecordError", err)
	}
	if d == nil || d.Allow || d.Reason != engine.ReasonStore {
		t.Fatalf("Decide() = %+v; want a denial with %s", d, engine.ReasonStore)
	}
}

func TestInvalidEvidenceDeniesAndStoresNothing(t *testing.T) {
	ctx := context.Background()
	g, db := newGate(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	writeFile(t, bad, `{"apiVersion": "shipgate.dev/v1", "kind": "Build"}`)
	d, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: lv, Now: deployAt, EvidencePaths: append(beforeDeploy, bad)})
	var ves evidence.ValidationErrors
	if !errors.As(err, &ves) {
		t.Fatalf("Decide() error = %v; want ValidationErrors", err)
	}
	if d.Allow || d.Reason != engine.ReasonEvidenceInvalid {
		t.Fatalf("Decide() = allow %t, %s; want deny, %s", d.Allow, d.Reason, engine.ReasonEvidenceInvalid)
	}
	if ev, _ := db.Evidence(ctx, lv.ID); len(ev) != 0 {
		t.Errorf("stored %d documents from a batch with an invalid one", len(ev))
	}
	if vs, _ := db.Violations(ctx, store.Filter{}); len(vs) != 0 {
		t.Errorf("an invalid-input error opened violations: %v", vs)
	}
}

// TestUsageErrorsRecordNothing: a request that names no gate, or evidence
// that is not there, is a mistake to fix, not a decision: nothing goes in
// the ledger, and no violation is opened.
func TestUsageErrorsRecordNothing(t *testing.T) {
	ctx := context.Background()
	empty := t.TempDir()
	writeFile(t, filepath.Join(empty, "notes.txt"), "not evidence")
	for _, tc := range []struct {
		name string
		req  gate.Request
		is   error
	}{
		{"unknown gate", gate.Request{Gate: "deplyo", EvidencePaths: beforeDeploy}, engine.ErrUnknownGate},
		{"missing path", gate.Request{Gate: "deploy", EvidencePaths: append(beforeDeploy, filepath.Join(empty, "nope.json"))}, os.ErrNotExist},
		{"directory without evidence", gate.Request{Gate: "deploy", EvidencePaths: append(beforeDeploy, empty)}, evidence.ErrNoEvidence},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, db := newGate(t)
			tc.req.Release, tc.req.Now = lv, deployAt
			d, err := g.Decide(ctx, tc.req)
			if !errors.Is(err, tc.is) {
				t.Fatalf("Decide() error = %v; want %v", err, tc.is)
			}
			if d == nil || d.Allow {
				t.Errorf("Decide() = %+v; want a denial", d)
			}
			head, err := db.Verify(ctx, nil)
			if err != nil || head.Size != 0 {
				t.Errorf("ledger after a usage error: %d entries, %v; want 0", head.Size, err)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkDecideRecorded is a decision end to end: evidence and open
// violations read from the ledger, evaluated, recorded with fsync.
func BenchmarkDecideRecorded(b *testing.B) {
	ctx := context.Background()
	g, _ := newGate(b)
	req := gate.Request{Gate: "deploy", Release: lv, Now: deployAt, DryRun: true,
		EvidencePaths: append(beforeDeploy, files("allowed/approval.json")...)}
	if d, err := g.Decide(ctx, req); err != nil || !d.Allow {
		b.Fatalf("Decide() = %v, %v", d.Allow, err)
	}
	req.EvidencePaths = nil // from the ledger from now on
	b.ReportAllocs()
	for b.Loop() {
		if d, err := g.Decide(ctx, req); err != nil || !d.Allow {
			b.Fatalf("Decide() = %v, %v", d.Allow, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// Evidence recorded signed by a key that a later gate does not trust is
// read back as unsigned by it: the gate decides (the policy judges the
// signers) instead of failing every later decision of the release.
func TestRecordedSignerNotTrustedNow(t *testing.T) {
	ctx := context.Background()
	g, _ := newGate(t)
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	signer := evidence.NewSigner(key)
	trusting := g.Validator.Trusting(signer.Public())
	var docs []*evidence.Document
	for _, p := range append(beforeDeploy, files("allowed/approval.json")...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		env := b
		if !strings.HasSuffix(p, "approval.json") { // alice's stays signed by her
			if env, err = signer.Seal(ctx, keys.Open(b)); err != nil {
				t.Fatal(err)
			}
		}
		d, err := trusting.Decode(p, env)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	signed := &gate.Gate{Engine: g.Engine, Validator: trusting, Store: g.Store, Clock: g.Clock}
	first, err := signed.Decide(ctx, gate.Request{Gate: "deploy", Release: lv, Now: deployAt, Actor: "dave", Evidence: docs})
	if err != nil || !first.Allow {
		t.Fatalf("signed evidence: allow %t, %v; want allow", first.Allow, err)
	}
	// The same ledger, read by a gate that does not trust that key: the
	// recorded envelopes still decode, without that signer, so the Build
	// and the Deploy are unsigned and do not count (signature.missing).
	d, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: lv, Now: deployAt})
	if err != nil || d.Allow || d.Reason != engine.ReasonEvidenceMissing {
		t.Fatalf("recorded evidence by a key not trusted now: allow %t, reason %s, %v; want evidence.missing", d.Allow, d.Reason, err)
	}
	var ignored []string
	for _, ig := range d.Ignored {
		ignored = append(ignored, ig.Kind+" "+ig.Reason)
	}
	if want := []string{"Build signature.missing", "Deploy signature.missing"}; !slices.Equal(ignored, want) {
		t.Errorf("ignored %v; want %v", ignored, want)
	}
	if d.Input.Digest == first.Input.Digest {
		t.Errorf("input digest %s unchanged: the untrusted signer still reached the policies", d.Input.Digest)
	}
}

// A release id, service, environment, decision id or actor outside its
// grammar is refused before anything is read or recorded, and the denial
// returned does not carry it.
func TestDecideRefusesBadNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  func(*gate.Request)
	}{
		{"release id leaving its directory", func(r *gate.Request) { r.Release.ID = "../../etc/passwd" }},
		{"release id with a NUL", func(r *gate.Request) { r.Release.ID = "lv\x00x" }},
		{"release id with a slash", func(r *gate.Request) { r.Release.ID = "lv/x" }},
		{"release id with a newline", func(r *gate.Request) { r.Release.ID = "lv\nx" }},
		{"release id of 10 KiB", func(r *gate.Request) { r.Release.ID = strings.Repeat("a", 10<<10) }},
		{"no release id", func(r *gate.Request) { r.Release.ID = "" }},
		{"service with a slash", func(r *gate.Request) { r.Release.Service = "a/b" }},
		{"environment with a space", func(r *gate.Request) { r.Release.Environment = "prod uction" }},
		{"decision id with a slash", func(r *gate.Request) { r.ID = "../dec" }},
		{"actor with a newline", func(r *gate.Request) { r.Actor = "dave\nINFO all good" }},
		{"commit that is a path", func(r *gate.Request) { r.Release.Commit = "../../etc/passwd" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, db := newGate(t)
			req := gate.Request{Gate: "deploy", Release: engine.Release{ID: "lv-2026-11-26.1"}, Now: time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC), Actor: "dave"}
			tc.req(&req)
			d, err := g.Decide(context.Background(), req)
			var ne *schemas.NameError
			if !errors.As(err, &ne) || d == nil || d.Allow {
				t.Fatalf("Decide() = %v, %v; want a denial and a *schemas.NameError", d, err)
			}
			if d.Release.ID != "" || strings.Contains(d.ID, "/") {
				t.Errorf("the denial carries the refused name: %+v", d.Release)
			}
			if n, _ := db.Len(context.Background()); n != 0 {
				t.Errorf("the ledger holds %d entries; want none", n)
			}
		})
	}
}

// readCounter is a Store that counts the reads of releases' evidence
// running at once, each taking a little while.
type readCounter struct {
	gate.Store
	mu            sync.Mutex
	running, most int
}

func (r *readCounter) Evidence(ctx context.Context, releaseID string) ([]store.Evidence, error) {
	r.mu.Lock()
	r.running++
	r.most = max(r.most, r.running)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running--
		r.mu.Unlock()
	}()
	time.Sleep(2 * time.Millisecond)
	return r.Store.Evidence(ctx, releaseID)
}

// With Concurrency set, concurrent decisions wait their turn to be
// prepared (a turn covers reading the release from the ledger, not only
// the evaluation: with Concurrency 1 no two decisions read at once) and
// each is answered as it would be alone; one whose context ends while it
// waits is denied, never allowed.
func TestConcurrencyTakesTurns(t *testing.T) {
	ctx := context.Background()
	g, _ := newGate(t)
	rc := &readCounter{Store: g.Store}
	g.Store, g.Concurrency = rc, 1
	req := gate.Request{Gate: "deploy", Release: lv, Now: deployAt, Actor: "dave",
		EvidencePaths: append(beforeDeploy, files("allowed/approval.json")...)}
	if d, err := g.Decide(ctx, req); err != nil || !d.Allow {
		t.Fatalf("Decide() = %v, %v", d.Allow, err)
	}
	req.EvidencePaths = nil
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			if d, err := g.Decide(ctx, req); err != nil || !d.Allow {
				errs <- fmt.Errorf("Decide() = %v, %v", d.Allow, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if rc.most != 1 {
		t.Errorf("%d reads ran at once; want 1", rc.most)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if d, err := g.Decide(cancelled, req); err == nil || d.Allow {
		t.Errorf("Decide(cancelled) = %v, %v; want a denial and an error", d.Allow, err)
	}
}
