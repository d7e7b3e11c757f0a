package web_test

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/server/web"
	"github.com/localizevideos/shipgate/store"
)

// client is a browser without a browser: a cookie jar, no redirects
// followed, and the CSRF token of the last page read.
type client struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

func newClient(t testing.TB, srv *httptest.Server) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	// srv.Client() is shared: copy it, so that each client has its own jar.
	c := &http.Client{Transport: srv.Client().Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &client{t: t, base: srv.URL, c: c}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	body := string(b)
	if m := csrfField.FindStringSubmatch(body); m != nil {
		c.csrf = html.UnescapeString(m[1])
	}
	return resp, body
}

func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

func (c *client) post(path string, form url.Values, header map[string]string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return c.do(req)
}

// signIn signs in with name's token and reads the first page, leaving
// the session's CSRF token in c.csrf.
func (c *client) signIn(secret string) {
	c.t.Helper()
	c.get("/signin")
	resp, body := c.post("/signin", url.Values{"csrf": {c.csrf}, "token": {secret}, "next": {"/"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("POST /signin = %d; want 303\n%s", resp.StatusCode, body)
	}
	// A role that may not read the ledger is signed in and shown a 403.
	if resp, body := c.get("/"); resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusForbidden {
		c.t.Fatalf("GET / after sign-in = %d; want 200 or 403\n%s", resp.StatusCode, body)
	}
}

func wantStatus(t *testing.T, what string, resp *http.Response, body string, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s = %d; want %d\n%s", what, resp.StatusCode, want, body)
	}
}

func setup(t *testing.T) (*fixture, *httptest.Server) {
	f := newFixture(t)
	srv := httptest.NewServer(f.handler(f.config()))
	t.Cleanup(srv.Close)
	return f, srv
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	f := newFixture(t)
	for name, edit := range map[string]func(*web.Config){
		"no store":          func(c *web.Config) { c.Store = nil },
		"no authenticate":   func(c *web.Config) { c.Authenticate = nil },
		"no approve":        func(c *web.Config) { c.Approve = nil },
		"short session key": func(c *web.Config) { c.SessionKey = c.SessionKey[:31] },
	} {
		cfg := f.config()
		edit(&cfg)
		if _, err := web.New(cfg); err == nil {
			t.Errorf("New(%s) = nil error; want one", name)
		}
	}
}

// TestSecurityHeaders: every answer, page, stylesheet, redirect or error,
// carries the policy and the hardening headers; no page has a script or
// an inline style for the policy to block.
func TestSecurityHeaders(t *testing.T) {
	f, srv := setup(t)
	c := newClient(t, srv)
	anon := []string{"/signin", "/static/style.css", "/favicon.ico", "/", "/releases/" + relIncident, "/no/such/page", "/static/"}
	c.signIn(f.tokens["carol"])
	signed := []string{"/", "/releases/" + relIncident, "/approvals", "/violations", "/trends", "/trends?days=365", "/releases/nope", "/no/such/page"}
	check := func(path string, resp *http.Response, body string) {
		t.Helper()
		h := resp.Header
		for k, want := range map[string]string{
			"Content-Security-Policy":      web.ContentSecurityPolicy,
			"X-Content-Type-Options":       "nosniff",
			"X-Frame-Options":              "DENY",
			"Referrer-Policy":              "no-referrer",
			"Cross-Origin-Opener-Policy":   "same-origin",
			"Cross-Origin-Resource-Policy": "same-origin",
		} {
			if got := h.Get(k); got != want {
				t.Errorf("GET %s: %s = %q; want %q", path, k, got, want)
			}
		}
		if strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			if got := h.Get("Cache-Control"); got != "no-store" {
				t.Errorf("GET %s: Cache-Control = %q; want no-store", path, got)
			}
			for _, bad := range []string{"<script", " style=", "<style", "javascript:", "http://", "https://cdn"} {
				if strings.Contains(strings.ToLower(body), bad) {
					t.Errorf("GET %s: the page contains %q", path, bad)
				}
			}
		}
	}
	anonClient := newClient(t, srv)
	for _, p := range anon {
		resp, body := anonClient.get(p)
		check(p, resp, body)
	}
	for _, p := range signed {
		resp, body := c.get(p)
		check(p, resp, body)
	}
	if resp, body := c.get("/static/style.css"); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, "svg .bar-deny") {
		t.Errorf("GET /static/style.css = %d %s; want the stylesheet", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ := c.get("/static/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /static/ = %d; want 404, no listing", resp.StatusCode)
	}
}

func TestSignInCookie(t *testing.T) {
	f, srv := setup(t)
	c := newClient(t, srv)
	c.get("/signin")
	resp, body := c.post("/signin", url.Values{"csrf": {c.csrf}, "token": {f.tokens["alice"]}, "next": {"/violations"}}, nil)
	wantStatus(t, "POST /signin", resp, body, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/violations" {
		t.Errorf("sign-in redirects to %q; want /violations", loc)
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "shipgate_session" {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("no session cookie set")
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" || session.Secure {
		t.Errorf("session cookie HttpOnly=%t SameSite=%v Path=%q Secure=%t; want HttpOnly, Strict, /, not Secure over plain HTTP",
			session.HttpOnly, session.SameSite, session.Path, session.Secure)
	}
	if session.MaxAge != int((8 * time.Hour).Seconds()) {
		t.Errorf("session cookie MaxAge = %d; want 8h", session.MaxAge)
	}
	if strings.Contains(session.Value, f.tokens["alice"]) || strings.Contains(session.Value, strings.TrimPrefix(f.tokens["alice"], "sgt_")) {
		t.Error("the session cookie holds the token in clear")
	}
	if _, body := c.get("/"); !strings.Contains(body, `id="who">alice <span class="role">approver</span>`) {
		t.Error("the page does not show who is signed in")
	}

	// Over TLS, and behind a TLS proxy, the cookie is Secure.
	tls := httptest.NewTLSServer(f.handler(f.config()))
	defer tls.Close()
	proxied := f.config()
	proxied.SecureCookies = true
	plain := httptest.NewServer(f.handler(proxied))
	defer plain.Close()
	for name, s := range map[string]*httptest.Server{"TLS": tls, "SecureCookies": plain} {
		c := newClient(t, s)
		c.get("/signin")
		resp, _ := c.post("/signin", url.Values{"csrf": {c.csrf}, "token": {f.tokens["alice"]}}, nil)
		for _, ck := range resp.Cookies() {
			if ck.Name == "shipgate_session" && !ck.Secure {
				t.Errorf("%s: the session cookie is not Secure", name)
			}
		}
		if name == "TLS" && resp.Header.Get("Strict-Transport-Security") == "" {
			t.Error("TLS: no Strict-Transport-Security")
		}
	}
}

func TestSignInRefused(t *testing.T) {
	f, srv := setup(t)
	revoked := f.tokens["root"]
	toks, err := f.srv.Tokens().List(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks {
		if tok.Name == "root" {
			if _, err := f.srv.Tokens().Revoke(f.ctx, tok.ID, "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name  string
		form  func(csrf string) url.Values
		hdr   map[string]string
		noGet bool
		want  int
		text  string
	}{
		{name: "unknown token", form: func(c string) url.Values { return url.Values{"csrf": {c}, "token": {"sgt_nope"}} }, want: 401, text: "not accepted"},
		{name: "revoked token", form: func(c string) url.Values { return url.Values{"csrf": {c}, "token": {revoked}} }, want: 401, text: "not accepted"},
		{name: "empty token", form: func(c string) url.Values { return url.Values{"csrf": {c}, "token": {""}} }, want: 401, text: "Enter an API token"},
		{name: "no CSRF token", form: func(string) url.Values { return url.Values{"token": {f.tokens["alice"]}} }, want: 403, text: "expired or did not come from this page"},
		{name: "wrong CSRF token", form: func(string) url.Values { return url.Values{"csrf": {"x"}, "token": {f.tokens["alice"]}} }, want: 403, text: "expired"},
		{name: "no sign-in cookie", noGet: true, form: func(string) url.Values { return url.Values{"csrf": {"x"}, "token": {f.tokens["alice"]}} }, want: 403, text: "expired"},
		{name: "cross-site", hdr: map[string]string{"Sec-Fetch-Site": "cross-site"}, form: func(c string) url.Values { return url.Values{"csrf": {c}, "token": {f.tokens["alice"]}} }, want: 403, text: "another site"},
		{name: "other origin", hdr: map[string]string{"Origin": "http://evil.example"}, form: func(c string) url.Values { return url.Values{"csrf": {c}, "token": {f.tokens["alice"]}} }, want: 403, text: "another site"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, srv)
			if !tc.noGet {
				c.get("/signin")
			}
			resp, body := c.post("/signin", tc.form(c.csrf), tc.hdr)
			wantStatus(t, "POST /signin", resp, body, tc.want)
			if !strings.Contains(body, tc.text) {
				t.Errorf("the page does not say %q:\n%s", tc.text, body)
			}
			for _, ck := range resp.Cookies() {
				if ck.Name == "shipgate_session" && ck.MaxAge >= 0 {
					t.Error("a session cookie was set")
				}
			}
			if resp, _ := c.get("/"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
				t.Errorf("GET / after a refused sign-in = %d → %s; want a redirect to /signin", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}

// TestApproveCSRF: an approval without the session's CSRF token, with a
// wrong one, or from another site is refused and records nothing; the
// same form with the token records one Approval.
func TestApproveCSRF(t *testing.T) {
	f, srv := setup(t)
	c := newClient(t, srv)
	c.signIn(f.tokens["alice"])
	path := "/releases/" + relNoApproval + "/approve"
	before := f.ledgerLen()
	for _, tc := range []struct {
		name string
		form url.Values
		hdr  map[string]string
		text string
	}{
		{"no CSRF token", url.Values{"note": {"ok"}}, nil, "out of date or did not come from this dashboard"},
		{"wrong CSRF token", url.Values{"note": {"ok"}, "csrf": {"AAAA"}}, nil, "out of date"},
		{"cross-site fetch", url.Values{"note": {"ok"}, "csrf": {c.csrf}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, "another site"},
		{"other origin", url.Values{"note": {"ok"}, "csrf": {c.csrf}}, map[string]string{"Origin": "http://evil.example"}, "another site"},
	} {
		resp, body := c.post(path, tc.form, tc.hdr)
		wantStatus(t, tc.name, resp, body, http.StatusForbidden)
		if !strings.Contains(body, tc.text) {
			t.Errorf("%s: the page does not say %q", tc.name, tc.text)
		}
		if n := f.ledgerLen(); n != before {
			t.Fatalf("%s: the ledger grew from %d to %d entries", tc.name, before, n)
		}
	}
	// Another session's token does not do either.
	other := newClient(t, srv)
	other.signIn(f.tokens["bob"])
	resp, body := c.post(path, url.Values{"csrf": {other.csrf}}, nil)
	wantStatus(t, "another session's CSRF token", resp, body, http.StatusForbidden)

	c.get("/approvals")
	resp, body = c.post(path, url.Values{"csrf": {c.csrf}, "note": {"  go for the 10:00 window  "}}, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": srv.URL})
	wantStatus(t, "approve with the CSRF token", resp, body, http.StatusSeeOther)
	if n := f.ledgerLen(); n != before+1 {
		t.Fatalf("after the approval the ledger has %d entries; want %d", n, before+1)
	}
	evs, err := f.db.Evidence(f.ctx, relNoApproval)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.Kind != "Approval" || !strings.Contains(string(last.Body), `"approver":"alice"`) || !strings.Contains(string(last.Body), `"comment":"go for the 10:00 window"`) {
		t.Errorf("the last evidence of %s is %s %s; want alice's Approval with the trimmed note", relNoApproval, last.Kind, last.Body)
	}
	_, body = c.get(resp.Header.Get("Location"))
	if !strings.Contains(body, "Your approval was recorded") {
		t.Error("the release page does not confirm the approval")
	}
	if _, body := c.get("/approvals"); strings.Contains(body, `id="waiting-`+relNoApproval+`"`) {
		t.Errorf("%s still waits after its approval", relNoApproval)
	}
}

// TestApproveRoles: only an approver may approve, and not a release they
// deployed; every refusal is a 403 page and records nothing. Only the
// roles that may read the ledger through the API read the pages.
func TestApproveRoles(t *testing.T) {
	f, srv := setup(t)
	for _, tc := range []struct {
		who, release string
		text         string
		reads        bool
	}{
		{"ci-bot", relLater, "signed in as ci-bot with the pipeline role, which may not approve releases: that needs the role approver", false},
		{"carol", relLater, "signed in as carol with the auditor role, which may not approve releases", true},
		{"root", relLater, "signed in as root with the admin role, which may not approve releases", false},
		{"bob", relSelfApproved, "cannot approve or override a release they deployed", true},
	} {
		t.Run(tc.who, func(t *testing.T) {
			c := newClient(t, srv)
			c.signIn(f.tokens[tc.who])
			want := http.StatusOK
			if !tc.reads {
				want = http.StatusForbidden
			}
			for _, p := range []string{"/", "/approvals", "/violations", "/trends", "/releases/" + tc.release} {
				resp, body := c.get(p)
				wantStatus(t, "GET "+p, resp, body, want)
			}
			before := f.ledgerLen()
			resp, body := c.post("/releases/"+tc.release+"/approve", url.Values{"csrf": {c.csrf}}, nil)
			wantStatus(t, "approve", resp, body, http.StatusForbidden)
			if !strings.Contains(html.UnescapeString(body), tc.text) || !strings.Contains(body, "Nothing was recorded") {
				t.Errorf("the refusal does not say %q:\n%s", tc.text, body)
			}
			if n := f.ledgerLen(); n != before {
				t.Errorf("the ledger grew from %d to %d entries", before, n)
			}
		})
	}
	c := newClient(t, srv)
	c.signIn(f.tokens["alice"])
	resp, body := c.post("/releases/lv-unknown/approve", url.Values{"csrf": {c.csrf}}, nil)
	wantStatus(t, "approve an unknown release", resp, body, http.StatusNotFound)
}

func TestApproveStoreFault(t *testing.T) {
	f := newFixture(t)
	cfg := f.config()
	cfg.Approve = func(context.Context, web.Principal, string, string) error {
		return errors.New("database is locked")
	}
	srv := httptest.NewServer(f.handler(cfg))
	defer srv.Close()
	c := newClient(t, srv)
	c.signIn(f.tokens["alice"])
	resp, body := c.post("/releases/"+relLater+"/approve", url.Values{"csrf": {c.csrf}}, nil)
	wantStatus(t, "approve with a failing store", resp, body, http.StatusInternalServerError)
	if !strings.Contains(body, "could not be recorded, so the release is still not approved") || strings.Contains(body, "database is locked") {
		t.Errorf("the error page should say the approval failed without the cause:\n%s", body)
	}
}

func TestSessionExpires(t *testing.T) {
	f, srv := setup(t)
	c := newClient(t, srv)
	c.signIn(f.tokens["alice"])
	f.clock = fixtureNow.Add(8*time.Hour - time.Second)
	if resp, body := c.get("/violations"); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /violations just before expiry = %d\n%s", resp.StatusCode, body)
	}
	f.clock = fixtureNow.Add(8 * time.Hour)
	resp, _ := c.get("/violations")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next=%2Fviolations" {
		t.Errorf("GET /violations after expiry = %d → %q; want 303 → /signin?next=%%2Fviolations", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The cookie jar still has it (its MaxAge runs on the real clock); the
	// server refuses it.
	before := f.ledgerLen()
	resp, body := c.post("/releases/"+relLater+"/approve", url.Values{"csrf": {c.csrf}}, nil)
	wantStatus(t, "approve with an expired session", resp, body, http.StatusUnauthorized)
	if n := f.ledgerLen(); n != before {
		t.Errorf("the ledger grew from %d to %d entries", before, n)
	}
}

func TestSignOut(t *testing.T) {
	f, srv := setup(t)
	c := newClient(t, srv)
	c.signIn(f.tokens["carol"])
	// Signing out is a form too: without the CSRF token it is refused.
	resp, body := c.post("/signout", nil, nil)
	wantStatus(t, "sign out without the CSRF token", resp, body, http.StatusForbidden)
	if resp, _ := c.get("/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("still signed in after a refused sign-out? GET / = %d", resp.StatusCode)
	}
	resp, body = c.post("/signout", url.Values{"csrf": {c.csrf}}, nil)
	wantStatus(t, "sign out", resp, body, http.StatusSeeOther)
	cleared := false
	for _, ck := range resp.Cookies() {
		cleared = cleared || (ck.Name == "shipgate_session" && ck.MaxAge < 0)
	}
	if !cleared {
		t.Error("sign-out did not clear the session cookie")
	}
	if resp, _ := c.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / after sign-out = %d; want a redirect to /signin", resp.StatusCode)
	}
}

// TestSessionChecksTokenEveryTime: revoking the token ends its sessions
// at once; a changed cookie, one sealed with another key, and a store that
// cannot check tokens let nobody in.
func TestSessionChecksTokenEveryTime(t *testing.T) {
	f, srv := setup(t)
	c := newClient(t, srv)
	c.signIn(f.tokens["carol"])
	toks, err := f.srv.Tokens().List(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks {
		if tok.Name == "carol" {
			if _, err := f.srv.Tokens().Revoke(f.ctx, tok.ID, "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if resp, _ := c.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / with a revoked token's session = %d; want 303 to /signin", resp.StatusCode)
	}

	// A cookie changed by one byte, or sealed under another key.
	c = newClient(t, srv)
	c.signIn(f.tokens["alice"])
	u, _ := url.Parse(srv.URL)
	var val string
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == "shipgate_session" {
			val = ck.Value
		}
	}
	flipped := []byte(val)
	flipped[len(flipped)/2] ^= 1
	if flipped[len(flipped)/2] == '-' || flipped[len(flipped)/2] == '_' {
		flipped[len(flipped)/2] = 'A'
	}
	c.c.Jar.SetCookies(u, []*http.Cookie{{Name: "shipgate_session", Value: string(flipped), Path: "/"}})
	if resp, _ := c.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / with a changed cookie = %d; want 303", resp.StatusCode)
	}
	otherKey := f.config()
	otherKey.SessionKey = []byte(strings.Repeat("z", 32))
	other := httptest.NewServer(f.handler(otherKey))
	defer other.Close()
	oc := newClient(t, other)
	ou, _ := url.Parse(other.URL)
	oc.c.Jar.SetCookies(ou, []*http.Cookie{{Name: "shipgate_session", Value: val, Path: "/"}})
	if resp, _ := oc.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / with a cookie sealed under another key = %d; want 303", resp.StatusCode)
	}

	// Tokens that cannot be checked.
	broken := f.config()
	broken.Authenticate = func(context.Context, string) (web.Principal, error) {
		return web.Principal{}, errors.New("connection refused")
	}
	bs := httptest.NewServer(f.handler(broken))
	defer bs.Close()
	bc := newClient(t, bs)
	bu, _ := url.Parse(bs.URL)
	bc.c.Jar.SetCookies(bu, []*http.Cookie{{Name: "shipgate_session", Value: val, Path: "/"}})
	resp, body := bc.get("/")
	wantStatus(t, "GET / when tokens cannot be checked", resp, body, http.StatusServiceUnavailable)
	if strings.Contains(body, relIncident) {
		t.Error("the 503 page shows ledger data")
	}
	bc.c.Jar.SetCookies(bu, []*http.Cookie{{Name: "shipgate_session", Value: "", MaxAge: -1, Path: "/"}})
	bc.get("/signin")
	resp, body = bc.post("/signin", url.Values{"csrf": {bc.csrf}, "token": {f.tokens["alice"]}}, nil)
	wantStatus(t, "sign in when tokens cannot be checked", resp, body, http.StatusServiceUnavailable)

	// An authenticator that answers a role the dashboard does not know.
	odd := f.config()
	odd.Authenticate = func(context.Context, string) (web.Principal, error) {
		return web.Principal{Name: "x", Role: "superuser"}, nil
	}
	os := httptest.NewServer(f.handler(odd))
	defer os.Close()
	ocl := newClient(t, os)
	ocl.get("/signin")
	resp, body = ocl.post("/signin", url.Values{"csrf": {ocl.csrf}, "token": {"anything"}}, nil)
	wantStatus(t, "sign in with an unknown role", resp, body, http.StatusUnauthorized)
}

func TestOpenRedirect(t *testing.T) {
	f, srv := setup(t)
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "evil", "/%0d%0aSet-Cookie:x"} {
		c := newClient(t, srv)
		c.get("/signin")
		resp, body := c.post("/signin", url.Values{"csrf": {c.csrf}, "token": {f.tokens["carol"]}, "next": {next}}, nil)
		wantStatus(t, "sign in with next="+next, resp, body, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != "/" && !strings.HasPrefix(loc, "/%") {
			t.Errorf("next=%q sends the browser to %q; want a path here", next, loc)
		}
	}
}

func TestFormLimits(t *testing.T) {
	f, srv := setup(t)
	c := newClient(t, srv)
	c.signIn(f.tokens["alice"])
	before := f.ledgerLen()
	resp, body := c.post("/releases/"+relLater+"/approve", url.Values{"csrf": {c.csrf}, "note": {strings.Repeat("n", 2001)}}, nil)
	wantStatus(t, "approve with a long note", resp, body, http.StatusBadRequest)
	resp, body = c.post("/releases/"+relLater+"/approve", url.Values{"csrf": {c.csrf}, "note": {strings.Repeat("n", 70<<10)}}, nil)
	wantStatus(t, "approve with a huge form", resp, body, http.StatusRequestEntityTooLarge)
	if n := f.ledgerLen(); n != before {
		t.Errorf("the ledger grew from %d to %d entries", before, n)
	}
}

// TestPages reads what each page says about the fixture ledger.
func TestPages(t *testing.T) {
	f, srv := setup(t)
	checkPages(t, f, srv)
}

func checkPages(t *testing.T, f *fixture, srv *httptest.Server) {
	c := newClient(t, srv)
	c.signIn(f.tokens["carol"])

	_, body := c.get("/")
	for _, id := range []string{relAllowed, relNoApproval, relIncident, relDirectPush, relEmergency, relSelfApproved, relLater, relPlanned} {
		if !strings.Contains(body, `id="row-`+id+`"`) {
			t.Errorf("the release list has no row for %s", id)
		}
	}
	row := func(id string) string {
		i := strings.Index(body, `id="row-`+id+`"`)
		j := strings.Index(body[i:], "</tr>")
		return body[i : i+j]
	}
	if r := row(relAllowed); strings.Count(r, `class="gate allowed"`) != 3 || !strings.Contains(r, `class="gate none"`) {
		t.Errorf("%s should show deploy, verify and complete allowed and no flag decision:\n%s", relAllowed, r)
	}
	if r := row(relIncident); !strings.Contains(r, `class="gate denied"`) || !strings.Contains(r, "1 overdue") {
		t.Errorf("%s should show its deploy denied and one overdue violation:\n%s", relIncident, r)
	}
	if r := row(relPlanned); !strings.Contains(r, "waiting for approval") {
		t.Errorf("%s should wait for approval:\n%s", relPlanned, r)
	}
	if strings.Index(body, `id="row-`+relPlanned+`"`) > strings.Index(body, `id="row-`+relAllowed+`"`) {
		t.Error("the release list is not most recent first")
	}

	// The denied release: checklist, evidence kinds, the violation with its
	// rule, message and remediation, evidence with digests and actors.
	_, body = c.get("/releases/" + relIncident)
	text := html.UnescapeString(body)
	for _, want := range []string{
		`<code class="rule">forbidden.deploy-during-incident</code>`,
		"INC-42",
		`class="step failed"><td>deploy gate</td>`,
		`<li class="missing">Verification — missing</li>`,
		`<li class="present">Plan ×1</li>`,
		"ci-bot", "shipgate 0.1.0 on ci-7", "sha256:",
		"violation</th>", "overdue",
	} {
		if !strings.Contains(text, want) && !strings.Contains(strings.ToLower(text), strings.ToLower(want)) {
			t.Errorf("the page of %s does not show %q", relIncident, want)
		}
	}
	if !regexp.MustCompile(`<td class="remediation">[^<]{10,}</td>`).MatchString(body) {
		t.Errorf("the page of %s shows no remediation", relIncident)
	}

	// Violations: open ones first, overdue before the rest, then closed.
	_, body = c.get("/violations")
	vs, err := f.db.Violations(f.ctx, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var order []int
	var overdue, open int
	for _, v := range vs {
		i := strings.Index(body, `id="debt-`+v.ID+`"`)
		if i < 0 {
			t.Fatalf("the violations page does not list %s", v.ID)
		}
		if v.Status == store.StatusOpen {
			open++
			if v.Due.Before(fixtureNow) {
				overdue++
			}
		}
		order = append(order, i)
	}
	if overdue == 0 || overdue == open || open == len(vs) {
		t.Fatalf("the fixture has %d violations, %d open, %d overdue; the test needs some of each", len(vs), open, overdue)
	}
	rank := func(v store.Violation) int {
		switch {
		case v.Status == store.StatusOpen && v.Due.Before(fixtureNow):
			return 0
		case v.Status == store.StatusOpen:
			return 1
		}
		return 2
	}
	for i := range vs {
		for j := range vs {
			if rank(vs[i]) < rank(vs[j]) && order[i] > order[j] {
				t.Errorf("%s (%s, due %s) is listed after %s (%s, due %s)", vs[i].ID, vs[i].Status, vs[i].Due, vs[j].ID, vs[j].Status, vs[j].Due)
			}
		}
	}
	if !strings.Contains(body, `<strong id="overdue-count">`+strconv.Itoa(overdue)+`</strong>`) {
		t.Errorf("the violations page does not count %d overdue", overdue)
	}

	// Approvals: the releases that wait, and only those.
	_, body = c.get("/approvals")
	var waiting []string
	for _, m := range regexp.MustCompile(`<article class="waiting" id="waiting-([^"]+)"`).FindAllStringSubmatch(body, -1) {
		waiting = append(waiting, m[1])
	}
	want := []string{relLater, relPlanned, relSelfApproved, relNoApproval} // most recent activity first
	if !slices.Equal(waiting, want) {
		t.Errorf("waiting releases = %v; want %v", waiting, want)
	}
	if !strings.Contains(body, "deploy requested by <strong>bob</strong>") {
		t.Error("the approvals page does not name bob as the deployer of the self-approved release")
	}
	if !strings.Contains(body, "You are signed in without the approver role") {
		t.Error("the approvals page does not warn an auditor that an approval will be refused")
	}

	// Trends: both charts, a violated cell for each rule that fired.
	_, body = c.get("/trends")
	for _, want := range []string{`<svg class="chart"`, `class="bar-deny"`, `class="bar-allow"`, `class="cell-violated"`, `class="cell-held"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the trends page has no %q", want)
		}
	}
	// On 26 November four deploy decisions evaluated the incident rule
	// (allowed, no approval, incident, direct push) and one violated it;
	// on 30 November one evaluated approval.required and violated it.
	for _, want := range []string{"forbidden.deploy-during-incident, 2026-11-26: 1 violated in 4 decisions",
		"approval.required, 2026-11-30: 1 violated in 1 decisions", "approval.required, 2026-11-25: 0 violated in 0 decisions"} {
		if !strings.Contains(html.UnescapeString(body), want) {
			t.Errorf("the trends page has no %q", want)
		}
	}
	if resp, _ := c.get("/trends?days=0"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET /trends?days=0 = %d; want 400", resp.StatusCode)
	}
	if resp, _ := c.get("/releases/lv-unknown"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /releases/lv-unknown = %d; want 404", resp.StatusCode)
	}
}

// TestStoreDown: a store that cannot be read gives an error page, never an
// empty list that reads as "nothing is wrong".
func TestStoreDown(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(f.handler(f.config()))
	defer srv.Close()
	c := newClient(t, srv)
	c.signIn(f.tokens["carol"])
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/approvals", "/violations", "/trends", "/releases/" + relIncident} {
		resp, body := c.get(p)
		if resp.StatusCode < 500 {
			t.Errorf("GET %s with the store closed = %d; want a 5xx error page", p, resp.StatusCode)
		}
		if strings.Contains(body, "No release is waiting") || strings.Contains(body, "Nothing is open") || strings.Contains(body, "sql") {
			t.Errorf("GET %s with the store closed reads as healthy or leaks the cause:\n%s", p, body)
		}
	}
}
