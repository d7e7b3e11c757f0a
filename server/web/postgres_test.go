package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/store/postgres"
	"github.com/localizevideos/shipgate/store/postgres/pgtest"
)

// newPostgresFixture records the fixture in a database of its own on the
// server $SHIPGATE_TEST_POSTGRES names (dropped at the end); without it the
// test skips.
func newPostgresFixture(t *testing.T) *fixture {
	t.Helper()
	db := pgtest.NewStore(t, postgres.Open)
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
