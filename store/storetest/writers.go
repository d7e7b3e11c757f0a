package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/store"
)

// testConcurrentWriters: writes on one handle at once (which a store may
// commit together) each get their own answer. Two writers race for every
// decision id: one records it, the other gets ErrDuplicate and records
// nothing, not even its own document; a document every writer gives is
// stored once; a violation opened twice in one write fails that write
// alone.
func testConcurrentWriters(t *testing.T, open func(t *testing.T) Store) {
	const writers, each = 16, 15
	ctx := context.Background()
	s := open(t)
	shared := NewEvidence(t, "Build", "lv-1", "app", T0, 0)
	type write struct {
		d      store.Decision
		opened []store.Violation
		ev     []store.Evidence
	}
	writes := make([][]write, writers)
	for w := range writes {
		for i := range each {
			now := T0.Add(time.Duration(i) * time.Millisecond)
			d := NewDecision(t, fmt.Sprintf("dec_%d_%03d", w/2, i), "lv-1", "app", i%2 == 0, now)
			wr := write{d: d, ev: []store.Evidence{shared, NewEvidence(t, "Build", "lv-1", "app", now, 1+w*each+i)}}
			if i%5 == 0 {
				v := NewViolation(fmt.Sprintf("vio_%d_%03d", w, i), store.KindViolation, d, now.Add(time.Hour))
				wr.opened = []store.Violation{v}
				if w == 0 {
					wr.opened = append(wr.opened, v) // the same id twice: refused
				}
			}
			writes[w] = append(writes[w], wr)
		}
	}
	var mu sync.Mutex
	recorded, refused := map[string]int{}, map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, wr := range writes[w] {
				err := s.RecordDecision(ctx, wr.d.EvaluatedAt, wr.d, wr.opened, wr.ev)
				mu.Lock()
				switch {
				case err == nil:
					recorded[wr.d.ID]++
				case errors.Is(err, store.ErrDuplicate):
					refused[wr.d.ID]++
				default:
					errs <- fmt.Errorf("writer %d: %w", w, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Writer 0's writes with a violation fail whatever writer 1 does.
	for i := 0; i < each; i += 5 {
		id := fmt.Sprintf("dec_0_%03d", i)
		if recorded[id] > 1 || refused[id] < 1 {
			t.Errorf("decision %s: recorded %d times, refused %d; writer 0 opened a violation twice", id, recorded[id], refused[id])
		}
	}
	wantDecisions := 0
	for id := range refused {
		if recorded[id]+refused[id] != 2 {
			t.Errorf("decision %s: recorded %d times, refused %d; want 2 answers", id, recorded[id], refused[id])
		}
	}
	for id, n := range recorded {
		if n != 1 {
			t.Errorf("decision %s recorded %d times", id, n)
		}
		wantDecisions++
	}
	if wantDecisions < writers/2*each-each/5 {
		t.Errorf("%d decisions recorded; want at least %d", wantDecisions, writers/2*each-each/5)
	}
	ds, err := s.Decisions(ctx, "lv-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != wantDecisions {
		t.Errorf("Decisions() = %d; %d were answered as recorded", len(ds), wantDecisions)
	}
	evs, err := s.Evidence(ctx, "lv-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1+wantDecisions {
		t.Errorf("Evidence() = %d documents; want the shared one and one per recorded decision, %d", len(evs), 1+wantDecisions)
	}
	if _, err := s.Verify(ctx, nil); err != nil {
		t.Fatalf("Verify() = %v", err)
	}
}
