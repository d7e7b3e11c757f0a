// Package enginetest holds what the tests of the engine and of the packages
// beside it (policyset, policydiff) share: the example application's
// release at the deploy gate, its signed evidence, and the default policy
// set loaded as the example needs it.
package enginetest

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/schemas"
)

var (
	// Release is the example application's release of the evidence.
	Release = engine.Release{ID: "lv-2026-11-26.1", Service: "localizevideos-app", Environment: "production",
		Commit: "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"}
	// DeployAt is when the example evidence asks the deploy gate.
	DeployAt = time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)
)

// EvidenceDir is the example evidence directory, whatever the test's
// working directory.
var EvidenceDir = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", "localizevideos", "evidence")
}()

// Validator validates evidence with the evidence schemas, trusting the
// EXAMPLE keys the example evidence is signed with.
func Validator(t testing.TB) *evidence.Validator {
	t.Helper()
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring())
}

// DeployEvidence is the allowed release's evidence at the deploy gate,
// without the kinds named in skip.
func DeployEvidence(t testing.TB, skip ...string) []*evidence.Document {
	t.Helper()
	var paths []string
	for _, f := range []string{"plan.json", "incidents.json", "build.json", "deploy-requested.json", "approval.json"} {
		paths = append(paths, filepath.Join(EvidenceDir, "allowed", f))
	}
	docs, err := Validator(t).LoadPaths(paths)
	if err != nil {
		t.Fatal(err)
	}
	out := docs[:0]
	for _, d := range docs {
		keep := true
		for _, k := range skip {
			keep = keep && d.Kind != k
		}
		if keep {
			out = append(out, d)
		}
	}
	return out
}

// BenchCases are the allowed release and a denied one (open SEV-1, and the
// wrong deploy command) at the deploy gate.
func BenchCases(t testing.TB) map[string][]*evidence.Document {
	t.Helper()
	denied, err := Validator(t).LoadPaths([]string{filepath.Join(EvidenceDir, "incident-sev1", "incidents.json"),
		filepath.Join(EvidenceDir, "wrong-command", "deploy-requested.json")})
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]*evidence.Document{
		"allowed": DeployEvidence(t),
		"denied":  append(DeployEvidence(t, "IncidentStatus", "Deploy"), denied...),
	}
}

// DefaultEngine is the default policy set, with alice and bob bound to
// their EXAMPLE keys, as the example evidence needs.
func DefaultEngine(t testing.TB) *engine.Engine {
	t.Helper()
	e, err := engine.Load(context.Background(), engine.Options{Policies: policies.FS, People: keys.People()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// ShippedEngine is the default policy set as shipped, its data untouched.
func ShippedEngine(t testing.TB) *engine.Engine {
	t.Helper()
	e, err := engine.Load(context.Background(), engine.Options{Policies: policies.FS})
	if err != nil {
		t.Fatal(err)
	}
	return e
}
