package gate_test

import (
	"context"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/internal/cputime"
)

// BenchmarkRecordedVsEvaluate sets a recorded deploy decision (evidence
// and open violations read from the ledger, evaluated, recorded with
// fsync) beside the evaluation alone (engine.Evaluate on the same input),
// alternating the two in one loop so that both see the same machine. It
// reports the CPU time of the process spent in each (eval-cpu-ns and
// recorded-cpu-ns per decision: all threads, the store's committer and
// garbage collection included) and their ratio (recorded/eval); the target
// is a ratio of at most 2.
func BenchmarkRecordedVsEvaluate(b *testing.B) {
	ctx := context.Background()
	g, db := newGate(b)
	req := gate.Request{Gate: "deploy", Release: lv, Now: deployAt, Actor: "dave",
		EvidencePaths: append(beforeDeploy, files("allowed/approval.json")...)}
	first, err := g.Decide(ctx, req)
	if err != nil || !first.Allow {
		b.Fatalf("Decide() = %v, %v", first.Allow, err)
	}
	req.EvidencePaths = nil // from the ledger from now on
	// The evaluation alone is given what the gate gives the engine: the
	// release's recorded evidence, its open violations (none) and the
	// release as resolved from its plan.
	stored, err := db.Evidence(ctx, lv.ID)
	if err != nil {
		b.Fatal(err)
	}
	var docs []*evidence.Document
	for _, s := range stored {
		d, err := g.Validator.ForLedger().Decode(s.Source, s.Recorded())
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, d)
	}
	in := engine.Input{Gate: "deploy", Release: first.Release, Now: deployAt, Evidence: docs}
	var evalCPU, recCPU time.Duration
	b.ReportAllocs()
	for b.Loop() {
		c0 := cputime.Process()
		d, err := g.Engine.Evaluate(ctx, in)
		if err != nil || !d.Allow {
			b.Fatalf("Evaluate() = %v, %v", d.Allow, err)
		}
		c1 := cputime.Process()
		d, err = g.Decide(ctx, req)
		if err != nil || !d.Allow {
			b.Fatalf("Decide() = %v, %v", d.Allow, err)
		}
		evalCPU += c1 - c0
		recCPU += cputime.Process() - c1
	}
	if evalCPU > 0 {
		b.ReportMetric(float64(evalCPU.Nanoseconds())/float64(b.N), "eval-cpu-ns")
		b.ReportMetric(float64(recCPU.Nanoseconds())/float64(b.N), "recorded-cpu-ns")
		b.ReportMetric(float64(recCPU)/float64(evalCPU), "recorded/eval")
	}
}
