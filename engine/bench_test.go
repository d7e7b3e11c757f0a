package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/internal/policytest"
	"github.com/localizevideos/shipgate/policies"
)

// benchCases are the allowed release and a denied one (open SEV-1, and the
// wrong deploy command) at the deploy gate.
func benchCases(b *testing.B) map[string][]*evidence.Document {
	allowed := deployEvidence(b)
	denied, err := validator(b).LoadPaths([]string{"../examples/localizevideos/evidence/incident-sev1/incidents.json",
		"../examples/localizevideos/evidence/wrong-command/deploy-requested.json"})
	if err != nil {
		b.Fatal(err)
	}
	var rest []*evidence.Document
	for _, d := range allowed {
		if d.Kind != "IncidentStatus" && d.Kind != "Deploy" {
			rest = append(rest, d)
		}
	}
	return map[string][]*evidence.Document{"allowed": allowed, "denied": append(rest, denied...)}
}

// BenchmarkEvaluate reports, beside the wall time, the CPU time of the
// process per evaluation (cpu-ns/op: all threads, garbage collection
// included), steadier on a machine shared with other work.
func BenchmarkEvaluate(b *testing.B) {
	e := defaultEngine(b)
	for name, docs := range benchCases(b) {
		b.Run(name, func(b *testing.B) {
			in := engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: docs}
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				d, err := e.Evaluate(context.Background(), in)
				if err != nil || d.Allow != (name == "allowed") {
					b.Fatalf("Evaluate() = %v, %v", d.Allow, err)
				}
			}
			reportCPU(b, cpuTime()-cpu)
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
	cfg, err := engine.ReadData("data.yaml", raw)
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
	cfg, err := engine.ReadData("data.yaml", raw)
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

func reportCPU(b *testing.B, cpu time.Duration) {
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkDelta is a head's answer through a Delta where the changed rule
// file (freeze) answers alike: the base's decision is reused after the
// input is built and the file is evaluated on both sides. Beside it, the
// head evaluating the gate in full.
func BenchmarkDelta(b *testing.B) {
	ctx := context.Background()
	base := defaultEngine(b)
	const frozen = "frozen if input.release.environment in lib.config.freeze.environments"
	head, err := engine.Load(ctx, engine.Options{Policies: policytest.Edited(b, map[string]func(string) string{
		"shipgate/rules/freeze/freeze.rego": policytest.Replace(b, frozen, frozen+"\n\nfrozen if input.release.environment == \"staging\""),
	})})
	if err != nil {
		b.Fatal(err)
	}
	d, err := engine.Compare(ctx, base, head)
	if err != nil || d.Full() != "" {
		b.Fatalf("Compare() = %q, %v", d.Full(), err)
	}
	in := engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: benchCases(b)["allowed"]}
	bd, _ := base.Evaluate(ctx, in)
	b.Run("reused", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			if _, reused, err := d.Evaluate(ctx, in, bd); err != nil || !reused {
				b.Fatalf("Evaluate() = reused %t, %v", reused, err)
			}
		}
		reportCPU(b, cpuTime()-cpu)
	})
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			if _, err := head.Evaluate(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, cpuTime()-cpu)
	})
}
