package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/server/web"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// FuzzSessionCookie: a session cookie the server did not seal never
// signs anyone in, even when every token would be accepted: only the seal
// stands between a forged cookie and the pages.
func FuzzSessionCookie(f *testing.F) {
	db, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "ledger.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	h, err := web.New(web.Config{
		Store: db,
		Authenticate: func(context.Context, string) (web.Principal, error) {
			return web.Principal{Name: "anyone", Role: auth.RoleAuditor}, nil
		},
		Approve:    func(context.Context, web.Principal, string, string) error { return auth.ErrForbidden },
		SessionKey: sessionKey,
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"", "x", `{"t":"sgt_x","c":"c","e":99999999999}`, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"eyJ0Ijoic2d0X3giLCJjIjoiYyIsImUiOjk5OTk5OTk5OTk5fQ"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		req := httptest.NewRequest(http.MethodGet, "/violations", nil)
		req.AddCookie(&http.Cookie{Name: "shipgate_session", Value: value})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("GET /violations with the cookie %q = %d; want 303 to the sign-in page", value, rec.Code)
		}
	})
}
