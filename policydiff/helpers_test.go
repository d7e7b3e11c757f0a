package policydiff_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/schemas"
)

// The release, time and evidence of the engine's tests: the example
// application's allowed release at the deploy gate, and a denied one.

const allowedDir = "../examples/localizevideos/evidence/allowed"

var (
	release = engine.Release{ID: "lv-2026-11-26.1", Service: "localizevideos-app", Environment: "production",
		Commit: "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"}
	deployAt = time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)
)

func validator(t testing.TB) *evidence.Validator {
	t.Helper()
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	// The example evidence is signed with the EXAMPLE keys.
	return evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring())
}

// benchCases are the allowed release and a denied one (open SEV-1, and the
// wrong deploy command) at the deploy gate.
func benchCases(t testing.TB) map[string][]*evidence.Document {
	t.Helper()
	var paths []string
	for _, f := range []string{"plan.json", "incidents.json", "build.json", "deploy-requested.json", "approval.json"} {
		paths = append(paths, filepath.Join(allowedDir, f))
	}
	allowed, err := validator(t).LoadPaths(paths)
	if err != nil {
		t.Fatal(err)
	}
	denied, err := validator(t).LoadPaths([]string{"../examples/localizevideos/evidence/incident-sev1/incidents.json",
		"../examples/localizevideos/evidence/wrong-command/deploy-requested.json"})
	if err != nil {
		t.Fatal(err)
	}
	var rest []*evidence.Document
	for _, d := range allowed {
		if d.Kind != "IncidentStatus" && d.Kind != "Deploy" {
			rest = append(rest, d)
		}
	}
	return map[string][]*evidence.Document{"allowed": allowed, "denied": append(rest, denied...)}
}

// defaultEngine is the default policy set, with alice and bob bound to
// their EXAMPLE keys, as the example evidence needs.
func defaultEngine(t testing.TB) *engine.Engine {
	t.Helper()
	e, err := engine.Load(context.Background(), engine.Options{Policies: policies.FS, People: keys.People()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func reportCPU(b *testing.B, cpu time.Duration) {
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
