package engine_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/policies"
)

// The policies deny when their data is absent (issue #14): the .rego files
// of the default set evaluated by upstream OPA alone, without data.yaml (as
// `opa eval -d policies/shipgate/lib -d policies/shipgate/rules -d policies/shipgate/gates` would), do
// not allow a release with an open SEV-1, nor any other.
func TestPoliciesWithoutDataDeny(t *testing.T) {
	ctx := context.Background()
	var opts []func(*rego.Rego)
	err := fs.WalkDir(policies.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".rego") || strings.HasSuffix(path, "_test.rego") {
			return err
		}
		b, err := fs.ReadFile(policies.FS, path)
		if err != nil {
			return err
		}
		opts = append(opts, rego.Module(path, string(b)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e := defaultEngine(t)
	v := validator(t)
	sev1 := slices.DeleteFunc(deployEvidence(t), func(d *evidence.Document) bool { return d.Kind == "IncidentStatus" })
	sev1 = append(sev1, readExample(t, v, "incident-sev1/incidents.json", nil))
	for _, tc := range []struct {
		name string
		gate string
		docs []*evidence.Document
	}{
		{"an open SEV-1", "deploy", sev1},
		{"the allowed release", "deploy", deployEvidence(t)},
		{"the allowed release at verify", "verify", deployEvidence(t)},
		{"the allowed release at complete", "complete", deployEvidence(t)},
		{"the allowed release at flag", "flag", deployEvidence(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := engine.Input{Gate: tc.gate, Release: release, Now: deployAt, Evidence: tc.docs}
			doc, err := e.InputDocument(in)
			if err != nil {
				t.Fatal(err)
			}
			var input map[string]any
			if err := json.Unmarshal(doc, &input); err != nil {
				t.Fatal(err)
			}
			if with, _ := e.Evaluate(ctx, in); tc.name == "the allowed release" && !with.Allow {
				t.Fatalf("with its data the allowed release is denied: %v", ruleIDs(with.Violations))
			}
			rs, err := rego.New(append(slices.Clone(opts),
				rego.Query("data.shipgate.gates."+tc.gate+".decision"),
				rego.Input(input),
				rego.SetRegoVersion(ast.RegoV1),
			)...).Eval(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 1 {
				t.Fatalf("decision: %d results; want 1", len(rs))
			}
			decision := rs[0].Expressions[0].Value.(map[string]any)
			var rules []string
			for _, v := range decision["violations"].([]any) {
				rules = append(rules, v.(map[string]any)["rule"].(string))
			}
			if decision["allow"] != false || !slices.Contains(rules, "policy.data-missing") {
				t.Errorf("without data: allow %v, violations %v; want a denial by policy.data-missing", decision["allow"], rules)
			}
		})
	}
}
