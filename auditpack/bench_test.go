package auditpack_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"path/filepath"
	"testing"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/replay/replaytest"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// BenchmarkPack exports and checks a pack of 30 releases (about 75
// decisions): export reads the ledger twice and proves every entry;
// check loads the policy bundle, replays and explains every decision.
func BenchmarkPack(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "ledger.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	eng, err := engine.Load(ctx, engine.Options{Policies: policies.FS, Data: exampleData(b)})
	if err != nil {
		b.Fatal(err)
	}
	steps := replaytest.Record(b, &gate.Gate{Engine: eng, Validator: validator(b), Store: db}, 30)
	bun, err := engine.BuildBundle(ctx, engine.BundleOptions{Policies: policies.FS, Data: exampleData(b)})
	if err != nil {
		b.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	head, err := db.Verify(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	cp := ledger.NewCheckpoint("shipgate:bench", head, replaytest.Start, priv)
	// The pack carries the EXAMPLE keys its evidence is signed with, as
	// the tests' packs do: without them no signed document counts.
	opts := auditpack.ExportOptions{Checkpoint: &cp, PublicKey: pub, Policies: []*bundle.Bundle{bun}, Created: replaytest.Start,
		EvidenceKeys: keys.Keyring()}
	var pack []byte
	b.Run("export", func(b *testing.B) {
		for b.Loop() {
			var buf bytes.Buffer
			if _, err := auditpack.Export(ctx, db, &buf, opts); err != nil {
				b.Fatal(err)
			}
			pack = buf.Bytes()
		}
		b.ReportMetric(float64(len(steps)), "decisions")
		b.ReportMetric(float64(len(pack)), "pack-bytes")
	})
	b.Run("check", func(b *testing.B) {
		v := validator(b)
		for b.Loop() {
			a, err := auditpack.Read(bytes.NewReader(pack), auditpack.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			res, err := auditpack.Check(ctx, a, auditpack.Options{Validator: v, PublicKey: pub})
			if err != nil || !res.OK {
				b.Fatalf("Check() = %v, OK %v", err, res != nil && res.OK)
			}
		}
	})
}
