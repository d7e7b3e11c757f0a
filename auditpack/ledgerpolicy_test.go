package auditpack_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/internal/policytest"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/replay/replaytest"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// The ledger holds the policy set of every decision: a pack exported with
// no policy set given carries each from its ledger entry, proved like the
// decisions, and replays clean.
func TestExportTakesPoliciesFromTheLedger(t *testing.T) {
	f := ledgerFixture(t)
	pack := f.export(t, auditpack.ExportOptions{Policies: []*bundleT{}})
	res := check(t, pack, f.pub)
	if !res.OK || res.Counts.Match != len(f.steps)-1 {
		t.Fatalf("Check() = OK %v, %+v, tampered %v; want every replayable decision to match", res.OK, res.Counts, res.Tampered)
	}
	a, err := auditpack.Read(bytes.NewReader(pack), auditpack.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Manifest.Policies) != 1 || a.Manifest.Policies[0].Entry == 0 {
		t.Fatalf("manifest policies = %+v; want one, from its ledger entry", a.Manifest.Policies)
	}
	ref := a.Manifest.Policies[0]
	found := false
	for _, e := range a.Manifest.Entries {
		found = found || e.Seq == ref.Entry
	}
	if !found {
		t.Errorf("the policy entry %d is not among the pack's entries", ref.Entry)
	}

	// The manifest pointing the policy set at another entry, or leaving
	// its entry out, is tampering.
	for name, edit := range map[string]func(m *auditpack.Manifest){
		"another entry": func(m *auditpack.Manifest) { m.Policies[0].Entry = m.Decisions[0].Entry },
		"entry dropped": func(m *auditpack.Manifest) { m.Policies[0].Entry = 0 },
	} {
		files := map[string][]byte{}
		for k, v := range a.Files {
			files[k] = v
		}
		m := a.Manifest
		m.Policies = append([]auditpack.PolicyRef(nil), a.Manifest.Policies...)
		edit(&m)
		files[auditpack.ManifestFile] = rehash(t, m, files)
		res := check(t, repack(t, files), f.pub)
		if res.OK || len(res.Tampered) == 0 {
			t.Errorf("Check(%s) = OK %v, tampered %v; want tampering found", name, res.OK, res.Tampered)
		}
	}
}

// oldStore records as shipgate did before policy sets were kept: without
// them.
type oldStore struct{ *sqlite.DB }

func (o oldStore) RecordDecision(ctx context.Context, now time.Time, d store.Decision, opened []store.Violation, ev []store.Evidence) error {
	d.Policy = nil
	return o.DB.RecordDecision(ctx, now, d, opened, ev)
}

// A ledger recorded before policy sets were kept needs them given: export
// refuses without, names the revision, and takes them from Policies or,
// only when needed, MorePolicies.
func TestExportOfAnOlderLedger(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	eng, err := engine.Load(ctx, engine.Options{Policies: policies.FS, Data: exampleData(t)})
	if err != nil {
		t.Fatal(err)
	}
	replaytest.Record(t, &gate.Gate{Engine: eng, Validator: validator(t), Store: oldStore{db}}, 2)
	pub, priv, _ := ed25519.GenerateKey(nil)
	head, err := db.Verify(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	cp := ledger.NewCheckpoint("shipgate:test", head, at, priv)
	export := func(opts auditpack.ExportOptions) ([]byte, error) {
		opts.Checkpoint, opts.PublicKey, opts.Created = &cp, pub, at
		opts.EvidenceKeys = keys.Keyring() // the example evidence's signers
		var buf bytes.Buffer
		_, err := auditpack.Export(ctx, db, &buf, opts)
		return buf.Bytes(), err
	}

	data := policytest.Data(t)
	data["postmortem"] = map[string]any{"due_days": 9}
	other, err := engine.BuildBundle(ctx, engine.BundleOptions{Policies: policies.FS, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	_, err = export(auditpack.ExportOptions{Policies: []*bundle.Bundle{other}})
	var mp *auditpack.MissingPolicyError
	if !errorsAs(err, &mp) || len(mp.Revisions) != 1 || mp.Revisions[eng.Revision()] == nil {
		t.Fatalf("Export(other policies) = %v; want a MissingPolicyError naming revision %s", err, eng.Revision())
	}
	if !strings.Contains(err.Error(), "neither the ledger nor any policy set given holds") {
		t.Errorf("Export() = %v; want it to say the ledger does not hold the set", err)
	}

	right, err := engine.BuildBundle(ctx, engine.BundleOptions{Policies: policies.FS, Data: exampleData(t)})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	more := func(context.Context) ([]*bundle.Bundle, error) { calls++; return []*bundle.Bundle{right}, nil }
	pack, err := export(auditpack.ExportOptions{Policies: []*bundle.Bundle{other}, MorePolicies: more})
	if err != nil || calls != 1 {
		t.Fatalf("Export(MorePolicies) = %v after %d calls; want a pack after one call", err, calls)
	}
	res := check(t, pack, pub)
	if !res.OK || res.Counts.Match == 0 {
		t.Fatalf("Check() = OK %v, %+v, tampered %v; want a clean pack", res.OK, res.Counts, res.Tampered)
	}
	a, _ := auditpack.Read(bytes.NewReader(pack), auditpack.Limits{})
	if len(a.Manifest.Policies) != 1 || a.Manifest.Policies[0].Entry != 0 {
		t.Errorf("manifest policies = %+v; want one supplied by the exporter (entry 0)", a.Manifest.Policies)
	}
	// A checkpoint signed by another key is refused too.
	_, otherKey, _ := ed25519.GenerateKey(nil)
	bad := ledger.NewCheckpoint("shipgate:test", head, at, otherKey)
	if _, err := auditpack.Export(ctx, db, new(bytes.Buffer), auditpack.ExportOptions{Checkpoint: &bad, PublicKey: pub,
		Policies: []*bundle.Bundle{right}, Created: at}); err == nil {
		t.Fatal("Export(checkpoint of another key) = nil; want an error")
	}
}
