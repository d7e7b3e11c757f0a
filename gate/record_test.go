package gate_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/store"
)

// recording is the real store, with what RecordDecision was given kept.
type recording struct {
	gate.Store
	given [][]string // the digests of each call's evidence
}

func (r *recording) RecordDecision(ctx context.Context, now time.Time, d store.Decision, opened []store.Violation, ev []store.Evidence) error {
	var ds []string
	for _, e := range ev {
		ds = append(ds, e.Digest)
	}
	r.given = append(r.given, ds)
	return r.Store.RecordDecision(ctx, now, d, opened, ev)
}

// The gate gives the store only the evidence it did not read from the
// ledger, while the decision's replay still names every document it was
// made from.
func TestRecordSendsOnlyNewEvidence(t *testing.T) {
	ctx := context.Background()
	g, db := newGate(t)
	rec := &recording{Store: db}
	g.Store = rec
	req := gate.Request{Gate: "deploy", Release: lv, Now: deployAt, DryRun: true, EvidencePaths: beforeDeploy}
	first, err := g.Decide(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	// Again, with the same files and one more: only the new one is sent.
	req.EvidencePaths = append(slices.Clone(beforeDeploy), files("allowed/approval.json")...)
	second, err := g.Decide(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	// And from the ledger alone: nothing is sent.
	req.EvidencePaths = nil
	third, err := g.Decide(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.given) != 3 || len(rec.given[0]) != len(beforeDeploy) || len(rec.given[1]) != 1 || len(rec.given[2]) != 0 {
		t.Fatalf("evidence given to RecordDecision = %v; want %d documents, then 1, then none", rec.given, len(beforeDeploy))
	}
	stored, err := db.Evidence(ctx, lv.ID)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, e := range stored {
		all = append(all, e.Digest)
	}
	slices.Sort(all)
	if len(all) != len(beforeDeploy)+1 || !slices.Contains(all, rec.given[1][0]) {
		t.Fatalf("stored evidence = %v; want the %d documents given", all, len(beforeDeploy)+1)
	}
	for _, c := range []struct {
		id   string
		want int
	}{{first.ID, len(beforeDeploy)}, {second.ID, len(all)}, {third.ID, len(all)}} {
		_, body := recordBody[gate.Record](t, db, c.id)
		if got := body.Replay.Evidence; len(got) != c.want || (c.want == len(all) && !slices.Equal(got, all)) {
			t.Errorf("decision %s replays %v; want %d documents (all: %v)", c.id, got, c.want, all)
		}
	}
	if _, err := db.Verify(ctx, nil); err != nil {
		t.Errorf("Verify() = %v", err)
	}
}
