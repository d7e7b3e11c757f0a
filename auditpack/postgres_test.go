package auditpack_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/replay/replaytest"
	"github.com/localizevideos/shipgate/store/postgres"
)

// A pack exported from the PostgreSQL store replays clean too: export
// reads nothing but the stored entries, which every store keeps byte for
// byte alike.
func TestPackFromPostgres(t *testing.T) {
	server := os.Getenv("SHIPGATE_TEST_POSTGRES")
	if server == "" {
		t.Skip("SHIPGATE_TEST_POSTGRES is not set: start a throwaway server with eval \"$(make -s pg)\" (CI does)")
	}
	ctx := context.Background()
	name := "shipgate_pack_" + strings.ToLower(rand.Text())
	admin := func(sql string) error {
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	ident := pgx.Identifier{name}.Sanitize()
	if err := admin("CREATE DATABASE " + ident); err != nil {
		t.Fatalf("create the test database: %v", err)
	}
	t.Cleanup(func() {
		if err := admin("DROP DATABASE IF EXISTS " + ident + " WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("SHIPGATE_TEST_POSTGRES: want a postgres:// URL: %v", err)
	}
	u.Path = "/" + name
	db, err := postgres.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	eng, err := engine.Load(ctx, engine.Options{Policies: policies.FS})
	if err != nil {
		t.Fatal(err)
	}
	steps := replaytest.Record(t, &gate.Gate{Engine: eng, Validator: validator(t), Store: db}, 4)
	bun, err := engine.BuildBundle(ctx, engine.BundleOptions{Policies: policies.FS})
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
		Policies: []*bundle.Bundle{bun}, Created: replaytest.Start}); err != nil {
		t.Fatal(err)
	}
	res := check(t, buf.Bytes(), pub)
	if !res.OK || res.Counts.Match != len(steps) {
		t.Fatalf("Check() = OK %v, %+v, tampered %v; want all %d to match", res.OK, res.Counts, res.Tampered, len(steps))
	}
}
