// Package replay evaluates recorded gate decisions again: it reads what each
// decision was made from (the "replay" member of its ledger entry: gate,
// release, evaluation time, the evidence offered, the open violations),
// decodes that evidence once, and gives the same engine.Input to another
// policy set. Diff then compares two replays, so a policy change can be
// judged by the past releases it would have decided differently.
//
// Replay uses the engine exactly as the gate does; replaying a decision
// through the policy set that made it reproduces it.
package replay

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/policydiff"
	"github.com/localizevideos/shipgate/store"
)

// Source is the ledger as replay reads it.
type Source interface {
	Decisions(ctx context.Context, releaseID string) ([]store.Decision, error)
	EvidenceByDigest(ctx context.Context, digest string) (store.Evidence, error)
}

// Options select the decisions to replay and how.
type Options struct {
	// Validator decodes the recorded evidence (required).
	Validator *evidence.Validator
	// Since, when set, keeps decisions evaluated at or after it.
	Since time.Time
	// Service, when set, keeps that service's decisions.
	Service string
	// Workers evaluate in parallel; zero is GOMAXPROCS.
	Workers int
	// Progress, when set, is called once per decision evaluated, from any
	// worker.
	Progress func()
	// GCPercent, when positive, is the garbage collector's target
	// (runtime/debug.SetGCPercent) while a Replay of the history runs; the
	// previous setting is restored when the last running Replay returns.
	// Evaluation allocates a lot of short-lived memory, so a replay spends
	// much of its time collecting at the default of 100; TunedGCPercent
	// trades memory for speed. The setting is process-wide: leave it zero
	// in a program that does other work while it replays.
	GCPercent int
	// NoCache makes Replay evaluate every decision. By default a recorded
	// decision that the replaying policy set made itself, on the same
	// input, is the answer: its policy reference (revision and bundle)
	// equals the engine's and its input digest equals the replayed input's
	// (engine.Engine.InputDigest). Evaluation is deterministic, so
	// evaluating it again gives the same decision (`shipgate audit replay`
	// proves that for the ledger, decision by decision). Result.Cached
	// tells which results were not evaluated.
	NoCache bool
}

// TunedGCPercent is the GCPercent that `shipgate policy diff` replays with:
// the heap may grow to five times what is live between collections.
const TunedGCPercent = 400

// Reasons a recorded decision is not replayed.
const (
	// SkipEngineFault: the recorded decision was an engine fault, not a
	// policy answer.
	SkipEngineFault = "engine fault"
	// SkipInvalidEvidence: the gate refused the evidence before any policy
	// ran.
	SkipInvalidEvidence = "invalid evidence"
	// SkipNotEvaluated: the gate denied before evaluating (no Plan to name
	// the release, or Plans that disagree): no policy decided it.
	SkipNotEvaluated = "not evaluated"
	// SkipNoReplay: the entry predates the replay record.
	SkipNoReplay = "no replay record"
	// SkipEvidenceRejected: a recorded document no longer passes the
	// evidence schemas.
	SkipEvidenceRejected = "evidence rejected by the current schemas"
)

// Result is one recorded decision and, unless Skipped, its replay.
type Result struct {
	// Recorded is the decision as the ledger holds it.
	Recorded *engine.Decision
	// Decision is the replayed decision; nil when Skipped.
	Decision *engine.Decision
	// Fault is the engine fault of the replay, if any (Decision then denies).
	Fault string
	// Skipped says why the decision was not replayed.
	Skipped string
	DryRun  bool
	// Cached is set when Decision is the recorded decision, reused because
	// the replaying policy set made it on the same input (Options.NoCache).
	Cached bool
	// Reused is set when Decision is the base's decision, because the
	// policy sets were shown to decide this input alike (ReplayHead).
	Reused bool
}

// History is the recorded decisions selected for replay, with their
// evidence decoded once. It is read-only once loaded: several replays may
// share it.
type History struct {
	items   []item
	workers int
	prog    func()
	gc      int
	noCache bool
	// values holds every recorded document in the form the policies read,
	// converted once and shared by the engines the history is replayed
	// through.
	values *engine.Values
}

type item struct {
	rec     *engine.Decision
	dryRun  bool
	skipped string
	in      engine.Input
}

// Load reads the decisions opts selects, in ledger order, and decodes every
// evidence document they were offered, once per digest.
func Load(ctx context.Context, src Source, opts Options) (*History, error) {
	if opts.Validator == nil {
		return nil, errors.New("replay: no evidence validator")
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	decs, err := src.Decisions(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	h := &History{workers: workers, prog: opts.Progress, gc: opts.GCPercent, noCache: opts.NoCache, values: engine.NewValues()}
	need := map[string]bool{}
	var replays []gate.Replay
	for _, sd := range decs {
		if opts.Service != "" && sd.Service != opts.Service {
			continue
		}
		if !opts.Since.IsZero() && sd.EvaluatedAt.Before(opts.Since) {
			continue
		}
		rec := gate.Record{Decision: &engine.Decision{}}
		if err := json.Unmarshal(sd.Body, &rec); err != nil {
			return nil, fmt.Errorf("decision %s: %w", sd.ID, err)
		}
		it := item{rec: rec.Decision, dryRun: sd.DryRun, skipped: skipReason(rec)}
		if it.skipped == "" {
			for _, dg := range rec.Replay.Evidence {
				need[dg] = true
			}
		}
		h.items = append(h.items, it)
		replays = append(replays, rec.Replay)
	}
	docs, err := decodeAll(ctx, src, opts.Validator, h.values, need, workers)
	if err != nil {
		return nil, err
	}
	for i := range h.items {
		it := &h.items[i]
		if it.skipped != "" {
			continue
		}
		r := replays[i]
		in := engine.Input{Gate: r.Gate, Release: r.Release, Now: r.Now, Violations: r.Violations,
			Evidence: make([]*evidence.Document, 0, len(r.Evidence)), Values: h.values}
		for _, dg := range r.Evidence {
			d := docs[dg]
			if d.doc == nil {
				it.skipped = SkipEvidenceRejected
				break
			}
			in.Evidence = append(in.Evidence, d.doc)
		}
		// The gate offers the ledger's documents in ledger order; the order
		// decides which of two documents ignored for the same kind is
		// named first.
		slices.SortStableFunc(in.Evidence, func(a, b *evidence.Document) int {
			return docs[a.Digest].seq - docs[b.Digest].seq
		})
		it.in = in
	}
	return h, nil
}

func skipReason(rec gate.Record) string {
	d := rec.Decision
	switch {
	case d.Reason == engine.ReasonEvidenceInvalid:
		return SkipInvalidEvidence
	case strings.HasPrefix(d.Reason, "engine."), d.Reason == engine.ReasonStore:
		return SkipEngineFault
	case rec.Replay.Gate == "":
		return SkipNoReplay
	case d.Input.Digest == "":
		return SkipNotEvaluated
	}
	return ""
}

type decoded struct {
	doc *evidence.Document // nil when the schemas reject it now
	seq int
}

// decodeAll fetches and decodes each digest once, in parallel, and converts
// each document for the policies into values.
func decodeAll(ctx context.Context, src Source, v *evidence.Validator, values *engine.Values, need map[string]bool, workers int) (map[string]decoded, error) {
	digests := make([]string, 0, len(need))
	for dg := range need {
		digests = append(digests, dg)
	}
	slices.Sort(digests)
	out := make([]decoded, len(digests))
	err := parallel(ctx, len(digests), workers, func(i int) error {
		s, err := src.EvidenceByDigest(ctx, digests[i])
		if err != nil {
			return fmt.Errorf("recorded evidence %s: %w", digests[i], err)
		}
		name := s.Source
		if name == "" {
			name = fmt.Sprintf("ledger entry %d", s.Seq)
		}
		doc, err := v.Decode(name, s.Recorded())
		var verr evidence.ValidationErrors
		switch {
		case errors.As(err, &verr):
			doc = nil
		case err != nil:
			return fmt.Errorf("recorded evidence %s: %w", digests[i], err)
		default:
			if err := values.Add(doc); err != nil {
				return fmt.Errorf("recorded evidence %s: %w", digests[i], err)
			}
		}
		out[i] = decoded{doc: doc, seq: int(s.Seq)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m := make(map[string]decoded, len(digests))
	for i, dg := range digests {
		m[dg] = out[i]
	}
	return m, nil
}

// Len is the number of decisions a replay evaluates (those not skipped).
func (h *History) Len() int {
	n := 0
	for _, it := range h.items {
		if it.skipped == "" {
			n++
		}
	}
	return n
}

// Replay evaluates every decision of h with eng, in parallel, and returns
// the results in ledger order.
func (h *History) Replay(ctx context.Context, eng *engine.Engine) ([]Result, error) {
	ref := eng.Ref()
	return h.run(ctx, func(i int, it *item, r *Result) error {
		if !h.noCache && it.rec.Policy == ref {
			if d := recorded(eng, it); d != nil {
				r.Decision, r.Cached = d, true
				return nil
			}
		}
		d, err := eng.Evaluate(ctx, it.in)
		r.Decision = d
		return err
	})
}

// run answers every decision of h not skipped with answer, in parallel,
// and returns the results in ledger order. answer sets the result's
// Decision (and Cached or Reused); an error it returns with a Decision is
// an engine fault of that decision, one without stops the replay.
func (h *History) run(ctx context.Context, answer func(i int, it *item, r *Result) error) ([]Result, error) {
	if h.gc > 0 {
		defer tuneGC(h.gc)()
	}
	out := make([]Result, len(h.items))
	for i, it := range h.items {
		out[i] = Result{Recorded: it.rec, DryRun: it.dryRun, Skipped: it.skipped}
	}
	err := parallel(ctx, len(h.items), h.workers, func(i int) error {
		it := &h.items[i]
		if it.skipped != "" {
			return nil
		}
		r := &out[i]
		if err := answer(i, it, r); err != nil {
			if ctx.Err() != nil || r.Decision == nil {
				return cmp.Or(ctx.Err(), err)
			}
			r.Fault = err.Error()
		}
		if !r.Cached {
			r.Decision.ID, r.Decision.DryRun = it.rec.ID, it.dryRun
		}
		if h.prog != nil {
			h.prog()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReplayHead replays h with head, knowing base, h's replay with baseEng:
// where head changes only some rule files and those answer a decision's
// input as baseEng's do, the base's decision is the head's (policydiff.Delta),
// and the whole gate is evaluated only where they do not. With
// Options.NoCache, or when the change is not confined to rule files, it is
// Replay.
func (h *History) ReplayHead(ctx context.Context, base []Result, baseEng, head *engine.Engine) ([]Result, error) {
	if h.noCache {
		return h.Replay(ctx, head)
	}
	delta, err := policydiff.Compare(ctx, baseEng, head)
	if err != nil {
		return nil, err
	}
	if delta.Full() != "" {
		return h.Replay(ctx, head)
	}
	return h.run(ctx, func(i int, it *item, r *Result) error {
		var bd *engine.Decision
		if i < len(base) && base[i].Recorded == it.rec && base[i].Fault == "" {
			bd = base[i].Decision
		}
		d, reused, err := delta.Evaluate(ctx, it.in, bd)
		r.Decision, r.Reused = d, reused
		return err
	})
}

// recorded returns the recorded decision of it as eng's replay of it when
// eng made it on the same input, and nil otherwise (the caller checked the
// policy reference). The copy shares the recorded slices, which nothing
// modifies; Opened, which the ledger adds after the evaluation, is left out
// as a replay leaves it out.
func recorded(eng *engine.Engine, it *item) *engine.Decision {
	dg, err := eng.InputDigest(it.in)
	if err != nil || dg != it.rec.Input.Digest {
		return nil
	}
	d := *it.rec
	d.ID, d.DryRun, d.Opened = it.rec.ID, it.dryRun, nil
	return &d
}

// Replay loads the decisions opts selects from src and evaluates them with
// eng.
func Replay(ctx context.Context, src Source, eng *engine.Engine, opts Options) ([]Result, error) {
	h, err := Load(ctx, src, opts)
	if err != nil {
		return nil, err
	}
	return h.Replay(ctx, eng)
}

// parallel calls fn for 0..n-1 on workers goroutines; the first error stops
// the others from starting more work.
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	if workers > n {
		workers = n
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// gcTuning counts the Replays running with a GCPercent, so that the first
// sets it and the last restores what was there before.
var gcTuning struct {
	sync.Mutex
	running int
	prev    int
}

// tuneGC sets the GC target to percent unless a running Replay already
// did, and returns the function that undoes it.
func tuneGC(percent int) (restore func()) {
	gcTuning.Lock()
	defer gcTuning.Unlock()
	if gcTuning.running == 0 {
		gcTuning.prev = debug.SetGCPercent(percent)
	}
	gcTuning.running++
	return func() {
		gcTuning.Lock()
		defer gcTuning.Unlock()
		gcTuning.running--
		if gcTuning.running == 0 {
			debug.SetGCPercent(gcTuning.prev)
		}
	}
}
