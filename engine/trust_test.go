package engine_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/internal/policytest"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policyset"
)

// exampleDoc reads an example document, out of its envelope, as a map to
// edit.
func exampleDoc(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../examples/localizevideos/evidence", path))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(keys.Open(b), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// decodeAs signs m with signer (bare when nil) and decodes it with a
// validator trusting the example keys and extra.
func decodeAs(t *testing.T, m map[string]any, signer *evidence.Signer, extra ...ed25519.PublicKey) *evidence.Document {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if signer != nil {
		if b, err = signer.Seal(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	ring := keys.Keyring()
	for _, k := range extra {
		ring.Add(k)
	}
	d, err := validator(t).WithKeys(ring).Decode(m["kind"].(string), b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// trustEngine is the default policy set with the data edited by edit,
// alice and bob bound to their EXAMPLE keys, and servers as server keys.
func trustEngine(t *testing.T, servers map[string]string, edit func(data map[string]any)) *engine.Engine {
	t.Helper()
	b, err := os.ReadFile("../policies/shipgate/config/data.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := policyset.ReadData("data.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(data)
	}
	e, err := engine.Load(context.Background(), engine.Options{Policies: policies.FS, Data: data, People: keys.People(), ServerKeys: servers})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func ignoredReasons(d *engine.Decision) []string {
	var out []string
	for _, ig := range d.Ignored {
		out = append(out, ig.Kind+" "+ig.Reason)
	}
	return out
}

func violatedRules(d *engine.Decision) []string {
	var out []string
	for _, v := range d.Violations {
		out = append(out, v.Rule)
	}
	return out
}

// approvalBy is the allowed release's approval, recorded by collector as
// actor, naming approver.
func approvalBy(t *testing.T, approver, collector, actor string) map[string]any {
	m := exampleDoc(t, "allowed/approval.json")
	m["collector"] = map[string]any{"name": collector, "actor": actor}
	m["data"].(map[string]any)["approver"] = approver
	return m
}

// An Approval, Override or Hold counts only when it is authenticated as
// the person it names: by that person's key, or by a shipgate server's
// key on what the server recorded from that person's token. A pipeline's
// key, another person's key or no signature does not grant.
func TestGrantsComeFromGrantors(t *testing.T) {
	server := signingKey("server")
	serverID := evidence.KeyID(server.Public().(ed25519.PublicKey))
	pipeline := keys.Signer(keys.EvidenceKey)
	eng := trustEngine(t, map[string]string{serverID: "test server"}, nil)
	withoutApproval := deployEvidence(t, "Approval")
	tests := []struct {
		name    string
		grant   *evidence.Document
		allow   bool
		grantor *engine.Grantor
		why     string
	}{
		{"alice's approval signed by alice's key", decodeAs(t, approvalBy(t, "alice", "manual", "alice"), keys.Signer(keys.AliceKey)),
			true, &engine.Grantor{Person: "alice", Key: keys.ID(keys.AliceKey)}, ""},
		{"recorded by the server from alice's token", decodeAs(t, approvalBy(t, "alice", engine.ServerCollector, "alice"), evidence.NewSigner(server), server.Public().(ed25519.PublicKey)),
			true, &engine.Grantor{Person: "alice", Key: serverID, Server: true}, ""},
		{"unsigned, naming alice", decodeAs(t, approvalBy(t, "alice", "manual", "alice"), nil),
			false, nil, `names approver "alice" but is not signed`},
		{"naming alice, signed by bob's key", decodeAs(t, approvalBy(t, "alice", "manual", "alice"), keys.Signer(keys.BobKey)),
			false, nil, `authenticated as bob's key`},
		{"naming alice, signed by the pipeline's key", decodeAs(t, approvalBy(t, "alice", "manual", "ci-bot"), pipeline),
			false, nil, "a key that speaks for no person"},
		{"the server recorded bob's token, naming alice", decodeAs(t, approvalBy(t, "alice", engine.ServerCollector, "bob"), evidence.NewSigner(server), server.Public().(ed25519.PublicKey)),
			false, nil, "a shipgate server"},
		{"the server's key on what the server did not record", decodeAs(t, approvalBy(t, "alice", "manual", "alice"), evidence.NewSigner(server), server.Public().(ed25519.PublicKey)),
			false, nil, "a key that speaks for no person"},
		{"a pipeline posing as the server", decodeAs(t, approvalBy(t, "alice", engine.ServerCollector, "alice"), pipeline),
			false, nil, "a key that speaks for no person"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := eng.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: release, Now: deployAt,
				Evidence: append(slices.Clone(withoutApproval), tt.grant)})
			if err != nil {
				t.Fatal(err)
			}
			if d.Allow != tt.allow {
				t.Fatalf("allow = %t; want %t (violations %v, ignored %v)", d.Allow, tt.allow, violated(d), ignoredReasons(d))
			}
			var ref *engine.EvidenceRef
			for i := range d.Evidence {
				if d.Evidence[i].Digest == tt.grant.Digest {
					ref = &d.Evidence[i]
				}
			}
			if tt.allow {
				if ref == nil || ref.Grantor == nil || *ref.Grantor != *tt.grantor {
					t.Errorf("evidence %+v; want the approval counted, authenticated as %+v", ref, tt.grantor)
				}
				return
			}
			if ref != nil {
				t.Errorf("the approval counted: %+v", ref)
			}
			if !slices.Equal(ignoredReasons(d), []string{"Approval " + engine.ReasonGrantUnauthenticated}) {
				t.Errorf("ignored %v; want the approval, %s", ignoredReasons(d), engine.ReasonGrantUnauthenticated)
			} else if !strings.Contains(d.Ignored[0].Message, tt.why) {
				t.Errorf("ignored because %q; want it to say %q", d.Ignored[0].Message, tt.why)
			}
			if !slices.Equal(violatedRules(d), []string{"approval.required"}) {
				t.Errorf("violations %v; want approval.required", violated(d))
			}
		})
	}
}

// An Override from a pipeline does not lift the spent error budget; bob's,
// signed with his key, does.
func TestOverrideNeedsItsApprover(t *testing.T) {
	eng := trustEngine(t, nil, nil)
	plan := decodeAs(t, exampleDoc(t, "override-error-budget/plan.json"), nil)
	var docs []*evidence.Document
	for _, d := range deployEvidence(t) {
		if d.Kind != "Plan" {
			docs = append(docs, d)
		}
	}
	docs = append(docs, plan)
	ovr := exampleDoc(t, "override-error-budget/override.json")
	for _, tt := range []struct {
		name   string
		signer *evidence.Signer
		lifted bool
	}{
		{"bob's key", keys.Signer(keys.BobKey), true},
		{"unsigned", nil, false},
		{"the pipeline's key", keys.Signer(keys.EvidenceKey), false},
		{"alice's key", keys.Signer(keys.AliceKey), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := eng.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: release, Now: deployAt,
				Evidence: append(slices.Clone(docs), decodeAs(t, ovr, tt.signer))})
			if err != nil {
				t.Fatal(err)
			}
			if tt.lifted {
				if !d.Allow || len(d.Overridden) != 1 || d.Overridden[0].Rule != "checklist.error-budget" {
					t.Errorf("allow %t, overridden %v; want checklist.error-budget overridden", d.Allow, d.Overridden)
				}
				return
			}
			if d.Allow || !slices.Equal(violatedRules(d), []string{"checklist.error-budget"}) || len(d.Overridden) != 0 {
				t.Errorf("allow %t, violations %v, overridden %v; want checklist.error-budget denied", d.Allow, violated(d), d.Overridden)
			}
			if !slices.Equal(ignoredReasons(d), []string{"Override " + engine.ReasonGrantUnauthenticated}) {
				t.Errorf("ignored %v", ignoredReasons(d))
			}
		})
	}
}

// Separation of duties holds when the gate decides: dave approved with his
// own approver token before his Deploy was recorded, and the deploy gate
// still does not count his approval.
func TestSelfApprovalAtDecisionTime(t *testing.T) {
	server := signingKey("server")
	serverID := evidence.KeyID(server.Public().(ed25519.PublicKey))
	eng := trustEngine(t, map[string]string{serverID: "test server"}, func(data map[string]any) {
		data["approvers"] = []any{"alice", "bob", "carol", "dave"}
	})
	own := decodeAs(t, approvalBy(t, "dave", engine.ServerCollector, "dave"), evidence.NewSigner(server), server.Public().(ed25519.PublicKey))
	d, err := eng.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: release, Now: deployAt,
		Evidence: append(deployEvidence(t, "Approval"), own)})
	if err != nil {
		t.Fatal(err)
	}
	if d.Allow || !slices.Equal(violatedRules(d), []string{"approval.required"}) {
		t.Fatalf("allow %t, violations %v; want approval.required", d.Allow, violated(d))
	}
	if !slices.Equal(ignoredReasons(d), []string{"Approval " + engine.ReasonGrantSelf}) || !strings.Contains(d.Ignored[0].Message, "authenticated as dave, who makes the change") {
		t.Errorf("ignored %v (%v); want dave's approval, %s", ignoredReasons(d), d.Ignored, engine.ReasonGrantSelf)
	}
	// Named in another case, the same person still approves his own deploy.
	mixed := approvalBy(t, "Dave", engine.ServerCollector, "Dave")
	own = decodeAs(t, mixed, evidence.NewSigner(server), server.Public().(ed25519.PublicKey))
	d, err = eng.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: release, Now: deployAt,
		Evidence: append(deployEvidence(t, "Approval"), own)})
	if err != nil {
		t.Fatal(err)
	}
	if d.Allow || !slices.Equal(ignoredReasons(d), []string{"Approval " + engine.ReasonGrantSelf}) {
		t.Errorf("Dave approving dave's deploy: allow %t, ignored %v; want %s", d.Allow, ignoredReasons(d), engine.ReasonGrantSelf)
	}
}

// verifyEvidence is the allowed release's evidence at the verify gate but
// its Verification.
func verifyEvidence(t *testing.T) []*evidence.Document {
	t.Helper()
	deployed, err := validator(t).LoadPaths([]string{filepath.Join(allowedDir, "deploy.json")})
	if err != nil {
		t.Fatal(err)
	}
	return append(deployEvidence(t), deployed...)
}

// What shipgate records itself counts only when signed by a key the
// installation trusts: a hand-written all-passed Verification does not
// make the verify gate allow, unless the data turns signing off, which the
// decision records.
func TestSignedByDefault(t *testing.T) {
	verifyAt := deployAt.Add(7 * 60e9)
	laptop := signingKey("laptop")
	pinned := func(data map[string]any) {
		data["signing"].(map[string]any)["trusted_keys"] = map[string]any{keys.ID(keys.EvidenceKey): "example CI"}
	}
	off := func(data map[string]any) { data["signing"].(map[string]any)["required"] = false }
	tests := []struct {
		name    string
		eng     *engine.Engine
		signer  *evidence.Signer
		extra   []ed25519.PublicKey
		allow   bool
		ignored []string
		off     bool
	}{
		{"signed by the example pipeline key", trustEngine(t, nil, nil), keys.Signer(keys.EvidenceKey), nil, true, nil, false},
		{"hand-written, unsigned", trustEngine(t, nil, nil), nil, nil, false, []string{"Verification " + engine.ReasonSignatureMissing}, false},
		{"signed by a trusted key not pinned", trustEngine(t, nil, pinned), evidence.NewSigner(laptop), []ed25519.PublicKey{laptop.Public().(ed25519.PublicKey)},
			false, []string{"Verification " + engine.ReasonSignatureUntrusted}, false},
		{"signed by the pinned key", trustEngine(t, nil, pinned), keys.Signer(keys.EvidenceKey), nil, true, nil, false},
		{"unsigned, signing off", trustEngine(t, nil, off), nil, nil, true, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := append(verifyEvidence(t), decodeAs(t, exampleDoc(t, "allowed/verification.json"), tt.signer, tt.extra...))
			d, err := tt.eng.Evaluate(context.Background(), engine.Input{Gate: "verify", Release: release, Now: verifyAt, Evidence: docs})
			if err != nil {
				t.Fatal(err)
			}
			if d.Allow != tt.allow || d.SigningOff != tt.off {
				t.Fatalf("allow %t, signingOff %t; want %t, %t (violations %v, ignored %v)", d.Allow, d.SigningOff, tt.allow, tt.off, violated(d), ignoredReasons(d))
			}
			if !slices.Equal(ignoredReasons(d), tt.ignored) {
				t.Errorf("ignored %v; want %v", ignoredReasons(d), tt.ignored)
			}
			if !tt.allow && !slices.Contains(violatedRules(d), "verify.mandatory-checks") {
				t.Errorf("violations %v; want verify.mandatory-checks", violated(d))
			}
		})
	}
}

// The input marks each grant that counted with the person it is
// authenticated as.
func TestAuthenticatedAsInInput(t *testing.T) {
	b, err := defaultEngine(t).InputDocument(engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: deployEvidence(t)})
	if err != nil {
		t.Fatal(err)
	}
	var in struct {
		Evidence struct {
			Approval []map[string]any `json:"Approval"`
			Build    []map[string]any `json:"Build"`
		} `json:"evidence"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Evidence.Approval) != 1 || in.Evidence.Approval[0]["authenticated_as"] != "alice" {
		t.Errorf("Approval = %v; want it authenticated_as alice", in.Evidence.Approval)
	}
	if _, ok := in.Evidence.Build[0]["authenticated_as"]; ok {
		t.Errorf("a Build is marked authenticated_as")
	}
}

// Signing data that cannot be right refuses the policy set.
func TestSigningDataChecked(t *testing.T) {
	for _, tt := range []struct {
		name    string
		signing map[string]any
		want    string
	}{
		// The data schema refuses what is no key id, before the engine reads it.
		{"a key id that is not one", map[string]any{"people": map[string]any{"alice": []any{"alice.pub"}}}, "signing.people.alice[0]: want a string matching"},
		{"one key, two people", map[string]any{"people": map[string]any{"alice": []any{keys.ID(keys.AliceKey)}, "bob": []any{keys.ID(keys.AliceKey)}}}, "bound to both"},
		{"a server key that signs for a person", map[string]any{"servers": map[string]any{keys.ID(keys.AliceKey): "s"}, "people": map[string]any{"alice": []any{keys.ID(keys.AliceKey)}}}, "is a server's"},
		{"required is not a boolean", map[string]any{"required": "no"}, "signing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := engine.Load(context.Background(), engine.Options{Policies: policies.FS, Data: policyset.MergeData(policytest.Data(t), map[string]any{"signing": tt.signing})})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load() = %v; want an error saying %q", err, tt.want)
			}
		})
	}
}
