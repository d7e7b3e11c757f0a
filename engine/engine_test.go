package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/internal/enginetest"
	"github.com/localizevideos/shipgate/internal/policytest"
)

const allowedDir = "../examples/localizevideos/evidence/allowed"

// The example release, its evidence and the default engine
// (internal/enginetest), shared with policyset's and policydiff's tests.
var (
	release        = enginetest.Release
	deployAt       = enginetest.DeployAt
	validator      = enginetest.Validator
	deployEvidence = enginetest.DeployEvidence
	defaultEngine  = enginetest.DefaultEngine
	shippedEngine  = enginetest.ShippedEngine
)

// customEngine compiles a policy set whose deploy gate is the given Rego.
func customEngine(t *testing.T, deployRego string, timeout time.Duration) *engine.Engine {
	t.Helper()
	fsys := fstest.MapFS{"gates/deploy.rego": {Data: []byte(deployRego)}}
	e, err := engine.Load(context.Background(), engine.Options{Policies: fsys, Data: policytest.MinimalData(t), Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEvaluateAllows(t *testing.T) {
	d, err := defaultEngine(t).Evaluate(context.Background(), engine.Input{
		Gate: "deploy", Release: release, Now: deployAt, Evidence: deployEvidence(t)})
	if err != nil || !d.Allow || d.Reason != engine.ReasonAllow {
		t.Fatalf("Evaluate() = allow %t, reason %s, err %v; want allow", d.Allow, d.Reason, err)
	}
	if len(d.Rules) == 0 || d.Input.Digest == "" || d.Policy.Revision == "" || len(d.Evidence) != 5 {
		t.Errorf("decision lacks its record: %+v", d)
	}
}

// Every path that cannot produce a trustworthy answer denies, with its own
// reason.
func TestEvaluateFailsClosed(t *testing.T) {
	const ok = `{"allow": true, "violations": [], "rules": ["r"]}`
	tests := []struct {
		name   string
		rego   string
		gate   string
		reason string
		fault  bool
	}{
		{"undefined result", "package shipgate.gates.deploy\n\ndecision := " + ok + " if input.gate == \"never\"\n", "deploy", engine.ReasonUndefined, true},
		{"unknown gate", "package shipgate.gates.deploy\n\ndecision := " + ok + "\n", "launch", engine.ReasonUndefined, true},
		{"not an object", "package shipgate.gates.deploy\n\ndecision := \"allow\"\n", "deploy", engine.ReasonMalformed, true},
		{"allow not boolean", "package shipgate.gates.deploy\n\ndecision := {\"allow\": \"yes\", \"violations\": [], \"rules\": [\"r\"]}\n", "deploy", engine.ReasonMalformed, true},
		{"no violations field", "package shipgate.gates.deploy\n\ndecision := {\"allow\": true, \"rules\": [\"r\"]}\n", "deploy", engine.ReasonMalformed, true},
		{"allow with violations", "package shipgate.gates.deploy\n\ndecision := {\"allow\": true, \"violations\": [{\"rule\": \"r\", \"message\": \"m\"}], \"rules\": [\"r\"]}\n", "deploy", engine.ReasonConflict, true},
		{"conflicting rule values", "package shipgate.gates.deploy\n\ndecision := x if { x := " + ok + "; input.gate == \"deploy\" }\n\ndecision := y if { y := {\"allow\": false, \"violations\": [], \"rules\": [\"r\"]}; input.now }\n", "deploy", engine.ReasonConflict, true},
		{"runtime error", "package shipgate.gates.deploy\n\ndecision := {\"allow\": to_number(input.gate) == 1, \"violations\": [], \"rules\": [\"r\"]}\n", "deploy", engine.ReasonRuntimeError, true},
		{"deadline", "package shipgate.gates.deploy\n\nspin := count([1 | some x in numbers.range(1, 4000); some y in numbers.range(1, 4000); x * y < 0])\n\ndecision := {\"allow\": spin == 0, \"violations\": [], \"rules\": [\"r\"]}\n", "deploy", engine.ReasonDeadline, true},
		{"no rule evaluated", "package shipgate.gates.deploy\n\ndecision := {\"allow\": true, \"violations\": [], \"rules\": []}\n", "deploy", engine.ReasonNoRules, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := customEngine(t, tt.rego, 200*time.Millisecond)
			d, err := e.Evaluate(context.Background(), engine.Input{Gate: tt.gate, Release: release, Now: deployAt, Evidence: deployEvidence(t)})
			if d == nil {
				t.Fatalf("Evaluate() returned no decision (err %v)", err)
			}
			if d.Allow {
				t.Fatalf("Evaluate() allowed; want deny with %s", tt.reason)
			}
			if d.Reason != tt.reason {
				t.Errorf("Reason = %s; want %s (err %v)", d.Reason, tt.reason, err)
			}
			var fe *engine.FaultError
			if got := errors.As(err, &fe); got != tt.fault {
				t.Errorf("FaultError = %t; want %t (err %v)", got, tt.fault, err)
			}
			if len(d.Violations) == 0 {
				t.Errorf("a denial names no violation")
			}
		})
	}
}

func TestEvaluateEvidenceFailsClosed(t *testing.T) {
	e := defaultEngine(t)
	other := release
	other.Commit = "0000000000000000000000000000000000000000"
	tests := []struct {
		name     string
		evidence []*evidence.Document
		release  engine.Release
		now      time.Time
		reason   string
		ignored  string
	}{
		{"required evidence missing", deployEvidence(t, "Build"), release, deployAt, engine.ReasonEvidenceMissing, ""},
		{"no evidence at all", nil, release, deployAt, engine.ReasonEvidenceMissing, ""},
		{"bound to another commit", deployEvidence(t), other, deployAt, engine.ReasonEvidenceBinding, "binding.commit"},
		{"stale incident status", deployEvidence(t), release, deployAt.Add(30 * time.Minute), engine.ReasonEvidenceMissing, "freshness.stale"},
		{"evidence from the future", deployEvidence(t), release, deployAt.Add(-2 * time.Hour), engine.ReasonEvidenceMissing, "freshness.future"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := e.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: tt.release, Now: tt.now, Evidence: tt.evidence})
			if err != nil {
				t.Fatalf("Evaluate() error = %v", err)
			}
			if d.Allow || d.Reason != tt.reason {
				t.Fatalf("Evaluate() = allow %t, reason %s; want deny, %s", d.Allow, d.Reason, tt.reason)
			}
			found := tt.ignored == ""
			for _, ig := range d.Ignored {
				found = found || ig.Reason == tt.ignored
			}
			if !found {
				t.Errorf("Ignored = %+v; want one with reason %s", d.Ignored, tt.ignored)
			}
		})
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name string
		rego string
	}{
		{"unknown evidence field", "package shipgate.gates.deploy\n\ndecision := {\"allow\": b.data.nonexistent, \"violations\": [], \"rules\": [\"r\"]} if some b in input.evidence.Build\n"},
		{"network builtin", "package shipgate.gates.deploy\n\ndecision := {\"allow\": http.send({\"method\": \"get\", \"url\": \"http://127.0.0.1\"}).status_code == 200, \"violations\": [], \"rules\": [\"r\"]}\n"},
		{"net lookup", "package shipgate.gates.deploy\n\ndecision := {\"allow\": count(net.lookup_ip_addr(\"localhost\")) > 0, \"violations\": [], \"rules\": [\"r\"]}\n"},
		{"strict: unused variable", "package shipgate.gates.deploy\n\ndecision := {\"allow\": true, \"violations\": [], \"rules\": [\"r\"]} if { x := 1 }\n"},
		{"syntax", "package shipgate.gates.deploy\n\ndecision := {\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := engine.Load(context.Background(), engine.Options{
				Policies: fstest.MapFS{"gates/deploy.rego": {Data: []byte(tt.rego)}}, Data: policytest.MinimalData(t)})
			var pe *engine.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Load() error = %v; want a *PolicyError", err)
			}
		})
	}
}

func TestLoadRejectsUndeclaredRuleFile(t *testing.T) {
	fsys := fstest.MapFS{
		"gates/deploy.rego": {Data: []byte("package shipgate.gates.deploy\n\ndecision := {\"allow\": true, \"violations\": [], \"rules\": [\"r\"]}\n")},
		"rules/x.rego":      {Data: []byte("package shipgate.rules.x\n\nfindings contains {\"rule\": \"x.y\", \"message\": \"m\"} if input.gate == \"deploy\"\n")},
	}
	_, err := engine.Load(context.Background(), engine.Options{Policies: fsys, Data: policytest.MinimalData(t)})
	var pe *engine.PolicyError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "rules/x.rego:3:1: rego_compile_error: package shipgate.rules.x reports findings but declares no rules") {
		t.Fatalf("Load() error = %v; want the undeclared rule file named", err)
	}
}

// The engine is shared by a server's requests and a replay's workers.
func TestEvaluateConcurrently(t *testing.T) {
	e := defaultEngine(t)
	docs := deployEvidence(t)
	want, err := e.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: docs})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for range 5 {
				d, err := e.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: docs})
				if err == nil && (d.Allow != want.Allow || d.Input.Digest != want.Input.Digest) {
					err = errors.New("a concurrent evaluation differs")
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerificationDeadline(t *testing.T) {
	fsys := fstest.MapFS{"gates/deploy.rego": {Data: []byte("package shipgate.gates.deploy\n\ndecision := {\"allow\": true, \"violations\": [], \"rules\": []}\n")}}
	for _, c := range []struct {
		name    string
		data    map[string]any
		want    time.Duration
		wantErr string
	}{
		{"absent", nil, 30 * time.Minute, ""},
		{"set", map[string]any{"deadline": "10m"}, 10 * time.Minute, ""},
		{"not a duration", map[string]any{"deadline": "soon"}, 0, `verification.deadline: want`},
		{"negative", map[string]any{"deadline": "-1m"}, 0, "verification.deadline"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := policytest.MinimalData(t)
			ver := map[string]any{"mandatory_checks": []any{}}
			for k, v := range c.data {
				ver[k] = v
			}
			data["verification"] = ver
			e, err := engine.Load(context.Background(), engine.Options{Policies: fsys, Data: data})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Load() error = %v; want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := e.VerificationDeadline(); got != c.want {
				t.Errorf("VerificationDeadline() = %v; want %v", got, c.want)
			}
		})
	}
	if got := defaultEngine(t).VerificationDeadline(); got != 30*time.Minute {
		t.Errorf("default policies: VerificationDeadline() = %v; want 30m", got)
	}
}
