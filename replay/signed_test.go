package replay_test

import (
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/replay"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// A document that came signed is replayed from its envelope: its signers
// are what authenticates an Approval as its approver's, so the replay
// reproduces the decision with the signer trusted and refuses the document
// without.
func TestReplayReadsSignedEvidenceFromItsEnvelope(t *testing.T) {
	ctx := context.Background()
	raw, err := os.ReadFile("../policies/shipgate/config/data.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := policyset.ReadData("data.yaml", raw)
	if err != nil {
		t.Fatal(err)
	}
	signerPub, signerKey, _ := ed25519.GenerateKey(nil)
	// The Approval counts only signed by a key bound to alice: this one.
	data["signing"] = map[string]any{"required_kinds": []any{}, "trusted_keys": map[string]any{}, "people": map[string]any{"alice": []any{evidence.KeyID(signerPub)}}}
	eng := load(t, data)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	trusting := validator(t).Trusting(signerPub)
	dir := "../examples/localizevideos/evidence/allowed"
	var docs []*evidence.Document
	for _, name := range []string{"plan.json", "incidents.json", "build.json", "deploy-requested.json", "approval.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "approval.json" {
			if b, err = evidence.NewSigner(signerKey).Seal(ctx, keys.Open(b)); err != nil {
				t.Fatal(err)
			}
		}
		d, err := trusting.Decode(name, b)
		if err != nil {
			t.Fatalf("Decode(%s) = %v", name, err)
		}
		docs = append(docs, d)
	}
	at := time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)
	g := &gate.Gate{Engine: eng, Validator: trusting, Store: db}
	d, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: engine.Release{ID: "lv-2026-11-26.1"}, Now: at, Actor: "dave", Evidence: docs})
	if err != nil || !d.Allow {
		t.Fatalf("Decide() = %v, %v; want an allow (the Approval is signed)", gate.Summary(d), err)
	}

	res, err := replay.Replay(ctx, db, eng, replay.Options{Validator: trusting})
	if err != nil || len(res) != 1 {
		t.Fatalf("Replay(signer trusted) = %d results, %v", len(res), err)
	}
	if r := res[0]; r.Skipped != "" || r.Decision == nil || !r.Decision.Allow || r.Decision.Input.Digest != d.Input.Digest {
		t.Fatalf("Replay(signer trusted) = skipped %q, %v; want the allow reproduced", r.Skipped, r.Decision)
	}
	res, err = replay.Replay(ctx, db, eng, replay.Options{Validator: validator(t)})
	if err != nil || len(res) != 1 {
		t.Fatalf("Replay(signer not trusted) = %d results, %v", len(res), err)
	}
	if r := res[0]; r.Skipped != replay.SkipEvidenceRejected {
		t.Errorf("Replay(signer not trusted) = skipped %q, %v; want %q", r.Skipped, r.Decision, replay.SkipEvidenceRejected)
	}
}
