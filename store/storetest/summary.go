package storetest

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/store"
)

// gateDecision returns a decision of gate about release, allowed or not,
// a dry run or not.
func gateDecision(t *testing.T, id, gate, release, service string, allow, dryRun bool, at time.Time) store.Decision {
	t.Helper()
	d := NewDecision(t, id, release, service, allow, at)
	var body map[string]any
	if err := json.Unmarshal(d.Body, &body); err != nil {
		t.Fatal(err)
	}
	body["gate"], body["dryRun"] = gate, dryRun
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if d.Body, err = evidence.Canonical(b); err != nil {
		t.Fatal(err)
	}
	d.Gate, d.DryRun = gate, dryRun
	return d
}

// testReleases checks Releases against the same summary computed from
// everything the store holds, the way a reader without it would.
func testReleases(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	now := T0.Add(48 * time.Hour)
	if got, err := s.Releases(ctx, now); err != nil || len(got) != 0 {
		t.Fatalf("Releases() of an empty store = %v, %v; want none", got, err)
	}
	at := func(m int) time.Time { return T0.Add(time.Duration(m) * time.Minute) }
	if _, err := s.AddEvidence(ctx, at(0), []store.Evidence{
		NewEvidence(t, "Build", "lv-1", "app", at(0), 1), NewEvidence(t, "Plan", "lv-1", "app", at(0), 2),
		NewEvidence(t, "Approval", "lv-2", "api", at(0), 3), NewEvidence(t, "Plan", "lv-2", "api", at(0), 4),
	}); err != nil {
		t.Fatal(err)
	}
	record := func(d store.Decision, opened []store.Violation, ev ...store.Evidence) {
		t.Helper()
		if err := s.RecordDecision(ctx, d.EvaluatedAt, d, opened, ev); err != nil {
			t.Fatal(err)
		}
	}
	d1 := gateDecision(t, "dec_1", "deploy", "lv-1", "app", false, false, at(1))
	record(d1, []store.Violation{NewViolation("vio_1", store.KindViolation, d1, at(60)),
		NewViolation("vio_2", store.KindObligation, d1, now.Add(time.Hour))})
	d2 := gateDecision(t, "dec_2", "deploy", "lv-1", "app", true, false, at(2))
	record(d2, []store.Violation{NewViolation("vio_3", store.KindViolation, d2, at(60))},
		NewEvidence(t, "Deploy", "lv-1", "app", at(2), 5))
	record(gateDecision(t, "dec_3", "verify", "lv-1", "app", true, false, at(3)), nil)
	record(gateDecision(t, "dec_4", "deploy", "lv-1", "app", false, true, at(4)), nil)
	record(gateDecision(t, "dec_5", "deploy", "lv-3", "web", false, true, at(5)), nil)
	if _, err := s.ClosePostmortem(ctx, at(6), NewEvidence(t, "Postmortem", "lv-1", "app", at(6), 6), []string{"vio_3"}); err != nil {
		t.Fatal(err)
	}
	record(gateDecision(t, "dec_6", "complete", "lv-2", "api", true, false, at(7)), nil)

	got, err := s.Releases(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	want := summarize(t, s, now)
	if len(want) != 3 {
		t.Fatalf("the reference summary has %d releases; want 3", len(want))
	}
	if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Releases() (-want +got):\n%s", diff)
	}
	// Spot checks that do not lean on the reference.
	byID := map[string]store.ReleaseSummary{}
	for _, r := range got {
		byID[r.ID] = r
	}
	if r := byID["lv-1"]; r.Open != 2 || r.Overdue != 1 || r.Decisions != 4 || r.Evidence != 4 ||
		!slices.Equal(r.Kinds, []string{"Build", "Deploy", "Plan", "Postmortem"}) || len(r.Latest) != 2 ||
		r.Last == nil || r.Last.ID != "dec_4" || r.Latest[0].ID != "dec_2" || r.Latest[0].Body != nil {
		t.Errorf("Releases() lv-1 = %+v", r)
	}
	if r := byID["lv-3"]; r.Service != "web" || len(r.Latest) != 0 || r.Last == nil || r.Last.ID != "dec_5" || len(r.Kinds) != 0 {
		t.Errorf("Releases() lv-3 = %+v", r)
	}
	all, err := s.Evidence(ctx, "lv-1")
	if err != nil {
		t.Fatal(err)
	}
	var want2 []store.Evidence
	for _, e := range all {
		if e.Kind == "Deploy" || e.Kind == "Plan" {
			want2 = append(want2, e)
		}
	}
	if got, err := s.EvidenceOfKinds(ctx, "lv-1", "Deploy", "Plan", "Rollback"); err != nil || len(want2) != 2 {
		t.Errorf("EvidenceOfKinds(lv-1) = %v, %v (reference has %d)", got, err, len(want2))
	} else if diff := gocmp.Diff(want2, got); diff != "" {
		t.Errorf("EvidenceOfKinds(lv-1) (-want +got):\n%s", diff)
	}
	if got[0].ID != "lv-2" {
		t.Errorf("Releases()[0] = %s; want lv-2, the most recent entry", got[0].ID)
	}
}

// summarize is the reference Releases: the summary from every record.
func summarize(t *testing.T, s Store, now time.Time) []store.ReleaseSummary {
	ctx := context.Background()
	evs, err := s.Evidence(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := s.Decisions(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := s.Violations(ctx, store.Filter{Status: store.StatusOpen})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*store.ReleaseSummary{}
	get := func(id, service, env string) *store.ReleaseSummary {
		r := byID[id]
		if r == nil {
			r = &store.ReleaseSummary{ID: id, Service: service, Environment: env}
			byID[id] = r
		}
		return r
	}
	for _, e := range evs {
		r := get(e.ReleaseID, e.Service, e.Environment)
		if r.Evidence == 0 || (e.Kind == "Plan" && !slices.Contains(r.Kinds, "Plan")) {
			r.Commit = e.Commit
		}
		r.Evidence++
		if !slices.Contains(r.Kinds, e.Kind) {
			r.Kinds = append(r.Kinds, e.Kind)
		}
		r.LastEntry = max(r.LastEntry, e.Seq)
		if e.AddedAt.After(r.LastEvidenceAt) {
			r.LastEvidenceAt = e.AddedAt
		}
	}
	for _, d := range ds {
		d.Body = nil // a summary reads no body
		r := get(d.ReleaseID, d.Service, d.Environment)
		r.Decisions++
		r.LastEntry = max(r.LastEntry, d.Seq)
		last := d
		r.Last = &last
		if d.DryRun {
			continue
		}
		if i := slices.IndexFunc(r.Latest, func(x store.Decision) bool { return x.Gate == d.Gate }); i >= 0 {
			r.Latest[i] = d
		} else {
			r.Latest = append(r.Latest, d)
		}
	}
	for _, v := range vs {
		if r := byID[v.ReleaseID]; r != nil {
			r.Open++
			if v.Due.Before(now) {
				r.Overdue++
			}
		}
	}
	out := make([]store.ReleaseSummary, 0, len(byID))
	for _, r := range byID {
		slices.Sort(r.Kinds)
		slices.SortFunc(r.Latest, func(a, b store.Decision) int { return cmp.Compare(a.Gate, b.Gate) })
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b store.ReleaseSummary) int { return cmp.Compare(b.LastEntry, a.LastEntry) })
	return out
}
