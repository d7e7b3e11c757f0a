package examples_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/cases"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/replay"
	"github.com/localizevideos/shipgate/schemas"
)

var (
	setupOnce sync.Once
	theGate   *gate.Gate
	setupErr  error
)

// decider builds the engine and the validator once per test binary.
func decider(t *testing.T) *gate.Gate {
	t.Helper()
	setupOnce.Do(func() {
		// The examples run with their data overlay, which trusts the
		// EXAMPLE keys they are signed with.
		base, _, err := replay.ReadData(policies.FS)
		if err != nil {
			setupErr = err
			return
		}
		b, err := os.ReadFile("localizevideos/example-data.yaml")
		if err != nil {
			setupErr = err
			return
		}
		over, err := policyset.ReadData("example-data.yaml", b)
		if err != nil {
			setupErr = err
			return
		}
		eng, err := engine.Load(context.Background(), engine.Options{Policies: policies.FS, Data: policyset.MergeData(base, over)})
		if err != nil {
			setupErr = fmt.Errorf("load policies: %w", err)
			return
		}
		reg, err := schemas.Compile()
		if err != nil {
			setupErr = fmt.Errorf("compile schemas: %w", err)
			return
		}
		theGate = &gate.Gate{Engine: eng, Validator: evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring())}
	})
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	return theGate
}

func observed(d *engine.Decision) cases.Outcome {
	ids := func(fs []engine.Finding) []string {
		out := []string{}
		for _, f := range fs {
			out = append(out, f.Rule)
		}
		return out
	}
	o := cases.Outcome{Allow: d.Allow, Reason: d.Reason,
		Violations: ids(d.Violations), Warnings: ids(d.Warnings), Overridden: ids(d.Overridden)}
	for _, ob := range d.Obligations {
		o.Obligations = append(o.Obligations, ob.Kind)
	}
	for _, ig := range d.Ignored {
		o.Ignored = append(o.Ignored, ig.Reason)
	}
	return o.Sorted()
}

func TestLocalizeVideosExamples(t *testing.T) {
	all, err := cases.Load("localizevideos/evidence")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		t.Run(c.Name, func(t *testing.T) {
			for i, s := range c.Steps {
				t.Run(fmt.Sprintf("%d-%s", i, s.Gate), func(t *testing.T) {
					d, err := decider(t).Decide(context.Background(), gate.Request{
						Gate: s.Gate, Release: engine.Release{ID: c.Release}, EvidencePaths: c.Paths(s), Now: s.Now,
					})
					if err != nil {
						t.Errorf("Decide: %v", err)
					}
					if d == nil {
						t.Fatal("Decide returned no decision")
					}
					if diff := cmp.Diff(s.Expect.Sorted(), observed(d)); diff != "" {
						js, _ := json.MarshalIndent(d, "", "  ")
						t.Errorf("%s (%s)\ndecision mismatch (-want +got):\n%s\ndecision:\n%s", c.Description, c.Dir, diff, js)
					}
				})
			}
		})
	}
}
