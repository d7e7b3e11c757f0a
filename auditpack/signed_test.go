package auditpack_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/internal/policytest"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// Evidence that came signed is packed with its DSSE envelope and read from
// it on replay, as the gate read it: the replay matches with the signer's
// key trusted, differs without it, and an edited envelope is tampering.
func TestSignedEvidence(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// One key signs the Build, the Deploy and, bound to alice in the data,
	// her approval.
	signerPub, signerKey, _ := ed25519.GenerateKey(nil)
	data := policyset.MergeData(policytest.Data(t), map[string]any{"signing": map[string]any{
		"people": map[string]any{"alice": []any{evidence.KeyID(signerPub)}}}})
	eng, err := engine.Load(ctx, engine.Options{Policies: policies.FS, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	trusting := validator(t).WithKeys(evidence.NewKeyring(signerPub))
	dir := "../examples/localizevideos/evidence/allowed"
	var docs []*evidence.Document
	for _, name := range []string{"plan.json", "incidents.json", "build.json", "deploy-requested.json", "approval.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if name != "plan.json" && name != "incidents.json" {
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
	g := &gate.Gate{Engine: eng, Validator: trusting, Store: db, Clock: func() time.Time { return at }}
	d, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: engine.Release{ID: "lv-2026-11-26.1"}, Now: at, Actor: "dave", Evidence: docs})
	if err != nil || !d.Allow {
		t.Fatalf("Decide() = %v, %v; want an allow", gate.Summary(d), err)
	}

	pub, priv, _ := ed25519.GenerateKey(nil)
	head, err := db.Verify(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	cp := ledger.NewCheckpoint("shipgate:test", head, at, priv)
	bun, err := engine.BuildBundle(ctx, engine.BundleOptions{Policies: policies.FS, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	sum, err := auditpack.Export(ctx, db, &buf, auditpack.ExportOptions{Checkpoint: &cp, PublicKey: pub,
		Policies: []*bundle.Bundle{bun}, Created: at})
	if err != nil {
		t.Fatal(err)
	}
	if id := evidence.KeyID(signerPub); sum.Keys != 0 || len(sum.UnknownSigners) != 1 || sum.UnknownSigners[0] != id {
		t.Errorf("Export without keys: %d keys, unknown signers %v; want 0 and %s", sum.Keys, sum.UnknownSigners, id)
	}
	a, err := auditpack.Read(bytes.NewReader(buf.Bytes()), auditpack.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var envelope string
	for _, ref := range a.Manifest.Evidence {
		if ref.Envelope != "" {
			envelope = ref.Envelope
		}
	}
	if envelope == "" {
		t.Fatal("the pack holds no envelope")
	}

	res, err := auditpack.Check(ctx, a, auditpack.Options{Validator: validator(t), PublicKey: pub, EvidenceKeys: evidence.NewKeyring(signerPub)})
	if err != nil || !res.OK || res.Counts.Match != 1 || !res.EvidenceKeys.Pinned {
		t.Fatalf("Check(signer trusted) = OK %v, %+v, %v, tampered %v, keys %+v; want one match, keys pinned", res.OK, res.Counts, err, res.Tampered, res.EvidenceKeys)
	}
	res, err = auditpack.Check(ctx, a, auditpack.Options{Validator: validator(t), PublicKey: pub})
	if err != nil || res.OK || res.Counts.Differs != 1 || !strings.Contains(res.Decisions[0].Why, "rejected by the evidence validator") {
		t.Fatalf("Check(signer not trusted) = OK %v, %+v, %v; want the decision to differ for the rejected evidence", res.OK, res.Counts, err)
	}

	// Given the gate's keys, the pack carries the signer's: a replay reads
	// the envelope without being given it (not pinned), and a pinned key
	// that is not the signer's still rejects it.
	var keyed bytes.Buffer
	if sum, err = auditpack.Export(ctx, db, &keyed, auditpack.ExportOptions{Checkpoint: &cp, PublicKey: pub,
		Policies: []*bundle.Bundle{bun}, Created: at, EvidenceKeys: evidence.NewKeyring(signerPub, pub)}); err != nil || sum.Keys != 1 || len(sum.UnknownSigners) != 0 {
		t.Fatalf("Export with keys = %+v, %v; want the signer's key only", sum, err)
	}
	ka, err := auditpack.Read(bytes.NewReader(keyed.Bytes()), auditpack.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	res, err = auditpack.Check(ctx, ka, auditpack.Options{Validator: validator(t), PublicKey: pub})
	if err != nil || !res.OK || res.Counts.Match != 1 || res.EvidenceKeys.Pinned || len(res.EvidenceKeys.IDs) != 1 || res.EvidenceKeys.IDs[0] != evidence.KeyID(signerPub) {
		t.Fatalf("Check(the pack's keys) = OK %v, %+v, %v, keys %+v; want one match with the signer's key, not pinned", res.OK, res.Counts, err, res.EvidenceKeys)
	}
	res, err = auditpack.Check(ctx, ka, auditpack.Options{Validator: validator(t), PublicKey: pub, EvidenceKeys: evidence.NewKeyring(pub)})
	if err != nil || res.OK || res.Counts.Differs != 1 {
		t.Fatalf("Check(another key pinned) = OK %v, %+v, %v; want the decision to differ", res.OK, res.Counts, err)
	}
	// A key file that does not hold the key it names is tampering.
	kfiles := map[string][]byte{}
	for k, v := range ka.Files {
		kfiles[k] = v
	}
	kfiles[ka.Manifest.Keys[0].File] = kfiles[auditpack.PublicKeyFile]
	kfiles[auditpack.ManifestFile] = rehash(t, ka.Manifest, kfiles)
	if res = check(t, repack(t, kfiles), pub); res.OK || len(res.Tampered) == 0 || !strings.Contains(res.Tampered[0].Reason, "not the "+evidence.KeyID(signerPub)) {
		t.Fatalf("Check(swapped key file) = OK %v, tampered %v; want the key file reported", res.OK, res.Tampered)
	}

	files := map[string][]byte{}
	for k, v := range a.Files {
		files[k] = v
	}
	files[envelope] = bytes.Replace(files[envelope], []byte(`"keyid":"`), []byte(`"keyid":"x`), 1)
	files[auditpack.ManifestFile] = rehash(t, a.Manifest, files)
	// With the signer trusted, the envelopes left alone verify: only the
	// edit is found.
	ea, err := auditpack.Read(bytes.NewReader(repack(t, files)), auditpack.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	res, err = auditpack.Check(ctx, ea, auditpack.Options{Validator: validator(t), PublicKey: pub, EvidenceKeys: evidence.NewKeyring(signerPub)})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || res.Counts.Tampered != 1 {
		t.Fatalf("Check(edited envelope) = OK %v, %+v; want the decision tampered", res.OK, res.Counts)
	}
}
