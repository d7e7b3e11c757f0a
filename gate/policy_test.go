package gate_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// countingStore counts the policy sets the gate hands to the real store.
type countingStore struct {
	*sqlite.DB
	given int
}

func (c *countingStore) RecordDecision(ctx context.Context, now time.Time, d store.Decision, opened []store.Violation, ev []store.Evidence) error {
	if d.Policy != nil {
		c.given++
	}
	return c.DB.RecordDecision(ctx, now, d, opened, ev)
}

// The first decision under a policy set records the set, in its own
// transaction, once; later decisions (from this gate or another process)
// add nothing; the recorded set loads back to the very revision.
func TestDecideRecordsPolicySetOnce(t *testing.T) {
	ctx := context.Background()
	g, db := newGate(t)
	cs := &countingStore{DB: db}
	g.Store = cs
	var revision string
	for i := range 3 {
		d, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: lv, Now: deployAt, Actor: "dave", EvidencePaths: beforeDeploy})
		if err != nil {
			t.Fatalf("Decide(%d) = %v", i, err)
		}
		revision = d.Policy.Revision
	}
	if cs.given != 1 {
		t.Errorf("the gate gave the policy set %d times; want once, with the first decision", cs.given)
	}
	// Another process (a new gate on the same file) gives it again; the
	// store keeps one.
	g2, _ := newGate(t)
	g2.Store = db
	if _, err := g2.Decide(ctx, gate.Request{Gate: "deploy", Release: lv, Now: deployAt, Actor: "dave"}); err != nil {
		t.Fatal(err)
	}
	var types []string
	if err := db.Rows(ctx, func(r ledger.Row) error {
		e, err := ledger.Parse(r.Body)
		if err != nil {
			return err
		}
		types = append(types, e.Type)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, typ := range types {
		if typ == store.TypePolicy {
			n++
			if i+1 >= len(types) || types[i+1] != "decision" {
				t.Errorf("entry %d, the policy set, is not followed by the decision that used it: %v", i+1, types)
			}
		}
	}
	if n != 1 {
		t.Errorf("the ledger holds %d policy entries; want 1 (entry types %v)", n, types)
	}
	if _, err := db.Verify(ctx, nil); err != nil {
		t.Fatalf("Verify() = %v", err)
	}

	p, err := db.Policy(ctx, revision)
	if err != nil {
		t.Fatalf("Policy(%s) = %v", revision, err)
	}
	set := &policyset.Record{Revision: p.Revision, Data: p.Data}
	for _, m := range p.Modules {
		set.Modules = append(set.Modules, policyset.Module{Path: m.Path, Source: m.Source})
	}
	b, err := set.Bundle("")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := policyset.WriteBundle(&buf, b); err != nil {
		t.Fatal(err)
	}
	rb, err := policyset.ReadBundle(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Load(ctx, engine.Options{Bundle: rb})
	if err != nil {
		t.Fatalf("Load(recorded policy set) = %v", err)
	}
	if eng.Revision() != revision {
		t.Errorf("the recorded policy set loads as revision %s; decisions recorded %s", eng.Revision(), revision)
	}
	if _, err := db.Policy(ctx, "sha256:00"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Policy(unknown) = %v; want ErrNotFound", err)
	}
}

// A new process (a new gate) on a ledger that holds the policy set asks
// the store, and gives the set no more: building the entry that records
// every module would only be thrown away.
func TestDecideAsksTheStoreForThePolicySet(t *testing.T) {
	ctx := context.Background()
	g, db := newGate(t)
	d, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: lv, Now: deployAt, Actor: "dave", EvidencePaths: beforeDeploy})
	if err != nil {
		t.Fatal(err)
	}
	if held, err := db.HoldsPolicy(ctx, d.Policy.Revision); err != nil || !held {
		t.Fatalf("HoldsPolicy(%s) = %t, %v; want true", d.Policy.Revision, held, err)
	}
	if held, err := db.HoldsPolicy(ctx, "sha256:00"); err != nil || held {
		t.Fatalf("HoldsPolicy(unknown) = %t, %v; want false", held, err)
	}
	g2, _ := newGate(t)
	cs := &countingStore{DB: db}
	g2.Store = cs
	for i := range 2 {
		if _, err := g2.Decide(ctx, gate.Request{Gate: "deploy", Release: lv, Now: deployAt, Actor: "dave"}); err != nil {
			t.Fatalf("Decide(%d) = %v", i, err)
		}
	}
	if cs.given != 0 {
		t.Errorf("a new gate gave the policy set the ledger holds %d times; want none", cs.given)
	}
	// A fresh ledger is given the set with its first decision.
	g3, db3 := newGate(t)
	cs3 := &countingStore{DB: db3}
	g3.Store = cs3
	if _, err := g3.Decide(ctx, gate.Request{Gate: "deploy", Release: lv, Now: deployAt, Actor: "dave", EvidencePaths: beforeDeploy}); err != nil {
		t.Fatal(err)
	}
	if cs3.given != 1 {
		t.Errorf("the gate gave a fresh ledger the policy set %d times; want once", cs3.given)
	}
}

// A policy set that does not compute the revision its decision names is
// refused, and with it the decision: the gate denies with a RecordError.
func TestDecideRefusesAForgedPolicySet(t *testing.T) {
	ctx := context.Background()
	g, db := newGate(t)
	forged := &forgingStore{DB: db}
	g.Store = forged
	d, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: lv, Now: deployAt, Actor: "dave", EvidencePaths: beforeDeploy})
	var re *gate.RecordError
	if !errors.As(err, &re) || d.Allow {
		t.Fatalf("Decide() = allow %t, %v; want a denial with a RecordError", d.Allow, err)
	}
	if n, _ := db.Len(ctx); n != 0 {
		t.Errorf("the ledger holds %d entries; want none", n)
	}
}

// forgingStore changes one byte of a module before the store sees it.
type forgingStore struct{ *sqlite.DB }

func (f *forgingStore) RecordDecision(ctx context.Context, now time.Time, d store.Decision, opened []store.Violation, ev []store.Evidence) error {
	if d.Policy != nil {
		p := *d.Policy
		p.Modules = append([]store.PolicyModule(nil), p.Modules...)
		p.Modules[0].Source += " "
		d.Policy = &p
	}
	return f.DB.RecordDecision(ctx, now, d, opened, ev)
}
