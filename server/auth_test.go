package server_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/auth"
)

var pathParam = regexp.MustCompile(`\{[a-z]+\}`)

// Every route of the router refuses a request without a valid token (401)
// and one with a token of another role (403), and changes nothing: neither
// the ledger nor the tokens.
func TestEveryRouteChecksTheRole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	revoked := e.token("gone", auth.RoleAdmin)
	p, err := e.srv.Tokens().Authenticate(ctx, revoked)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Tokens().Revoke(ctx, p.TokenID, "test"); err != nil {
		t.Fatal(err)
	}
	// Something in the ledger, so that a write would show.
	if code, _, b := e.call("POST", "/v1/evidence", e.tokens[auth.RolePipeline], example(t, "plan.json")); code != http.StatusOK {
		t.Fatalf("POST /v1/evidence = %d %s", code, b)
	}
	routes := e.srv.Routes()
	if len(routes) < 10 {
		t.Fatalf("Routes() = %d routes; want the whole API", len(routes))
	}
	before := e.head()
	for _, rt := range routes {
		path := pathParam.ReplaceAllString(rt.Path, "x")
		// A body each write route would accept, had it the right role.
		var body any
		if rt.Method != "GET" {
			body = []byte(`{"name":"mallory","role":"admin","release":{"id":"lv-2026-11-26.1"},"note":"n"}`)
		}
		t.Run(rt.Pattern(), func(t *testing.T) {
			if len(rt.Roles) == 0 {
				t.Fatalf("%s admits no role", rt.Pattern())
			}
			for _, tok := range []struct{ name, secret string }{
				{"no token", ""}, {"unknown token", "sgt_not-a-token"}, {"revoked token", revoked},
			} {
				code, h, b := e.call(rt.Method, path, tok.secret, body)
				if code != http.StatusUnauthorized {
					t.Errorf("%s with %s = %d %s; want 401", rt.Pattern(), tok.name, code, b)
				}
				if !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s with %s: no WWW-Authenticate: Bearer", rt.Pattern(), tok.name)
				}
				if decode[apiError](t, b).Error.Code != "unauthenticated" {
					t.Errorf("%s with %s: body %s; want code unauthenticated", rt.Pattern(), tok.name, b)
				}
			}
			wrong := 0
			for _, role := range auth.Roles {
				if slices.Contains(rt.Roles, role) {
					continue
				}
				wrong++
				code, _, b := e.call(rt.Method, path, e.tokens[role], body)
				if code != http.StatusForbidden || decode[apiError](t, b).Error.Code != "forbidden" {
					t.Errorf("%s with a %s token = %d %s; want 403 forbidden", rt.Pattern(), role, code, b)
				}
			}
			if wrong == 0 {
				t.Errorf("%s admits every role; each route should refuse some", rt.Pattern())
			}
			if after := e.head(); after != before {
				t.Fatalf("%s refused, yet the store changed:\nbefore %s\nafter  %s", rt.Pattern(), before, after)
			}
		})
	}
}

// A token store that cannot be read lets nobody in: 503, not 200.
func TestAuthStoreDownFailsClosed(t *testing.T) {
	e := newEnv(t)
	e.db.Close()
	code, _, b := e.call("GET", "/v1/violations", e.tokens[auth.RoleAuditor], nil)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("GET /v1/violations with the store closed = %d %s; want 503", code, b)
	}
	code, _, b = e.call("POST", "/v1/gates/deploy", e.tokens[auth.RolePipeline], map[string]any{"release": map[string]string{"id": "r"}})
	if code/100 == 2 {
		t.Fatalf("POST /v1/gates/deploy with the store closed = %d %s; want non-2xx", code, b)
	}
	if code, _, _ := e.call("GET", "/readyz", "", nil); code != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz with the store closed = %d; want 503", code)
	}
	if code, _, _ := e.call("GET", "/healthz", "", nil); code != http.StatusOK {
		t.Errorf("GET /healthz = %d; want 200 (the process is alive)", code)
	}
}

// Admin tokens manage tokens through the API; the secret is shown once and
// a revoked token stops working at once.
func TestTokenRoutes(t *testing.T) {
	e := newEnv(t)
	admin := e.tokens[auth.RoleAdmin]
	code, _, b := e.call("POST", "/v1/tokens", admin, map[string]string{"name": "ci-2", "role": "pipeline"})
	if code != http.StatusCreated {
		t.Fatalf("POST /v1/tokens = %d %s", code, b)
	}
	created := decode[struct{ ID, Token, Name, Role, CreatedBy string }](t, b)
	if !strings.HasPrefix(created.Token, "sgt_") || created.Role != "pipeline" || !strings.Contains(created.CreatedBy, "admin-1") {
		t.Fatalf("created token %+v", created)
	}
	if code, _, b := e.call("GET", "/v1/releases/x/status", created.Token, nil); code != http.StatusOK {
		t.Errorf("the new token: GET status = %d %s", code, b)
	}
	code, _, b = e.call("GET", "/v1/tokens", admin, nil)
	if code != http.StatusOK || strings.Contains(string(b), created.Token) || strings.Contains(string(b), "sha256:") {
		t.Errorf("GET /v1/tokens = %d %s; want the list without secrets or hashes", code, b)
	}
	for _, bad := range []map[string]string{{"name": "x", "role": "root"}, {"name": " x", "role": "pipeline"}} {
		if code, _, b := e.call("POST", "/v1/tokens", admin, bad); code != http.StatusBadRequest {
			t.Errorf("POST /v1/tokens %v = %d %s; want 400", bad, code, b)
		}
	}
	if code, _, b := e.call("DELETE", "/v1/tokens/"+created.ID, admin, nil); code != http.StatusOK {
		t.Fatalf("DELETE = %d %s", code, b)
	}
	if code, _, _ := e.call("GET", "/v1/releases/x/status", created.Token, nil); code != http.StatusUnauthorized {
		t.Errorf("a revoked token: %d; want 401", code)
	}
	if code, _, _ := e.call("DELETE", "/v1/tokens/"+created.ID, admin, nil); code != http.StatusConflict {
		t.Errorf("revoking twice: %d; want 409", code)
	}
	if code, _, _ := e.call("DELETE", "/v1/tokens/tok_none", admin, nil); code != http.StatusNotFound {
		t.Errorf("revoking an unknown token: %d; want 404", code)
	}
}
