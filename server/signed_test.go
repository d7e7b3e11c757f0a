package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"github.com/localizevideos/shipgate/api"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/server"
)

// trusting returns e served again, on the same ledger, by a server whose
// validator trusts keys (as shipgate serve --trusted-key does).
func trusting(t *testing.T, e *env, keys ...ed25519.PublicKey) *env {
	t.Helper()
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	v := evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(evidence.NewKeyring(keys...))
	srv, err := server.New(server.Config{Store: e.db, Engine: loadEngine(t), Validator: v, Signer: serverSigner(), Clock: e.clock.Now, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e2 := *e
	e2.srv, e2.http = srv, hs
	return &e2
}

func newKey(t *testing.T) (ed25519.PublicKey, *evidence.Signer) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, evidence.NewSigner(priv)
}

// Signed evidence goes over the API as its DSSE envelope: a trusted
// signature is verified and the envelope kept in the ledger beside the
// document, in a batch, a gate request and a postmortem alike; an
// envelope by a key the server does not trust, or whose signature does
// not verify, is 400 naming the pointer, and nothing is recorded.
func TestSignedEvidence(t *testing.T) {
	ctx := context.Background()
	trustedPub, trusted := newKey(t)
	_, stranger := newKey(t)
	e := trusting(t, newEnv(t), trustedPub)
	tok := e.tokens[auth.RolePipeline]
	seal := func(s *evidence.Signer, name string) json.RawMessage {
		b, err := s.Seal(ctx, keys.Open(example(t, name)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// Refused: a stranger's key, a forged signature, a payload type that
	// is not evidence. Nothing recorded.
	before := e.head()
	forged := map[string]any{}
	if err := json.Unmarshal(seal(trusted, "plan.json"), &forged); err != nil {
		t.Fatal(err)
	}
	forged["signatures"].([]any)[0].(map[string]any)["sig"] = "AAAA"
	for _, c := range []struct {
		name, path  string
		body        any
		ptr, source string
	}{
		{"untrusted key", "/v1/evidence", api.EvidenceBatch{Documents: []json.RawMessage{example(t, "incidents.json"), seal(stranger, "plan.json")},
			Sources: []string{"incidents.json", "plan.dsse.json"}}, "/signatures/0/keyid", "plan.dsse.json"},
		{"forged signature", "/v1/evidence", forged, "/signatures/0/sig", "(body)"},
		{"untrusted key in a gate request", "/v1/gates/deploy", map[string]any{"release": map[string]string{"id": "lv-2026-11-26.1"},
			"evidence": []json.RawMessage{seal(stranger, "deploy.json")}}, "/signatures/0/keyid", "/evidence/0"},
	} {
		code, _, b := e.call("POST", c.path, tok, c.body)
		ae := decode[apiError](t, b)
		if code != http.StatusBadRequest || ae.Error.Code != "invalid_evidence" || len(ae.Error.Details) != 1 ||
			ae.Error.Details[0].Pointer != c.ptr || ae.Error.Details[0].Source != c.source {
			t.Errorf("%s: %d %s; want 400 invalid_evidence naming %s %s", c.name, code, b, c.source, c.ptr)
		}
	}
	if after := e.head(); after != before {
		t.Errorf("refused envelopes changed the ledger:\n%s\n%s", before, after)
	}

	// Accepted: the envelope is verified and kept.
	code, _, b := e.call("POST", "/v1/evidence", tok, api.EvidenceBatch{
		Documents: []json.RawMessage{seal(trusted, "plan.json"), example(t, "incidents.json"), seal(trusted, "build.json")}})
	if code != http.StatusOK {
		t.Fatalf("POST /v1/evidence with trusted envelopes = %d %s", code, b)
	}
	e.approve()
	code, _, b = e.call("POST", "/v1/gates/deploy", tok, map[string]any{"release": map[string]string{"id": "lv-2026-11-26.1"},
		"evidence": []json.RawMessage{seal(trusted, "deploy-requested.json")}})
	if code != http.StatusOK || !decodeAllow(t, b) {
		t.Fatalf("deploy gate with a trusted signed Deploy = %d %s", code, b)
	}
	evs, err := e.db.Evidence(ctx, "lv-2026-11-26.1")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, ev := range evs {
		signed := ev.Envelope != nil
		if want := ev.Kind != "IncidentStatus"; signed != want {
			t.Errorf("%s %s: envelope kept %t; want %t", ev.Kind, ev.Digest, signed, want)
			continue
		}
		if signed {
			// The approval is the server's own, signed with its key.
			doc, err := evidence.NewValidator(mustCompile(t), evidence.DefaultLimits).WithKeys(evidence.NewKeyring(trustedPub, serverSigner().Public())).Decode("ledger", ev.Envelope)
			if err != nil || doc.Digest != ev.Digest || len(doc.SignedBy) != 1 {
				t.Errorf("%s: the kept envelope does not verify as the document: %v", ev.Kind, err)
			}
		}
		kinds[ev.Kind] = true
	}
	if len(kinds) != 5 {
		t.Errorf("recorded kinds %v; want Plan, IncidentStatus, Build, Deploy and Approval", kinds)
	}
}

func decodeAllow(t *testing.T, b []byte) bool {
	return decode[struct {
		Allow bool `json:"allow"`
	}](t, b).Allow
}

func mustCompile(t *testing.T) *schemas.Registry {
	t.Helper()
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return reg
}
