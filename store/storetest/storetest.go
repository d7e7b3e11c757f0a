// Package storetest is the behaviour every store must have, as one test
// suite: a store's own test calls Run with a function that opens it.
package storetest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
)

// Store is the store contract every store must satisfy to pass the suite.
type Store = store.Store

// T0 is the suite's clock origin. Its nanoseconds make sure times
// round-trip exactly, not only to the microsecond the ledger keeps.
var T0 = time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC)

// Run runs the suite. open returns a new handle on the database of the test
// t: the first call in a test creates an empty database, later calls in the
// same test open further handles on that same database, as another process
// would. open fails t itself when it cannot open, and closes the handle
// when t ends. The suite calls it from t's goroutine only.
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) Store)
	}{
		{"EvidenceIdempotent", testEvidenceIdempotent},
		{"EvidenceRoundTrip", testEvidenceRoundTrip},
		{"EvidenceReadAgain", testEvidenceReadAgain},
		{"ReleaseReadsDeploys", testReleaseReadsDeploys},
		{"ReleaseReads", testReleaseReads},
		{"EvidenceRejected", testEvidenceRejected},
		{"EvidenceEnvelope", testEvidenceEnvelope},
		{"DecisionRoundTrip", testDecisionRoundTrip},
		{"ViolationRoundTrip", testViolationRoundTrip},
		{"RecordDecisionAtomic", testRecordDecisionAtomic},
		{"ClosePostmortem", testClosePostmortem},
		{"Reopen", testReopen},
		{"Verify", testVerify},
		{"CheckpointLater", testCheckpointLater},
		{"ConcurrentHandles", testConcurrentHandles},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Releases", testReleases},
		{"ServiceQueries", testServiceQueries},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open)
		})
	}
}

// NewEvidence returns an evidence record: a document of kind about release
// and service, collected at at, made unique by n, and the fields a caller
// fills from it.
func NewEvidence(t testing.TB, kind, release, service string, at time.Time, n int) store.Evidence {
	t.Helper()
	commit := fmt.Sprintf("%040x", n+1)
	doc := fmt.Sprintf(`{"apiVersion":"shipgate.dev/v1","kind":%q,`+
		`"release":{"id":%q,"service":%q,"environment":"production"},`+
		`"subject":{"repository":"localizevideos/app","commit":%q},"collectedAt":%q,`+
		`"collector":{"name":"storetest","actor":"ci-bot"},"data":{"n":%d,"note":"<&> ünïcode"}}`,
		kind, release, service, commit, at.Format(time.RFC3339Nano), n)
	body, err := evidence.Canonical([]byte(doc))
	if err != nil {
		t.Fatalf("NewEvidence: %v", err)
	}
	return store.Evidence{Digest: evidence.DigestOf(body), Kind: kind, ReleaseID: release, Service: service,
		Environment: "production", Commit: commit, Source: fmt.Sprintf("evidence/%s-%d.json", kind, n),
		CollectedAt: at.UTC(), Body: body}
}

// NewDecision returns a decision record whose body has the shape of
// engine.Decision's JSON.
func NewDecision(t testing.TB, id, release, service string, allow bool, at time.Time) store.Decision {
	t.Helper()
	reason := "policy.deny"
	if allow {
		reason = "policy.allow"
	}
	doc := fmt.Sprintf(`{"id":%q,"gate":"deploy","release":{"id":%q,"service":%q,"environment":"production",`+
		`"commit":"%040x"},"allow":%t,"reason":%q,"violations":[],"evaluatedAt":%q,"dryRun":%t,`+
		`"policy":{"revision":"sha256:0123"},"input":{"digest":"sha256:4567"}}`,
		id, release, service, 7, allow, reason, at.Format(time.RFC3339Nano), !allow)
	body, err := evidence.Canonical([]byte(doc))
	if err != nil {
		t.Fatalf("NewDecision: %v", err)
	}
	return store.Decision{ID: id, ReleaseID: release, Service: service, Environment: "production", Gate: "deploy",
		Allow: allow, DryRun: !allow, Reason: reason, EvaluatedAt: at.UTC(), Body: body}
}

// NewViolation returns an open violation (or obligation, by kind) opened by
// decision d.
func NewViolation(id, kind string, d store.Decision, due time.Time) store.Violation {
	return store.Violation{ID: id, Kind: kind, ReleaseID: d.ReleaseID, Service: d.Service,
		Environment: d.Environment, Gate: d.Gate, DecisionID: d.ID,
		Rules: []string{"forbidden.deploy-during-incident", "verify.smoke"},
		Actor: "alice", Message: "open SEV-1 incident INC-42 " + id,
		OpenedAt: d.EvaluatedAt, Due: due.UTC(), Status: store.StatusOpen}
}

func mustLen(t *testing.T, s Store) int64 {
	t.Helper()
	n, err := s.Len(context.Background())
	if err != nil {
		t.Fatalf("Len() = %v", err)
	}
	return n
}

func testEvidenceIdempotent(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	a := NewEvidence(t, "Plan", "lv-1", "app", T0, 1)
	b := NewEvidence(t, "Build", "lv-1", "app", T0.Add(time.Minute), 2)
	c := NewEvidence(t, "Deploy", "lv-1", "app", T0.Add(2*time.Minute), 3)
	added, err := s.AddEvidence(ctx, T0, []store.Evidence{a, b})
	if err != nil || len(added) != 2 {
		t.Fatalf("AddEvidence(a, b) = %d added, %v; want 2, nil", len(added), err)
	}
	added, err = s.AddEvidence(ctx, T0.Add(time.Second), []store.Evidence{b, c, c, a})
	if err != nil {
		t.Fatalf("AddEvidence(b, c, c, a) = %v", err)
	}
	if len(added) != 1 || added[0].Digest != c.Digest {
		t.Fatalf("AddEvidence(b, c, c, a) added %d documents; want only c", len(added))
	}
	added, err = s.AddEvidence(ctx, T0.Add(2*time.Second), []store.Evidence{a, b, c})
	if err != nil || len(added) != 0 {
		t.Fatalf("AddEvidence(a, b, c) again = %d added, %v; want 0, nil", len(added), err)
	}
	if n := mustLen(t, s); n != 3 {
		t.Errorf("Len() = %d; want 3", n)
	}
	got, err := s.Evidence(ctx, "lv-1")
	if err != nil {
		t.Fatal(err)
	}
	var digests []string
	for _, ev := range got {
		digests = append(digests, ev.Digest)
	}
	if diff := cmp.Diff([]string{a.Digest, b.Digest, c.Digest}, digests); diff != "" {
		t.Errorf("Evidence(lv-1) digests (-want +got):\n%s", diff)
	}
}

func testEvidenceRoundTrip(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	now := T0.Add(time.Hour)
	a := NewEvidence(t, "Build", "lv-1", "app", T0, 1)
	b := NewEvidence(t, "Plan", "lv-2", "api", T0.Add(time.Nanosecond), 2)
	// b is given in a non-canonical spelling and with only its body: the
	// store canonicalizes it and reads the fields from the envelope.
	loose := store.Evidence{Source: b.Source, Body: []byte(" " + string(b.Body) + "\n")}
	added, err := s.AddEvidence(ctx, now, []store.Evidence{a, loose})
	if err != nil {
		t.Fatal(err)
	}
	a.Seq, a.AddedAt = 1, now.Truncate(time.Microsecond)
	b.Seq, b.AddedAt = 2, now.Truncate(time.Microsecond)
	if diff := cmp.Diff([]store.Evidence{a, b}, added); diff != "" {
		t.Errorf("AddEvidence() (-want +got):\n%s", diff)
	}
	for _, want := range []store.Evidence{a, b} {
		got, err := s.EvidenceByDigest(ctx, want.Digest)
		if err != nil {
			t.Fatalf("EvidenceByDigest(%s) = %v", want.Digest, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("EvidenceByDigest(%s) (-want +got):\n%s", want.Digest, diff)
		}
		list, err := s.Evidence(ctx, want.ReleaseID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]store.Evidence{want}, list); diff != "" {
			t.Errorf("Evidence(%s) (-want +got):\n%s", want.ReleaseID, diff)
		}
	}
	all, err := s.Evidence(ctx, "")
	if err != nil || len(all) != 2 {
		t.Errorf(`Evidence("") = %d documents, %v; want 2`, len(all), err)
	}
	if _, err := s.EvidenceByDigest(ctx, "sha256:00"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EvidenceByDigest(unknown) = %v; want ErrNotFound", err)
	}
}

// A release's and a service's evidence read again (its documents then
// remembered by the handle) is what was read the first time, and a
// document another handle adds meanwhile is read with its body.
func testEvidenceReadAgain(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s, other := open(t), open(t)
	now := T0.Add(time.Hour)
	a := NewEvidence(t, "Build", "lv-1", "app", T0, 1)
	b := NewEvidence(t, "Deploy", "lv-1", "app", T0, 2)
	c := NewEvidence(t, "Deploy", "lv-2", "app", T0, 3)
	if _, err := s.AddEvidence(ctx, now, []store.Evidence{a, b}); err != nil {
		t.Fatal(err)
	}
	read := func(want ...store.Evidence) {
		t.Helper()
		for range 2 {
			got, err := s.Evidence(ctx, "lv-1")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want[:2], got); diff != "" {
				t.Errorf("Evidence(lv-1) (-want +got):\n%s", diff)
			}
			got, err = s.ServiceEvidence(ctx, "app", "Deploy")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want[1:], got); diff != "" {
				t.Errorf("ServiceEvidence(app, Deploy) (-want +got):\n%s", diff)
			}
		}
	}
	a.Seq, a.AddedAt = 1, now.Truncate(time.Microsecond)
	b.Seq, b.AddedAt = 2, now.Truncate(time.Microsecond)
	read(a, b)
	if _, err := other.AddEvidence(ctx, now, []store.Evidence{c}); err != nil {
		t.Fatal(err)
	}
	c.Seq, c.AddedAt = 3, now.Truncate(time.Microsecond)
	read(a, b, c)
}

// oneQueryReader is a store that reads a release in one query.
type oneQueryReader interface {
	ReleaseReads(ctx context.Context, releaseID string) (store.ReleaseReads, error)
}

// releaseReader is s as a oneQueryReader; the test is skipped for a store
// that reads a release apart.
func releaseReader(t *testing.T, s Store) oneQueryReader {
	t.Helper()
	rr, ok := s.(oneQueryReader)
	if !ok {
		t.Skip("the store reads them apart")
	}
	return rr
}

// A store that reads a release's evidence and its services' Deploys in
// one query (ReleaseReads) reads what Evidence and ServiceEvidence
// read: the Deploys of each service a Plan of the release names, of every
// release, and no other.
func testReleaseReadsDeploys(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	rr := releaseReader(t, s)
	docs := []store.Evidence{
		NewEvidence(t, "Plan", "lv-2", "app", T0, 1),
		NewEvidence(t, "Deploy", "lv-1", "app", T0, 2),
		NewEvidence(t, "Deploy", "lv-1", "api", T0, 3),
		NewEvidence(t, "Build", "lv-2", "app", T0, 4),
		NewEvidence(t, "Deploy", "lv-2", "app", T0, 5),
		NewEvidence(t, "Deploy", "lv-3", "web", T0, 6),
		NewEvidence(t, "Plan", "lv-2", "web", T0, 7),
	}
	for range 2 { // the second time from the handle's cache
		if _, err := s.AddEvidence(ctx, T0, docs); err != nil {
			t.Fatal(err)
		}
		r, err := rr.ReleaseReads(ctx, "lv-2")
		if err != nil {
			t.Fatal(err)
		}
		ev, deploys := r.Evidence, r.Deploys
		want, err := s.Evidence(ctx, "lv-2")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, ev); diff != "" {
			t.Errorf("ReleaseReads(lv-2) evidence (-Evidence +got):\n%s", diff)
		}
		app, err := s.ServiceEvidence(ctx, "app", "Deploy")
		if err != nil {
			t.Fatal(err)
		}
		web, err := s.ServiceEvidence(ctx, "web", "Deploy")
		if err != nil {
			t.Fatal(err)
		}
		if len(app) != 2 || len(web) != 1 {
			t.Fatalf("ServiceEvidence() = %d app and %d web Deploys; want 2 and 1", len(app), len(web))
		}
		wantDeploys := []store.Evidence{app[0], app[1], web[0]}
		if diff := cmp.Diff(wantDeploys, deploys); diff != "" {
			t.Errorf("ReleaseReads(lv-2) deploys (-want +got):\n%s", diff)
		}
	}
	if r, err := rr.ReleaseReads(ctx, "lv-none"); err != nil || len(r.Evidence)+len(r.Deploys) != 0 {
		t.Errorf("ReleaseReads(lv-none) = %d, %d, %v; want none", len(r.Evidence), len(r.Deploys), err)
	}
}

// A store that reads a release's evidence, its services' Deploys and
// (OpenRead) their open violations in one query (ReleaseReads) reads what
// Evidence, ServiceEvidence and Violations read: of each service a Plan of
// the release names, and no other, the open violations of every release,
// by due date then id.
func testReleaseReads(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	rr := releaseReader(t, s)
	docs := []store.Evidence{
		NewEvidence(t, "Plan", "lv-2", "app", T0, 1),
		NewEvidence(t, "Deploy", "lv-1", "app", T0, 2),
		NewEvidence(t, "Deploy", "lv-1", "api", T0, 3),
		NewEvidence(t, "Plan", "lv-2", "web", T0, 4),
	}
	if _, err := s.AddEvidence(ctx, T0, docs); err != nil {
		t.Fatal(err)
	}
	dApp := NewDecision(t, "dec_1", "lv-1", "app", false, T0)
	dWeb := NewDecision(t, "dec_2", "lv-3", "web", false, T0)
	dAPI := NewDecision(t, "dec_3", "lv-1", "api", false, T0)
	due := T0.Add(48 * time.Hour)
	vs := map[*store.Decision][]store.Violation{
		&dApp: {NewViolation("vio_c", store.KindViolation, dApp, due), NewViolation("vio_a", store.KindViolation, dApp, due.Add(time.Hour)),
			NewViolation("vio_closed", store.KindViolation, dApp, due)},
		&dWeb: {NewViolation("vio_b", store.KindViolation, dWeb, due), NewViolation("obl_1", store.KindObligation, dWeb, due.Add(-time.Nanosecond))},
		&dAPI: {NewViolation("vio_api", store.KindViolation, dAPI, T0)},
	}
	for _, d := range []*store.Decision{&dApp, &dWeb, &dAPI} {
		if err := s.RecordDecision(ctx, T0, *d, vs[d], nil); err != nil {
			t.Fatal(err)
		}
	}
	pm := NewEvidence(t, "Postmortem", "lv-1", "app", T0.Add(time.Hour), 5)
	if _, err := s.ClosePostmortem(ctx, T0.Add(2*time.Hour), pm, []string{"vio_closed"}); err != nil {
		t.Fatal(err)
	}
	var wantOpen []store.Violation
	for _, service := range []string{"app", "web"} {
		o, err := s.Violations(ctx, store.Filter{Status: store.StatusOpen, Service: service})
		if err != nil {
			t.Fatal(err)
		}
		wantOpen = append(wantOpen, o...)
	}
	// By due date, then id: obl_1, vio_b, vio_c, vio_a.
	slices.SortFunc(wantOpen, func(a, b store.Violation) int {
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if ids := violationIDs(wantOpen); !slices.Equal(ids, []string{"obl_1", "vio_b", "vio_c", "vio_a"}) {
		t.Fatalf("Violations(open) of app and web = %v", ids)
	}
	for range 2 { // the second time from the handle's cache
		got, err := rr.ReleaseReads(ctx, "lv-2")
		if err != nil {
			t.Fatal(err)
		}
		wantEv, err := s.Evidence(ctx, "lv-2")
		if err != nil {
			t.Fatal(err)
		}
		wantDeploys, err := s.ServiceEvidence(ctx, "app", "Deploy")
		if err != nil {
			t.Fatal(err)
		}
		// A store may leave the open violations to a query of their own.
		want := store.ReleaseReads{Evidence: wantEv, Deploys: wantDeploys}
		if got.OpenRead {
			want.Open, want.OpenRead = wantOpen, true
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ReleaseReads(lv-2) (-want +got):\n%s", diff)
		}
	}
	if got, err := rr.ReleaseReads(ctx, "lv-none"); err != nil || len(got.Evidence)+len(got.Deploys)+len(got.Open) != 0 {
		t.Errorf("ReleaseReads(lv-none) = %+v, %v; want none", got, err)
	}
	if _, err := rr.ReleaseReads(ctx, ""); err == nil {
		t.Error("ReleaseReads(\"\") = nil error")
	}
}

func violationIDs(vs []store.Violation) []string {
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.ID)
	}
	return ids
}

func testEvidenceRejected(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	good := NewEvidence(t, "Build", "lv-1", "app", T0, 1)
	tests := []struct {
		name string
		edit func(*store.Evidence)
	}{
		{"wrong digest", func(e *store.Evidence) { e.Digest = "sha256:" + fmt.Sprintf("%064x", 1) }},
		{"wrong release", func(e *store.Evidence) { e.ReleaseID = "lv-9" }},
		{"wrong kind", func(e *store.Evidence) { e.Kind = "Deploy" }},
		{"wrong commit", func(e *store.Evidence) { e.Commit = "abc" }},
		{"wrong collectedAt", func(e *store.Evidence) { e.CollectedAt = T0.Add(time.Nanosecond) }},
		{"no body", func(e *store.Evidence) { e.Body = nil }},
		{"invalid JSON", func(e *store.Evidence) { e.Body = []byte(`{"kind":`) }},
		{"duplicate key", func(e *store.Evidence) { e.Body = []byte(`{"kind":"Build","kind":"Plan"}`); e.Digest = "" }},
	}
	for _, tt := range tests {
		ev := good
		tt.edit(&ev)
		// The bad document comes second: the whole call fails, the good one
		// is not added either.
		if added, err := s.AddEvidence(ctx, T0, []store.Evidence{good, ev}); err == nil {
			t.Errorf("%s: AddEvidence() = %d added, nil; want an error", tt.name, len(added))
		}
		if n := mustLen(t, s); n != 0 {
			t.Fatalf("%s: Len() = %d after a failed AddEvidence; want 0", tt.name, n)
		}
	}
	if _, err := s.AddEvidence(ctx, time.Time{}, []store.Evidence{good}); err == nil {
		t.Errorf("AddEvidence(zero time) = nil; want an error")
	}
}

func testDecisionRoundTrip(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	d1 := NewDecision(t, "dec_1", "lv-1", "app", true, T0)
	d2 := NewDecision(t, "dec_2", "lv-2", "app", false, T0.Add(time.Nanosecond))
	d3 := NewDecision(t, "dec_3", "lv-1", "api", false, T0.Add(time.Second))
	// d3 is given by its body alone.
	for i, d := range []store.Decision{d1, d2, {Body: d3.Body}} {
		if err := s.RecordDecision(ctx, T0.Add(time.Duration(i)*time.Second), d, nil, nil); err != nil {
			t.Fatalf("RecordDecision(%d) = %v", i, err)
		}
	}
	d1.Seq, d2.Seq, d3.Seq = 1, 2, 3
	for _, want := range []store.Decision{d1, d2, d3} {
		got, err := s.Decision(ctx, want.ID)
		if err != nil {
			t.Fatalf("Decision(%s) = %v", want.ID, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Decision(%s) (-want +got):\n%s", want.ID, diff)
		}
	}
	for _, tt := range []struct {
		release string
		want    []store.Decision
	}{{"lv-1", []store.Decision{d1, d3}}, {"lv-2", []store.Decision{d2}}, {"", []store.Decision{d1, d2, d3}}, {"lv-9", nil}} {
		got, err := s.Decisions(ctx, tt.release)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Decisions(%q) (-want +got):\n%s", tt.release, diff)
		}
	}
	if _, err := s.Decision(ctx, "dec_x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Decision(unknown) = %v; want ErrNotFound", err)
	}
	if err := s.RecordDecision(ctx, T0, d1, nil, nil); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("RecordDecision(d1 again) = %v; want ErrDuplicate", err)
	}
	bad := d2
	bad.ID, bad.Allow = "dec_4", true // the body says deny
	if err := s.RecordDecision(ctx, T0, bad, nil, nil); err == nil {
		t.Errorf("RecordDecision(allow contradicting the body) = nil; want an error")
	}
	if err := s.RecordDecision(ctx, T0, store.Decision{ID: "dec_5", Body: []byte(`[1]`)}, nil, nil); err == nil {
		t.Errorf("RecordDecision(body not an object) = nil; want an error")
	}
	if n := mustLen(t, s); n != 3 {
		t.Errorf("Len() = %d after rejected decisions; want 3", n)
	}
}

func testViolationRoundTrip(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	d1 := NewDecision(t, "dec_1", "lv-1", "app", false, T0)
	d2 := NewDecision(t, "dec_2", "lv-2", "api", true, T0.Add(time.Minute))
	v1 := NewViolation("vio_b", store.KindViolation, d1, T0.Add(48*time.Hour))
	v2 := NewViolation("vio_a", store.KindViolation, d1, T0.Add(48*time.Hour)) // same due: by id
	v3 := NewViolation("obl_1", store.KindObligation, d2, T0.Add(24*time.Hour+time.Nanosecond))
	v3.Rules = nil
	v2.DecisionID = "" // filled with the recording decision
	if err := s.RecordDecision(ctx, T0, d1, []store.Violation{v1, v2}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDecision(ctx, T0.Add(time.Minute), d2, []store.Violation{v3}, nil); err != nil {
		t.Fatal(err)
	}
	v2.DecisionID = d1.ID
	for _, want := range []store.Violation{v1, v2, v3} {
		got, err := s.Violation(ctx, want.ID)
		if err != nil {
			t.Fatalf("Violation(%s) = %v", want.ID, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Violation(%s) (-want +got):\n%s", want.ID, diff)
		}
	}
	for _, tt := range []struct {
		f    store.Filter
		want []store.Violation
	}{
		{store.Filter{}, []store.Violation{v3, v2, v1}},
		{store.Filter{Status: store.StatusOpen}, []store.Violation{v3, v2, v1}},
		{store.Filter{Status: store.StatusClosed}, nil},
		{store.Filter{Service: "api"}, []store.Violation{v3}},
		{store.Filter{ReleaseID: "lv-1"}, []store.Violation{v2, v1}},
		{store.Filter{ReleaseID: "lv-1", Service: "api"}, nil},
	} {
		got, err := s.Violations(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Violations(%+v) (-want +got):\n%s", tt.f, diff)
		}
	}
	if _, err := s.Violation(ctx, "vio_x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Violation(unknown) = %v; want ErrNotFound", err)
	}
}

func testRecordDecisionAtomic(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	d0 := NewDecision(t, "dec_0", "lv-1", "app", false, T0)
	if err := s.RecordDecision(ctx, T0, d0, []store.Violation{NewViolation("vio_0", store.KindViolation, d0, T0)}, nil); err != nil {
		t.Fatal(err)
	}
	before := mustLen(t, s)
	d := NewDecision(t, "dec_1", "lv-1", "app", false, T0.Add(time.Second))
	ev := NewEvidence(t, "Build", "lv-1", "app", T0, 1)
	tests := []struct {
		name   string
		opened []store.Violation
		want   error
	}{
		{"duplicate id in the call", []store.Violation{
			NewViolation("vio_1", store.KindViolation, d, T0), NewViolation("vio_1", store.KindViolation, d, T0)}, store.ErrDuplicate},
		{"id already stored", []store.Violation{
			NewViolation("vio_2", store.KindViolation, d, T0), NewViolation("vio_0", store.KindViolation, d, T0)}, store.ErrDuplicate},
		{"another decision's violation", []store.Violation{NewViolation("vio_3", store.KindViolation, d0, T0)}, nil},
		{"unknown kind", []store.Violation{NewViolation("vio_4", "warning", d, T0)}, nil},
		{"closed", []store.Violation{func() store.Violation {
			v := NewViolation("vio_5", store.KindViolation, d, T0)
			v.Status = store.StatusClosed
			return v
		}()}, nil},
	}
	for _, tt := range tests {
		err := s.RecordDecision(ctx, T0.Add(time.Second), d, tt.opened, []store.Evidence{ev})
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: RecordDecision() = %v; want an error (%v)", tt.name, err, tt.want)
		}
		if _, err := s.Decision(ctx, d.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: Decision(%s) = %v after a failed RecordDecision; want ErrNotFound", tt.name, d.ID, err)
		}
		if _, err := s.EvidenceByDigest(ctx, ev.Digest); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: the call's evidence was stored: %v", tt.name, err)
		}
		if n := mustLen(t, s); n != before {
			t.Errorf("%s: Len() = %d; want %d", tt.name, n, before)
		}
	}
	if _, err := s.Verify(ctx, nil); err != nil {
		t.Errorf("Verify() = %v", err)
	}
	// The same call, corrected, records everything in order.
	if err := s.RecordDecision(ctx, T0.Add(time.Second), d, []store.Violation{NewViolation("vio_1", store.KindViolation, d, T0)}, []store.Evidence{ev}); err != nil {
		t.Fatal(err)
	}
	var types []string
	for seq := before + 1; seq <= before+3; seq++ {
		e, err := s.Entry(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, e.Type)
	}
	if diff := cmp.Diff([]string{ledger.TypeEvidence, ledger.TypeDecision, ledger.TypeViolationOpened}, types); diff != "" {
		t.Errorf("entries of RecordDecision (-want +got):\n%s", diff)
	}
}

func testClosePostmortem(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	d := NewDecision(t, "dec_1", "lv-1", "app", false, T0)
	vs := []store.Violation{
		NewViolation("vio_1", store.KindViolation, d, T0.Add(time.Hour)),
		NewViolation("vio_2", store.KindViolation, d, T0.Add(time.Hour)),
		NewViolation("obl_1", store.KindObligation, d, T0.Add(time.Hour)),
	}
	if err := s.RecordDecision(ctx, T0, d, vs, nil); err != nil {
		t.Fatal(err)
	}
	pm := NewEvidence(t, "Postmortem", "lv-1", "app", T0.Add(2*time.Hour), 1)
	now := T0.Add(3 * time.Hour)
	closed, err := s.ClosePostmortem(ctx, now, pm, []string{"vio_1", "obl_1"})
	if err != nil {
		t.Fatalf("ClosePostmortem() = %v", err)
	}
	want := []store.Violation{vs[0], vs[2]}
	for i := range want {
		want[i].Status, want[i].ClosedAt, want[i].ClosedBy = store.StatusClosed, now, pm.Digest
	}
	if diff := cmp.Diff(want, closed); diff != "" {
		t.Errorf("ClosePostmortem() (-want +got):\n%s", diff)
	}
	for _, w := range want {
		got, err := s.Violation(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("Violation(%s) after closing (-want +got):\n%s", w.ID, diff)
		}
	}
	if _, err := s.EvidenceByDigest(ctx, pm.Digest); err != nil {
		t.Errorf("the postmortem was not stored: %v", err)
	}
	open2, err := s.Violations(ctx, store.Filter{Status: store.StatusOpen})
	if err != nil || len(open2) != 1 || open2[0].ID != "vio_2" {
		t.Errorf("Violations(open) = %v, %v; want vio_2 only", open2, err)
	}

	before := mustLen(t, s)
	pm2 := NewEvidence(t, "Postmortem", "lv-1", "app", T0.Add(4*time.Hour), 2)
	tests := []struct {
		name string
		ids  []string
		want error
	}{
		{"unknown", []string{"vio_2", "vio_x"}, store.ErrNotFound},
		{"already closed", []string{"vio_2", "vio_1"}, store.ErrClosed},
		{"twice in one call", []string{"vio_2", "vio_2"}, store.ErrClosed},
	}
	for _, tt := range tests {
		_, err := s.ClosePostmortem(ctx, now, pm2, tt.ids)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: ClosePostmortem(%v) = %v; want %v", tt.name, tt.ids, err, tt.want)
		}
		if n := mustLen(t, s); n != before {
			t.Errorf("%s: Len() = %d; want %d: nothing written", tt.name, n, before)
		}
		if v, err := s.Violation(ctx, "vio_2"); err != nil || v.Status != store.StatusOpen {
			t.Errorf("%s: vio_2 = %+v, %v; want still open", tt.name, v, err)
		}
	}
	if _, err := s.EvidenceByDigest(ctx, pm2.Digest); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed ClosePostmortem stored its postmortem: %v", err)
	}
	if _, err := s.Verify(ctx, nil); err != nil {
		t.Errorf("Verify() = %v", err)
	}
}

func testReopen(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	d := NewDecision(t, "dec_1", "lv-1", "app", true, T0)
	if err := s.RecordDecision(ctx, T0, d, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	s = open(t)
	got, err := s.Decision(ctx, d.ID)
	if err != nil {
		t.Fatalf("Decision(%s) after reopening = %v", d.ID, err)
	}
	d.Seq = 1
	if diff := cmp.Diff(d, got); diff != "" {
		t.Errorf("Decision(%s) after reopening (-want +got):\n%s", d.ID, diff)
	}
}

// Fill appends rounds first to first+n-1 of mixed entries (evidence,
// decisions, violations, obligations, closes, and a policy set every ten
// rounds, given with each decision made under it) to s, about 5.6 entries
// a round, starting at the time at.
func Fill(t testing.TB, s Store, at time.Time, first, n int) {
	t.Helper()
	ctx := context.Background()
	for i := first; i < first+n; i++ {
		now := at.Add(time.Duration(i) * time.Minute)
		rel := fmt.Sprintf("lv-%d", i)
		ev := NewEvidence(t, "Build", rel, "app", now, i)
		d := withPolicy(t, NewDecision(t, fmt.Sprintf("dec_%04d", i), rel, "app", i%3 == 0, now), NewPolicy(t, i/10))
		opened := []store.Violation{NewViolation(fmt.Sprintf("vio_%04d", i), store.KindViolation, d, now.Add(time.Hour))}
		if i%2 == 0 {
			opened = append(opened, NewViolation(fmt.Sprintf("obl_%04d", i), store.KindObligation, d, now.Add(2*time.Hour)))
		}
		if err := s.RecordDecision(ctx, now, d, opened, []store.Evidence{ev}); err != nil {
			t.Fatalf("Fill: %v", err)
		}
		if _, err := s.AddEvidence(ctx, now, []store.Evidence{NewEvidence(t, "Plan", rel, "app", now, 1000+i)}); err != nil {
			t.Fatalf("Fill: %v", err)
		}
		if i%2 == 1 {
			pm := NewEvidence(t, "Postmortem", rel, "app", now, 2000+i)
			if _, err := s.ClosePostmortem(ctx, now, pm, []string{fmt.Sprintf("vio_%04d", i)}); err != nil {
				t.Fatalf("Fill: %v", err)
			}
		}
	}
}

func testVerify(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	if h, err := s.Verify(ctx, nil); err != nil || h.Size != 0 {
		t.Fatalf("Verify(empty) = %+v, %v; want size 0", h, err)
	}
	Fill(t, s, T0, 0, 36)
	n := mustLen(t, s)
	if n < 190 {
		t.Fatalf("Len() = %d; want about 200", n)
	}
	h, err := s.Verify(ctx, nil)
	if err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if h.Size != n {
		t.Errorf("Verify().Size = %d; want %d", h.Size, n)
	}
	var rows []ledger.Row
	if err := s.Rows(ctx, func(r ledger.Row) error { rows = append(rows, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if h2, err := ledger.Verify(rows, nil); err != nil || h2 != h {
		t.Errorf("ledger.Verify(Rows()) = %+v, %v; want %+v", h2, err, h)
	}
	types := map[string]int{}
	for _, r := range rows {
		e, err := s.Entry(ctx, r.Seq)
		if err != nil {
			t.Fatalf("Entry(%d) = %v", r.Seq, err)
		}
		b, _ := e.Body()
		if string(b) != string(r.Body) {
			t.Fatalf("Entry(%d).Body() differs from the stored row", r.Seq)
		}
		types[e.Type]++
	}
	for _, typ := range []string{ledger.TypeEvidence, ledger.TypeDecision, ledger.TypeViolationOpened,
		ledger.TypeObligation, ledger.TypeViolationClosed, store.TypePolicy} {
		if types[typ] == 0 {
			t.Errorf("no %s entry in the filled ledger", typ)
		}
	}
	for _, seq := range []int64{0, n + 1} {
		if _, err := s.Entry(ctx, seq); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Entry(%d) = %v; want ErrNotFound", seq, err)
		}
	}
	stop := errors.New("stop")
	if err := s.Rows(ctx, func(ledger.Row) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Rows(fn failing) = %v; want fn's error", err)
	}
}

func testCheckpointLater(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	Fill(t, s, T0, 0, 5)
	h, err := s.Verify(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	cp := ledger.NewCheckpoint("storetest", h, T0, priv)
	if err := cp.Verify(pub); err != nil {
		t.Fatal(err)
	}
	Fill(t, s, T0.Add(time.Hour), 5, 3)
	h2, err := s.Verify(ctx, &cp)
	if err != nil {
		t.Fatalf("Verify(checkpoint at %d) at %d = %v", cp.Size, mustLen(t, s), err)
	}
	if h2.Size <= h.Size {
		t.Errorf("Verify().Size = %d; want more than the checkpoint's %d", h2.Size, h.Size)
	}
}

func testConcurrentHandles(t *testing.T, open func(t *testing.T) Store) {
	const handles, each = 8, 100
	ctx := context.Background()
	stores := make([]Store, handles)
	for i := range stores {
		stores[i] = open(t)
	}
	decisions := make([][]store.Decision, handles)
	for g := range decisions {
		for i := range each {
			now := T0.Add(time.Duration(i) * time.Millisecond)
			decisions[g] = append(decisions[g], NewDecision(t, fmt.Sprintf("dec_%d_%03d", g, i), "lv-1", "app", i%2 == 0, now))
		}
	}
	errs := make(chan error, handles)
	for g, s := range stores {
		go func() {
			for i, d := range decisions[g] {
				if err := s.RecordDecision(ctx, d.EvaluatedAt, d, nil, nil); err != nil {
					errs <- fmt.Errorf("handle %d, decision %d: %w", g, i, err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range handles {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	s := stores[0]
	h, err := s.Verify(ctx, nil)
	if err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if h.Size != handles*each {
		t.Errorf("Verify().Size = %d; want %d", h.Size, handles*each)
	}
	seen := map[string]bool{}
	err = s.Rows(ctx, func(r ledger.Row) error {
		e, err := ledger.Parse(r.Body)
		if err != nil {
			return err
		}
		if e.Type != ledger.TypeDecision || seen[e.Key] {
			return fmt.Errorf("entry %d: %s %s (seen before: %t)", e.Seq, e.Type, e.Key, seen[e.Key])
		}
		seen[e.Key] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != handles*each {
		t.Errorf("%d distinct decisions in the ledger; want %d", len(seen), handles*each)
	}
	for _, other := range stores[1:] {
		if n := mustLen(t, other); n != handles*each {
			t.Errorf("Len() through another handle = %d; want %d", n, handles*each)
		}
	}
}
