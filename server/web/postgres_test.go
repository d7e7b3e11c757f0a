package web_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/localizevideos/shipgate/store/postgres"
)

// newPostgresFixture records the fixture in a database of its own on the
// server $SHIPGATE_TEST_POSTGRES names (dropped at the end); without it the
// test skips.
func newPostgresFixture(t *testing.T) *fixture {
	t.Helper()
	server := os.Getenv("SHIPGATE_TEST_POSTGRES")
	if server == "" {
		t.Skip("SHIPGATE_TEST_POSTGRES is not set: start a throwaway server with eval \"$(make -s pg)\" (CI does)")
	}
	ctx := context.Background()
	name := "shipgate_web_" + strings.ToLower(rand.Text())
	ident := pgx.Identifier{name}.Sanitize()
	admin := func(sql string) error {
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
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
	t.Cleanup(func() { db.Close() })
	return newFixtureOn(t, db)
}

// TestPostgres: the same pages over the PostgreSQL store, and an approval
// recorded there.
func TestPostgres(t *testing.T) {
	f := newPostgresFixture(t)
	srv := httptest.NewServer(f.handler(f.config()))
	defer srv.Close()
	checkPages(t, f, srv)

	c := newClient(t, srv)
	c.signIn(f.tokens["alice"])
	before := f.ledgerLen()
	resp, body := c.post("/releases/"+relPlanned+"/approve", url.Values{"csrf": {c.csrf}, "note": {"planned and built"}}, nil)
	wantStatus(t, "approve on PostgreSQL", resp, body, http.StatusSeeOther)
	if n := f.ledgerLen(); n != before+1 {
		t.Errorf("the approval added %d entries; want 1", n-before)
	}
	if _, body := c.get("/approvals"); strings.Contains(body, `id="waiting-`+relPlanned+`"`) {
		t.Errorf("%s still waits after its approval", relPlanned)
	}
}
