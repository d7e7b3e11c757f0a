package storetest

import (
	"context"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/localizevideos/shipgate/store"
)

// testServiceQueries checks ServiceEvidence and ServiceDecisions, the
// reads of a sweep across releases, against Evidence("") and
// Decisions("") filtered the way a reader without them would.
func testServiceQueries(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	if got, err := s.ServiceEvidence(ctx, "", "Deploy"); err != nil || len(got) != 0 {
		t.Fatalf("ServiceEvidence() of an empty store = %v, %v; want none", got, err)
	}
	at := func(m int) time.Time { return T0.Add(time.Duration(m) * time.Minute) }
	if _, err := s.AddEvidence(ctx, at(0), []store.Evidence{
		NewEvidence(t, "Deploy", "lv-1", "app", at(0), 1), NewEvidence(t, "Plan", "lv-1", "app", at(0), 2),
		NewEvidence(t, "Deploy", "lv-2", "app", at(1), 3), NewEvidence(t, "Deploy", "api-1", "api", at(2), 4),
	}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []store.Decision{
		gateDecision(t, "dec_1", "verify", "lv-1", "app", true, false, at(3)),
		gateDecision(t, "dec_2", "verify", "lv-2", "app", false, true, at(4)),
		gateDecision(t, "dec_3", "deploy", "lv-2", "app", true, false, at(5)),
		gateDecision(t, "dec_4", "verify", "api-1", "api", true, false, at(6)),
	} {
		if err := s.RecordDecision(ctx, d.EvaluatedAt, d, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	// A decision's evidence counts too, wherever it was recorded from.
	d5 := gateDecision(t, "dec_5", "deploy", "lv-3", "app", true, false, at(7))
	if err := s.RecordDecision(ctx, d5.EvaluatedAt, d5, nil, []store.Evidence{NewEvidence(t, "Deploy", "lv-3", "app", at(7), 5)}); err != nil {
		t.Fatal(err)
	}

	all, err := s.Evidence(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := s.Decisions(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ service, kind, gate string }{
		{"app", "Deploy", "verify"}, {"", "Deploy", "verify"}, {"api", "", ""}, {"", "", ""}, {"web", "Deploy", "deploy"},
	} {
		var wantEv []store.Evidence
		for _, e := range all {
			if (c.service == "" || e.Service == c.service) && (c.kind == "" || e.Kind == c.kind) {
				wantEv = append(wantEv, e)
			}
		}
		got, err := s.ServiceEvidence(ctx, c.service, c.kind)
		if err != nil {
			t.Fatalf("ServiceEvidence(%q, %q) = %v", c.service, c.kind, err)
		}
		if diff := gocmp.Diff(wantEv, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ServiceEvidence(%q, %q) (-want +got):\n%s", c.service, c.kind, diff)
		}
		var wantDs []store.Decision
		for _, d := range ds {
			if (c.service == "" || d.Service == c.service) && (c.gate == "" || d.Gate == c.gate) {
				d.Body = nil // the query table only
				wantDs = append(wantDs, d)
			}
		}
		gotDs, err := s.ServiceDecisions(ctx, c.service, c.gate)
		if err != nil {
			t.Fatalf("ServiceDecisions(%q, %q) = %v", c.service, c.gate, err)
		}
		if diff := gocmp.Diff(wantDs, gotDs, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ServiceDecisions(%q, %q) (-want +got):\n%s", c.service, c.gate, diff)
		}
	}
	// Spot checks that do not lean on the reference.
	if got, _ := s.ServiceEvidence(ctx, "app", "Deploy"); len(got) != 3 || got[0].ReleaseID != "lv-1" || got[2].ReleaseID != "lv-3" {
		t.Errorf("ServiceEvidence(app, Deploy) = %d documents; want lv-1, lv-2, lv-3 in ledger order", len(got))
	}
	if got, _ := s.ServiceDecisions(ctx, "app", "verify"); len(got) != 2 || got[0].ID != "dec_1" || !got[0].Allow || got[1].ID != "dec_2" || !got[1].DryRun {
		t.Errorf("ServiceDecisions(app, verify) = %+v; want dec_1 (allowed), dec_2 (dry run)", got)
	}
}
