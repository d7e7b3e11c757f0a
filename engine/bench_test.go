package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/internal/cputime"
	"github.com/localizevideos/shipgate/internal/enginetest"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// benchCases are the allowed release and a denied one at the deploy gate.
func benchCases(b *testing.B) map[string][]*evidence.Document { return enginetest.BenchCases(b) }

// BenchmarkEvaluate reports, beside the wall time, the CPU time of the
// process per evaluation (cpu-ns/op: all threads, garbage collection
// included), steadier on a machine shared with other work.
func BenchmarkEvaluate(b *testing.B) {
	e := defaultEngine(b)
	for name, docs := range benchCases(b) {
		b.Run(name, func(b *testing.B) {
			in := engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: docs}
			b.ReportAllocs()
			cpu := cputime.Process()
			for b.Loop() {
				d, err := e.Evaluate(context.Background(), in)
				if err != nil || d.Allow != (name == "allowed") {
					b.Fatalf("Evaluate() = %v, %v", d.Allow, err)
				}
			}
			cputime.Report(b, cputime.Process()-cpu)
		})
	}
}

// BenchmarkBareOPA is the baseline: the same policies, data and input given
// to a plain OPA prepared query, as a program embedding OPA would.
func BenchmarkBareOPA(b *testing.B) {
	e := defaultEngine(b)
	pq := bareQuery(b)
	for name, docs := range benchCases(b) {
		b.Run(name, func(b *testing.B) {
			js, err := e.InputDocument(engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: docs})
			if err != nil {
				b.Fatal(err)
			}
			var input map[string]any
			if err := json.Unmarshal(js, &input); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				rs, err := pq.Eval(context.Background(), rego.EvalInput(input), rego.EvalTime(deployAt))
				if err != nil || len(rs) != 1 {
					b.Fatalf("Eval() = %v, %v", rs, err)
				}
			}
		})
	}
}

func bareQuery(b *testing.B) rego.PreparedEvalQuery {
	b.Helper()
	opts := []func(*rego.Rego){rego.Query("data.shipgate.gates.deploy.decision")}
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") || strings.HasSuffix(p, "_test.rego") {
			return err
		}
		src, err := fs.ReadFile(policies.FS, p)
		opts = append(opts, rego.Module(p, string(src)))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := fs.ReadFile(policies.FS, "shipgate/config/data.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := policyset.ReadData("data.yaml", raw)
	if err != nil {
		b.Fatal(err)
	}
	opts = append(opts, rego.Store(inmem.NewFromObject(map[string]any{"shipgate": map[string]any{"config": cfg}})))
	pq, err := rego.New(opts...).PrepareForEval(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return pq
}

// BenchmarkEvaluateFreeze10k: a calendar of 10,000 one-off windows (and the
// recurring weekend) must not grow the cost of a decision.
func BenchmarkEvaluateFreeze10k(b *testing.B) {
	raw, err := fs.ReadFile(policies.FS, "shipgate/config/data.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := policyset.ReadData("data.yaml", raw)
	if err != nil {
		b.Fatal(err)
	}
	freeze := cfg["freeze"].(map[string]any)
	windows := []any{}
	start := time.Date(2000, 1, 5, 0, 0, 0, 0, time.UTC)
	for i := range 10000 {
		s := start.Add(time.Duration(i) * 7 * 24 * time.Hour)
		windows = append(windows, map[string]any{"id": fmt.Sprintf("w%d", i),
			"start": s.Format(time.RFC3339), "end": s.Add(24 * time.Hour).Format(time.RFC3339)})
	}
	freeze["calendar"] = append(windows, freeze["calendar"].([]any)...)
	e, err := engine.Load(context.Background(), engine.Options{Policies: policies.FS, Data: cfg, People: keys.People()})
	if err != nil {
		b.Fatal(err)
	}
	in := engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: deployEvidence(b)}
	b.ReportAllocs()
	for b.Loop() {
		d, err := e.Evaluate(context.Background(), in)
		if err != nil || !d.Allow {
			b.Fatalf("Evaluate() = %v, %v", d.Allow, err)
		}
	}
}

// BenchmarkLoad is the one-time cost: parse, compile with type checks,
// prepare the four gate queries.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := engine.Load(context.Background(), engine.Options{Policies: policies.FS}); err != nil {
			b.Fatal(err)
		}
	}
}
