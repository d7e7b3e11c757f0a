package policyset_test

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
// application's allowed release at the deploy gate.

const allowedDir = "../examples/localizevideos/evidence/allowed"

var (
	release = engine.Release{ID: "lv-2026-11-26.1", Service: "localizevideos-app", Environment: "production",
		Commit: "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"}
	deployAt = time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)
)

// deployEvidence is the allowed release's evidence at the deploy gate.
func deployEvidence(t testing.TB) []*evidence.Document {
	t.Helper()
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range []string{"plan.json", "incidents.json", "build.json", "deploy-requested.json", "approval.json"} {
		paths = append(paths, filepath.Join(allowedDir, f))
	}
	// The example evidence is signed with the EXAMPLE keys.
	docs, err := evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring()).LoadPaths(paths)
	if err != nil {
		t.Fatal(err)
	}
	return docs
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

// shippedEngine is the default policy set as shipped, its data untouched.
func shippedEngine(t testing.TB) *engine.Engine {
	t.Helper()
	e, err := engine.Load(context.Background(), engine.Options{Policies: policies.FS})
	if err != nil {
		t.Fatal(err)
	}
	return e
}
