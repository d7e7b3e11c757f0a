package postgres

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/sqlite"
	"github.com/localizevideos/shipgate/store/storetest"
)

// Three servers (three pools), ten goroutines each, appending 100 decisions
// a goroutine to one database: one linear chain of exactly 3,000 decision
// entries, each decision once, that verifies.
func TestConcurrentServers(t *testing.T) {
	const servers, goroutines, each = 3, 10, 100
	ctx := context.Background()
	url := newDatabase(t)
	dbs := make([]*DB, servers)
	for i := range dbs {
		dbs[i] = openT(t, url)
	}
	// decisions[s][g] are the decisions goroutine g of server s records.
	decisions := make([][][]store.Decision, servers)
	for s := range decisions {
		decisions[s] = make([][]store.Decision, goroutines)
		for g := range goroutines {
			for i := range each {
				now := storetest.T0.Add(time.Duration(i) * time.Millisecond)
				decisions[s][g] = append(decisions[s][g],
					storetest.NewDecision(t, fmt.Sprintf("dec_%d_%d_%03d", s, g, i), "lv-1", "app", i%2 == 0, now))
			}
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, servers*goroutines)
	for s, db := range dbs {
		for g := range goroutines {
			wg.Go(func() {
				for i, d := range decisions[s][g] {
					if err := db.RecordDecision(ctx, d.EvaluatedAt, d, nil, nil); err != nil {
						errs <- fmt.Errorf("server %d, goroutine %d, decision %d: %w", s, g, i, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	const total = servers * goroutines * each
	t.Logf("%d decisions from %d pools × %d goroutines in %v", total, servers, goroutines, time.Since(start).Round(time.Millisecond))

	h, err := dbs[1].Verify(ctx, nil)
	if err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if h.Size != total {
		t.Errorf("Verify().Size = %d; want %d", h.Size, total)
	}
	// Verify checked seq and prev of every entry: one chain. Each decision
	// is there once, as a decision entry and in the decisions table.
	seen := map[string]int{}
	err = dbs[2].Rows(ctx, func(r ledger.Row) error {
		e, err := ledger.Parse(r.Body)
		if err != nil {
			return err
		}
		if e.Type != ledger.TypeDecision {
			return fmt.Errorf("entry %d is a %s entry", e.Seq, e.Type)
		}
		seen[e.Key]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for s := range servers {
		for g := range goroutines {
			for i := range each {
				if id := fmt.Sprintf("dec_%d_%d_%03d", s, g, i); seen[id] != 1 {
					t.Errorf("decision %s is in the ledger %d times; want once", id, seen[id])
				}
			}
		}
	}
	if len(seen) != total {
		t.Errorf("%d distinct decisions in the ledger; want %d", len(seen), total)
	}
	ds, err := dbs[0].Decisions(ctx, "lv-1")
	if err != nil || len(ds) != total {
		t.Errorf("Decisions(lv-1) = %d, %v; want %d", len(ds), err, total)
	}
}

// The PostgreSQL store writes the very entries the SQLite store writes for
// the same calls, byte for byte: a ledger moves between them unchanged.
func TestSameEntriesAsSQLite(t *testing.T) {
	ctx := context.Background()
	pg := openT(t, newDatabase(t))
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	stores := []storetest.Store{pg, lite}
	for _, s := range stores {
		storetest.Fill(t, s, storetest.T0, 0, 12)
	}
	var rows [2][]ledger.Row
	var heads [2]ledger.Head
	for i, s := range stores {
		if err := s.Rows(ctx, func(r ledger.Row) error { rows[i] = append(rows[i], r); return nil }); err != nil {
			t.Fatal(err)
		}
		if heads[i], err = s.Verify(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(rows[0]) < 60 {
		t.Fatalf("%d entries; want about 65", len(rows[0]))
	}
	if diff := cmp.Diff(rows[1], rows[0]); diff != "" {
		t.Errorf("entries (-sqlite +postgres):\n%s", diff)
	}
	if heads[0] != heads[1] {
		t.Errorf("Verify() = %+v; SQLite's is %+v", heads[0], heads[1])
	}
	// And what the query tables answer is the same.
	for _, f := range []store.Filter{{}, {Status: store.StatusOpen}, {Status: store.StatusClosed}} {
		a, err := pg.Violations(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := lite.Violations(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(b, a); diff != "" {
			t.Errorf("Violations(%+v) (-sqlite +postgres):\n%s", f, diff)
		}
	}
	a, err := pg.Evidence(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := lite.Evidence(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b, a); diff != "" {
		t.Errorf("Evidence() (-sqlite +postgres):\n%s", diff)
	}
}
