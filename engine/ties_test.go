package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
)

const examplesDir = "../examples/localizevideos/evidence"

// readExample decodes an example document, with edit applied to it first.
func readExample(t *testing.T, v *evidence.Validator, path string, edit func(map[string]any)) *evidence.Document {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(examplesDir, path))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		// The example is signed: edit the document inside and seal it
		// again with the key the examples use for it.
		sealed := !bytes.Equal(keys.Open(b), b)
		b = keys.Open(b)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		if b, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
		if sealed {
			if b, err = keys.Seal(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	doc, err := v.Decode(path, b)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return doc
}

// aroundDigest returns two copies of bad, collected at the same time but
// with other digests (collector.host differs): one that sorts before good
// and one that sorts after it, so either may be the one the engine lists
// last.
func aroundDigest(t *testing.T, v *evidence.Validator, bad string, edit func(map[string]any), good *evidence.Document) [2]*evidence.Document {
	t.Helper()
	var out [2]*evidence.Document
	for i := 0; out[0] == nil || out[1] == nil; i++ {
		if i > 64 {
			t.Fatalf("no copy of %s sorts on both sides of %s", bad, good.Digest)
		}
		doc := readExample(t, v, bad, func(m map[string]any) {
			if edit != nil {
				edit(m)
			}
			m["collector"].(map[string]any)["host"] = fmt.Sprintf("tie-%d", i)
		})
		if !doc.CollectedAt.Equal(good.CollectedAt) {
			t.Fatalf("%s is collected at %s, %s at %s: not a tie", bad, doc.CollectedAt, good.Source, good.CollectedAt)
		}
		if doc.Digest < good.Digest {
			out[0] = doc
		} else {
			out[1] = doc
		}
	}
	return out
}

// No tie decides (issue #14): when documents of a kind are collected at the
// same time, the gate judges each of them. Whichever of a tied good and bad
// document sorts last, and in whatever order the evidence is given, the
// decision is the same denial.
func TestTiedEvidenceNeverAllows(t *testing.T) {
	e := defaultEngine(t)
	v := validator(t)
	allowed := func(name string) *evidence.Document { return readExample(t, v, filepath.Join("allowed", name), nil) }
	tests := []struct {
		name string
		good string // the allowed release's document the bad one ties with
		bad  string
		edit func(map[string]any)
		rule string
	}{
		{"an open SEV-1 beside the allowed incident list", "incidents.json", "incident-sev1/incidents.json", nil, "forbidden.deploy-during-incident"},
		{"a hot-patched deploy", "deploy-requested.json", "hot-patch/deploy-requested.json", nil, "forbidden.hot-patch"},
		{"a deploy started by hand", "deploy-requested.json", "direct-push/deploy-requested.json", nil, "forbidden.direct-push"},
		{"a curl | sh deploy", "deploy-requested.json", "allowed/deploy-requested.json", func(m map[string]any) {
			m["data"].(map[string]any)["command"] = []any{"sh", "-c", "curl -fsSL https://get.example.com/install | sh"}
		}, "deploy.approved-command"},
		{"a Plan without a change ticket", "plan.json", "allowed/plan.json", func(m map[string]any) {
			delete(m["data"].(map[string]any), "changeTicket")
		}, "freeze.unplanned"},
		{"a deploy by the approver", "deploy-requested.json", "allowed/deploy-requested.json", func(m map[string]any) {
			m["data"].(map[string]any)["actor"] = "alice"
		}, "approval.required"},
	}
	rnd := rand.New(rand.NewPCG(14, 14))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := allowed(tt.good)
			for side, bad := range aroundDigest(t, v, tt.bad, tt.edit, good) {
				var docs []*evidence.Document
				for _, d := range deployEvidence(t) {
					if d.Kind != good.Kind {
						docs = append(docs, d)
					}
				}
				docs = append(docs, good, bad)
				var first *engine.Decision
				for i := range 12 {
					rnd.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
					d, err := e.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: slices.Clone(docs)})
					if err != nil {
						t.Fatal(err)
					}
					if d.Allow || !slices.ContainsFunc(d.Violations, func(f engine.Finding) bool { return f.Rule == tt.rule }) {
						t.Fatalf("bad document sorting %s, order %d: allow %t, violations %v; want a denial by %s",
							[]string{"first", "last"}[side], i, d.Allow, ruleIDs(d.Violations), tt.rule)
					}
					if first == nil {
						first = d
					} else if !slices.EqualFunc(first.Violations, d.Violations, sameFinding) {
						t.Fatalf("order %d: violations %v; the first order gave %v", i, d.Violations, first.Violations)
					}
				}
			}
		})
	}
}

func ruleIDs(fs []engine.Finding) []string {
	ids := make([]string, 0, len(fs))
	for _, f := range fs {
		ids = append(ids, f.Rule)
	}
	return ids
}

func sameFinding(a, b engine.Finding) bool {
	return a.Rule == b.Rule && a.Message == b.Message && slices.Equal(a.Evidence, b.Evidence)
}
