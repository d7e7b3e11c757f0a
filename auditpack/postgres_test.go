package auditpack_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"testing"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/replay/replaytest"
	"github.com/localizevideos/shipgate/store/postgres"
	"github.com/localizevideos/shipgate/store/postgres/pgtest"
)

// A pack exported from the PostgreSQL store replays clean too: export
// reads nothing but the stored entries, which every store keeps byte for
// byte alike.
func TestPackFromPostgres(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewStore(t, postgres.Open)

	eng, err := engine.Load(ctx, engine.Options{Policies: policies.FS, Data: exampleData(t)})
	if err != nil {
		t.Fatal(err)
	}
	steps := replaytest.Record(t, &gate.Gate{Engine: eng, Validator: validator(t), Store: db}, 4)
	bun, err := engine.BuildBundle(ctx, engine.BundleOptions{Policies: policies.FS, Data: exampleData(t)})
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	head, err := db.Verify(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	cp := ledger.NewCheckpoint("shipgate:pg", head, replaytest.Start, priv)
	var buf bytes.Buffer
	if _, err := auditpack.Export(ctx, db, &buf, auditpack.ExportOptions{Checkpoint: &cp, PublicKey: pub,
		Policies: []*bundle.Bundle{bun}, Created: replaytest.Start, EvidenceKeys: keys.Keyring()}); err != nil {
		t.Fatal(err)
	}
	res := check(t, buf.Bytes(), pub)
	if !res.OK || res.Counts.Match != len(steps) {
		t.Fatalf("Check() = OK %v, %+v, tampered %v; want all %d to match", res.OK, res.Counts, res.Tampered, len(steps))
	}
}
