package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/internal/policytest"
	"github.com/localizevideos/shipgate/server"
	"github.com/localizevideos/shipgate/store"
)

// A pipeline token never records an Approval, an Override or a Hold: every
// route that takes evidence refuses one with 403, signed by the person it
// names or not, and records nothing of the request.
func TestPipelineCannotGrant(t *testing.T) {
	e := newEnv(t)
	pipe := e.tokens[auth.RolePipeline]
	if code, _, b := e.call("POST", "/v1/evidence", pipe, docs(t, "plan.json")); code != http.StatusOK {
		t.Fatalf("add the plan = %d %s", code, b)
	}
	signed := example(t, "approval.json") // alice's, signed with her key
	bare := json.RawMessage(keys.Open(signed))
	override := func() json.RawMessage {
		var m map[string]any
		if err := json.Unmarshal(bare, &m); err != nil {
			t.Fatal(err)
		}
		m["kind"] = "Override"
		m["data"] = map[string]any{"rule": "checklist.error-budget", "approver": "bob", "reason": "the budget is the campaign's",
			"createdAt": "2026-11-26T10:02:00Z", "expiresAt": "2026-11-27T10:02:00Z"}
		b, _ := json.Marshal(m)
		return b
	}()
	before := e.head()
	for _, c := range []struct {
		name, path string
		body       any
	}{
		{"an approval naming alice", "/v1/evidence", bare},
		{"alice's approval signed with her key", "/v1/evidence", signed},
		{"in a batch", "/v1/evidence", docs(t, "incidents.json", "approval.json")},
		{"an override naming bob", "/v1/evidence", override},
		{"in a gate request", "/v1/gates/deploy", gateBody("dec_granted", []json.RawMessage{bare})},
		{"as a postmortem", "/v1/postmortems", map[string]any{"document": bare}},
	} {
		code, _, b := e.call("POST", c.path, pipe, c.body)
		if ae := decode[apiError](t, b); code != http.StatusForbidden || ae.Error.Code != "forbidden" || !strings.Contains(ae.Error.Message, "cannot record an") {
			t.Errorf("%s: %d %s; want 403 forbidden", c.name, code, b)
		}
	}
	if after := e.head(); after != before {
		t.Errorf("refused grants changed the ledger:\n%s\n%s", before, after)
	}
	if _, err := e.db.Decision(context.Background(), "dec_granted"); err == nil {
		t.Error("the refused gate request recorded a decision")
	}
}

// An approval the server records from alice's approver token counts: it
// is signed with the server's key, and the decision names alice, the
// server's key and that the server recorded it. One that reached the
// ledger past the API, naming alice but signed with bob's key, does not.
func TestServerRecordedApprovalCounts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pipe := e.tokens[auth.RolePipeline]
	if code, _, b := e.call("POST", "/v1/evidence", pipe, docs(t, "plan.json", "incidents.json", "build.json", "deploy-requested.json")); code != http.StatusOK {
		t.Fatalf("add evidence = %d %s", code, b)
	}

	// Naming alice, signed by bob's key, written straight to the ledger.
	var m map[string]any
	if err := json.Unmarshal(keys.Open(example(t, "approval.json")), &m); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(m)
	env, err := keys.Signer(keys.BobKey).Seal(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := evidence.NewValidator(mustCompile(t), evidence.DefaultLimits).WithKeys(keys.Keyring()).Decode("forged", env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.AddEvidence(ctx, deployAt, []store.Evidence{gate.StoreEvidence(forged)}); err != nil {
		t.Fatal(err)
	}
	code, _, out := e.call("POST", "/v1/gates/deploy", pipe, gateBody("dec_forged", nil))
	d := decode[engine.Decision](t, out)
	if code != http.StatusOK || d.Allow || !slices.ContainsFunc(d.Violations, func(f engine.Finding) bool { return f.Rule == "approval.required" }) {
		t.Fatalf("alice's approval signed by bob = %d %s; want approval.required", code, out)
	}
	if !slices.ContainsFunc(d.Ignored, func(ig engine.Ignored) bool {
		return ig.Digest == forged.Digest && ig.Reason == engine.ReasonGrantUnauthenticated
	}) {
		t.Errorf("ignored %+v; want the forged approval, %s", d.Ignored, engine.ReasonGrantUnauthenticated)
	}

	alice := e.token("alice", auth.RoleApprover)
	code, _, out = e.call("POST", "/v1/releases/"+releaseID+"/approvals", alice, map[string]string{"note": "CHG-1042 reviewed"})
	if code != http.StatusCreated {
		t.Fatalf("alice approves = %d %s", code, out)
	}
	approval := decode[struct{ Digest string }](t, out).Digest
	code, _, out = e.call("POST", "/v1/gates/deploy", pipe, gateBody("dec_approved", nil))
	if d = decode[engine.Decision](t, out); code != http.StatusOK || !d.Allow {
		t.Fatalf("deploy gate after alice approved = %d %s; want allow", code, out)
	}
	serverID, _ := serverSigner().KeyID()
	want := engine.Grantor{Person: "alice", Key: serverID, Server: true}
	if i := slices.IndexFunc(d.Evidence, func(r engine.EvidenceRef) bool { return r.Digest == approval }); i < 0 || d.Evidence[i].Grantor == nil || *d.Evidence[i].Grantor != want {
		t.Errorf("evidence %+v; want alice's approval authenticated as %+v", d.Evidence, want)
	}
	rec, err := e.db.EvidenceByDigest(ctx, approval)
	if err != nil {
		t.Fatal(err)
	}
	if got := evidence.Signers(rec.Envelope); !slices.Equal(got, []string{serverID}) {
		t.Errorf("the recorded approval is signed by %v; want the server's key %s", got, serverID)
	}
}

// Separation of duties holds when the gate decides, not only when the
// approval is recorded: dave approves with his own approver token before
// any Deploy names him, then deploys; the deploy gate does not count his
// approval.
func TestSelfApprovalDeniedAtDecision(t *testing.T) {
	opts := engineOptions()
	opts.Data = policytest.Data(t)
	opts.Data["approvers"] = []any{"alice", "bob", "carol", "dave"}
	eng, err := engine.Load(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *envOptions) { o.engine = eng })
	pipe := e.tokens[auth.RolePipeline]
	if code, _, b := e.call("POST", "/v1/evidence", pipe, docs(t, "plan.json", "incidents.json", "build.json")); code != http.StatusOK {
		t.Fatalf("add evidence = %d %s", code, b)
	}
	dave := e.token("dave", auth.RoleApprover)
	if code, _, b := e.call("POST", "/v1/releases/"+releaseID+"/approvals", dave, map[string]string{"note": "mine"}); code != http.StatusCreated {
		t.Fatalf("dave approves before deploying = %d %s; the server cannot know yet", code, b)
	}
	code, _, b := e.call("POST", "/v1/gates/deploy", pipe, gateBody("", docs(t, "deploy-requested.json")))
	d := decode[engine.Decision](t, b)
	if code != http.StatusOK || d.Allow || len(d.Violations) != 1 || d.Violations[0].Rule != "approval.required" ||
		!slices.ContainsFunc(d.Ignored, func(ig engine.Ignored) bool { return ig.Kind == "Approval" && ig.Reason == engine.ReasonGrantSelf }) {
		t.Fatalf("deploy gate, dave's own approval = %d %s; want approval.required, the approval ignored as %s", code, b, engine.ReasonGrantSelf)
	}
}

// A server whose engine would not count what it signs is refused: none of
// its approvals would ever count.
func TestServerKeyMustBeAServerKey(t *testing.T) {
	eng, err := engine.Load(context.Background(), engine.Options{Policies: engineOptions().Policies})
	if err != nil {
		t.Fatal(err)
	}
	_, err = server.New(server.Config{Store: newEnv(t).db, Engine: eng, Validator: evidence.NewValidator(mustCompile(t), evidence.DefaultLimits), Signer: serverSigner()})
	if err == nil || !strings.Contains(err.Error(), "no approval the server records would count") {
		t.Errorf("New() = %v; want refused", err)
	}
}
