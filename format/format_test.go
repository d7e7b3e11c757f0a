package format

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/regotest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixtures are decisions recorded by `shipgate gate ... -o json` on the
// example evidence (see testdata/README.md), by name.
var fixtures = []string{"allow", "deny-incident", "warning", "overridden", "emergency", "verify-failed", "other-commit", "invalid"}

func loadDecision(t *testing.T, name string) *engine.Decision {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "decisions", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var d engine.Decision
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return &d
}

// faultDecision is what the engine answers when the policy fails at run
// time after some rules reported: the fault plus a policy violation.
func faultDecision() *engine.Decision {
	return &engine.Decision{
		ID: "dec_fault", Gate: "deploy",
		Release: engine.Release{ID: "r1", Service: "svc", Environment: "production", Commit: "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"},
		Reason:  engine.ReasonRuntimeError,
		Violations: []engine.Finding{
			{Rule: "approval.required", Title: "Approved by someone else", Enforcement: engine.Hard, Message: "no approval", Evidence: []string{}, Remediation: "ask an approver"},
			{Rule: engine.RuleEngineFault, Enforcement: engine.Hard, Message: "engine.runtime-error: eval_conflict_error", Evidence: []string{}, Remediation: "fix the policy set or its data; the gate denies until it answers"},
		},
		Rules:       []string{"approval.required", "forbidden.hot-patch"},
		Policy:      engine.PolicyRef{Revision: "sha256:27d6b2a0133e7212762db7afbc0857ccb9a01c18a381637dcdc9e02a9d700fcf"},
		Input:       engine.InputRef{Digest: "sha256:38d76b9b86634ebb4d76a25a7a8cf75fea0b1afbfbf89b4d93c47b2137f72104"},
		EvaluatedAt: time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC),
	}
}

// trickyDecision carries text every format must escape: Markdown and XML
// metacharacters, workflow command delimiters, line breaks, a control
// character, and evidence read back from the ledger without a file name.
func trickyDecision() *engine.Decision {
	return &engine.Decision{
		ID: "dec_tricky", Gate: "deploy",
		Release: engine.Release{ID: "r2", Service: "svc", Environment: "staging", Commit: "abc"},
		Reason:  engine.ReasonDeny,
		Violations: []engine.Finding{{
			Rule: "forbidden.direct-push", Title: "No direct push", Enforcement: engine.Hard,
			Message:     "deploy by <mallory> at 100% on a|b, c: d\r\nsecond line \x01 & more\n::set-env name=X::y",
			Evidence:    []string{"sha256:aaa", "sha256:bbb"},
			Remediation: "merge to main | use the pipeline",
		}},
		Warnings: []engine.Finding{{
			Rule: "change.size", Title: "Small changes", Enforcement: engine.Advisory,
			Message: "1675 lines", Evidence: []string{"sha256:ccc"}, Remediation: "split it",
		}},
		Obligations: []engine.Obligation{{Kind: "postmortem", Rule: "freeze.emergency", Message: "write it, 5 days", Due: "2026-12-01T10:05:00Z"}},
		Rules:       []string{"change.size", "forbidden.direct-push", "forbidden.hot-patch"},
		Evidence: []engine.EvidenceRef{
			{Kind: "Deploy", Digest: "sha256:aaa", Source: "ledger entry 12"},
			{Kind: "Deploy", Digest: "sha256:bbb", Source: "/abs/evidence dir/deploy.json"},
			{Kind: "Plan", Digest: "sha256:ccc", Source: "ledger entry 3"},
		},
		Ignored:     []engine.Ignored{{Kind: "Build", Digest: "sha256:ddd", Source: "build.json", Reason: "binding.commit", Message: "Build ddd (build.json): commit 1 is not abc"}},
		EvaluatedAt: time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC),
	}
}

// testReport has one test of each outcome.
func testReport() *regotest.Report {
	return &regotest.Report{
		Results: []regotest.Result{
			{Package: "data.shipgate.gates_test", Name: "test_allows", File: "gates/gates_test.rego", Row: 13, Outcome: "pass", Duration: 260 * time.Millisecond},
			{Package: "data.shipgate.gates_test", Name: "test_denies", File: "gates/gates_test.rego", Row: 28, Outcome: "fail", Message: "failed at gates/gates_test.rego:30:2", Duration: 14 * time.Millisecond},
			{Package: "data.shipgate.rules.approval_test", Name: "test_boom", File: "rules/approval_test.rego", Row: 7, Outcome: "error", Message: "eval_conflict_error: functions must not produce multiple outputs, for a,b: c", Duration: time.Millisecond},
			{Package: "data.shipgate.rules.approval_test", Name: "todo_test_later", File: "rules/approval_test.rego", Row: 40, Outcome: "skip"},
		},
		Passed: 1, Failed: 1, Errored: 1, Skipped: 1, Coverage: 87.5,
		Files: map[string]float64{"rules/approval.rego": 87.5},
	}
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./format -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, diff)
	}
}

// TestGolden pins every format's output for the recorded decisions and the
// test report, and that it does not change from one run to the next.
func TestGolden(t *testing.T) {
	ds := []*engine.Decision{loadDecision(t, "deny-incident"), loadDecision(t, "warning"), loadDecision(t, "overridden"), loadDecision(t, "verify-failed")}
	ds = append(ds, trickyDecision())
	render := map[string]func(w *bytes.Buffer) error{
		"decisions.junit.xml":    func(w *bytes.Buffer) error { return JUnitDecisions(w, ds) },
		"decisions.sarif.json":   func(w *bytes.Buffer) error { return SARIFDecisions(w, ds, "1.2.3") },
		"decisions.github.txt":   func(w *bytes.Buffer) error { return GitHubDecisions(w, &bytes.Buffer{}, ds) },
		"decisions.summary.md":   func(w *bytes.Buffer) error { return GitHubDecisions(&bytes.Buffer{}, w, ds) },
		"tests.junit.xml":        func(w *bytes.Buffer) error { return JUnitTests(w, testReport(), "policies") },
		"tests.sarif.json":       func(w *bytes.Buffer) error { return SARIFTests(w, testReport(), "policies", "1.2.3") },
		"tests.github.txt":       func(w *bytes.Buffer) error { return GitHubTests(w, &bytes.Buffer{}, testReport(), "policies") },
		"tests.summary.md":       func(w *bytes.Buffer) error { return GitHubTests(&bytes.Buffer{}, w, testReport(), "policies") },
		"empty.junit.xml":        func(w *bytes.Buffer) error { return JUnitDecisions(w, nil) },
		"empty-tests.sarif.json": func(w *bytes.Buffer) error { return SARIFTests(w, nil, "", "1.2.3") },
	}
	for name, f := range render {
		t.Run(name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := f(&a); err != nil {
				t.Fatal(err)
			}
			if err := f(&b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatalf("%s: two renderings differ", name)
			}
			golden(t, name, a.Bytes())
		})
	}
}
