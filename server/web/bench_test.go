package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/replay/replaytest"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/server/web"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// BenchmarkPages times each page over a ledger of 300 releases (about 800
// decisions and 2,700 evidence documents) recorded by the real gate.
func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	eng, err := engine.Load(ctx, engine.Options{Policies: policies.FS, People: keys.People()})
	if err != nil {
		b.Fatal(err)
	}
	reg, err := schemas.Compile()
	if err != nil {
		b.Fatal(err)
	}
	v := evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring())
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "ledger.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	steps := replaytest.Record(b, &gate.Gate{Engine: eng, Validator: v, Store: db}, 300)
	tokens := auth.New(db)
	secret, _, err := tokens.Create(ctx, "carol", auth.RoleAuditor, "bench")
	if err != nil {
		b.Fatal(err)
	}
	now := replaytest.Start.AddDate(0, 0, replaytest.Days)
	h, err := web.New(web.Config{
		Store: db,
		Authenticate: func(ctx context.Context, token string) (web.Principal, error) {
			p, err := tokens.Authenticate(ctx, token)
			return web.Principal{Name: p.Name, Role: p.Role}, err
		},
		Approve:    func(context.Context, web.Principal, string, string) error { return auth.ErrForbidden },
		SessionKey: sessionKey,
		Now:        func() time.Time { return now },
		Validator:  v,
	})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := newClient(b, srv)
	c.get("/signin")
	if resp, _ := c.post("/signin", url.Values{"csrf": {c.csrf}, "token": {secret}}, nil); resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign in = %d", resp.StatusCode)
	}
	b.Logf("%d decisions recorded", len(steps))
	for _, p := range []string{"/", "/releases/" + steps[len(steps)-1].Release, "/approvals", "/violations", "/trends?days=90"} {
		b.Run(p, func(b *testing.B) {
			for b.Loop() {
				resp, err := c.c.Get(srv.URL + p)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("GET %s = %d", p, resp.StatusCode)
				}
			}
		})
	}
}
