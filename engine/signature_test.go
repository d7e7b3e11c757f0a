package engine_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/internal/policytest"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policyset"
)

func signingKey(name string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte(name))
	return ed25519.NewKeyFromSeed(s[:])
}

// signingEngine is the default policy set with the rule signature.required
// on for Build and Deploy, trusting the keys pinned (any verified key when
// none). The engine's own check (signing.required) is off, so that the rule
// sees the unsigned documents it reports; alice's approval counts with her
// EXAMPLE key.
func signingEngine(t *testing.T, pinned ...string) *engine.Engine {
	t.Helper()
	b, err := os.ReadFile("../policies/shipgate/config/data.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := policyset.ReadData("data.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	trusted := map[string]any{}
	for _, id := range pinned {
		trusted[id] = "test"
	}
	data["signing"] = map[string]any{"required": false, "required_kinds": []any{"Build", "Deploy"}, "trusted_keys": trusted}
	e, err := engine.Load(context.Background(), engine.Options{Policies: policies.FS, Data: data, People: keys.People()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// signedDeployEvidence is deployEvidence with Build and Deploy sealed in
// DSSE envelopes by key and decoded by a validator trusting trust.
func signedDeployEvidence(t *testing.T, key ed25519.PrivateKey, trust ...ed25519.PrivateKey) []*evidence.Document {
	t.Helper()
	ring := keys.Keyring()
	for _, k := range trust {
		ring.Add(k.Public().(ed25519.PublicKey))
	}
	v := validator(t).WithKeys(ring)
	var docs []*evidence.Document
	for _, f := range []string{"plan.json", "incidents.json", "build.json", "deploy-requested.json", "approval.json"} {
		b, err := os.ReadFile(filepath.Join(allowedDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "build.json" || f == "deploy-requested.json" {
			if b, err = evidence.NewSigner(key).Seal(context.Background(), keys.Open(b)); err != nil {
				t.Fatal(err)
			}
		}
		d, err := v.Decode(f, b)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	return docs
}

// bareDeployEvidence is deployEvidence with the Build and the Deploy taken
// out of their envelopes (alice's approval stays signed).
func bareDeployEvidence(t *testing.T) []*evidence.Document {
	t.Helper()
	v := validator(t)
	var docs []*evidence.Document
	for _, f := range []string{"plan.json", "incidents.json", "build.json", "deploy-requested.json", "approval.json"} {
		b, err := os.ReadFile(filepath.Join(allowedDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "build.json" || f == "deploy-requested.json" {
			b = keys.Open(b)
		}
		d, err := v.Decode(f, b)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	return docs
}

func violated(d *engine.Decision) []string {
	var out []string
	for _, v := range d.Violations {
		out = append(out, v.Rule+": "+v.Message)
	}
	return out
}

func TestSignatureRequired(t *testing.T) {
	ci, laptop := signingKey("ci"), signingKey("laptop")
	ciID := evidence.KeyID(ci.Public().(ed25519.PublicKey))
	tests := []struct {
		name     string
		eng      *engine.Engine
		docs     []*evidence.Document
		allow    bool
		messages []string
	}{
		{"unsigned Build and Deploy", signingEngine(t), bareDeployEvidence(t), false,
			[]string{"signature.required: Build ", "signature.required: Deploy "}},
		{"signed by a verified key", signingEngine(t), signedDeployEvidence(t, ci, ci), true, nil},
		{"signed by the pinned key", signingEngine(t, ciID), signedDeployEvidence(t, ci, ci, laptop), true, nil},
		{"signed by a verified key that is not pinned", signingEngine(t, ciID), signedDeployEvidence(t, laptop, ci, laptop), false,
			[]string{"signature.required: Build ", "signature.required: Deploy "}},
		// The bare copy of a signed document does not unsign it: the
		// document is the same, and one copy carried a verified signature.
		{"bare copy beside the signed one", signingEngine(t), append(bareDeployEvidence(t), signedDeployEvidence(t, ci, ci)...), true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.eng.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: tt.docs})
			if err != nil {
				t.Fatal(err)
			}
			if d.Allow != tt.allow {
				t.Fatalf("allow = %t; want %t; violations %v", d.Allow, tt.allow, violated(d))
			}
			got := violated(d)
			if len(got) != len(tt.messages) {
				t.Fatalf("violations %v; want %d", got, len(tt.messages))
			}
			for i, m := range tt.messages {
				if !strings.HasPrefix(got[i], m) {
					t.Errorf("violation %q; want it to start %q", got[i], m)
				}
			}
		})
	}
}

// The input names each document's verified signers, and the input digest
// commits to them, so that a replay sees the same signatures; an unsigned
// input keeps the digest it had before signatures existed.
func TestSignedByInInput(t *testing.T) {
	ci := signingKey("ci")
	eng := defaultEngine(t)
	signed := signedDeployEvidence(t, ci, ci)
	b, err := eng.InputDocument(engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: signed})
	if err != nil {
		t.Fatal(err)
	}
	var in struct {
		Evidence map[string][]struct {
			Kind     string   `json:"kind"`
			SignedBy []string `json:"signed_by"`
		} `json:"evidence"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"Build":    {evidence.KeyID(ci.Public().(ed25519.PublicKey))},
		"Deploy":   {evidence.KeyID(ci.Public().(ed25519.PublicKey))},
		"Approval": {keys.ID(keys.AliceKey)},
	}
	for kind, docs := range in.Evidence {
		for _, d := range docs {
			if w, ok := want[kind]; ok && !slices.Equal(d.SignedBy, w) || !ok && (d.SignedBy == nil || len(d.SignedBy) != 0) {
				t.Errorf("%s signed_by = %v", kind, d.SignedBy)
			}
		}
	}
	ds, err := eng.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: signed})
	if err != nil {
		t.Fatal(err)
	}
	du, err := signingEngine(t).Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: bareDeployEvidence(t)})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Input.Digest == du.Input.Digest {
		t.Errorf("signed and unsigned inputs share the digest %s", ds.Input.Digest)
	}
}

// signed_by is declared in the input schema: a policy reading it compiles,
// a policy reading a misspelling of it does not.
func TestSignedByTypeChecked(t *testing.T) {
	const tmpl = "package shipgate.gates.deploy\n\nsigned if {\n\tsome id in input.evidence.Build[_].%s\n\tstartswith(id, \"sha256:\")\n}\n\n" +
		"default signed := false\n\ndecision := {\"allow\": signed, \"violations\": [], \"rules\": [\"r\"]}\n"
	load := func(field string) error {
		fsys := fstest.MapFS{"gates/deploy.rego": {Data: []byte(fmt.Sprintf(tmpl, field))}}
		_, err := engine.Load(context.Background(), engine.Options{Policies: fsys, Data: policytest.MinimalData(t)})
		return err
	}
	if err := load("signed_by"); err != nil {
		t.Errorf("a policy reading signed_by: %v", err)
	}
	if err := load("signed_bye"); err == nil || !strings.Contains(err.Error(), "undefined ref") {
		t.Errorf("a policy reading signed_bye: %v; want a type error", err)
	}
}
