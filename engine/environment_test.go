package engine_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
)

// Declared environments (issue #14): evidence relabelled Production or prod
// would skip the freeze of production; the release is denied instead, and
// evidence of another spelling than the release's does not count.
func TestRelabelledEnvironmentDenies(t *testing.T) {
	e := defaultEngine(t)
	v := validator(t)
	relabelled := func(env string) []*evidence.Document {
		var docs []*evidence.Document
		for _, f := range []string{"plan.json", "incidents.json", "build.json", "deploy-requested.json", "approval.json"} {
			docs = append(docs, readExample(t, v, filepath.Join("allowed", f), func(m map[string]any) {
				m["release"].(map[string]any)["environment"] = env
			}))
		}
		return docs
	}
	for _, env := range []string{"Production", "prod", "PRODUCTION"} {
		rel := release
		rel.Environment = env
		d, err := e.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: rel, Now: deployAt, Evidence: relabelled(env)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Allow || !slices.Contains(ruleIDs(d.Violations), "release.environment-undeclared") {
			t.Errorf("release to %q: allow %t, violations %v; want release.environment-undeclared", env, d.Allow, ruleIDs(d.Violations))
		}
		// Gated as production, the relabelled evidence does not count.
		d, err = e.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: relabelled(env)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Allow || len(d.Ignored) != 5 || d.Ignored[0].Reason != "binding.environment" {
			t.Errorf("evidence of %q gated as production: allow %t, ignored %v; want every document ignored", env, d.Allow, d.Ignored)
		}
	}
}
