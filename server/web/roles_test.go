package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Each role sees on the dashboard exactly what the API shows it: for
// every page and the API route that answers the same data, both allow or
// both refuse. (The admin and pipeline roles, which the API refuses the
// ledger, used to read every page.)
func TestDashboardShowsWhatTheAPIShows(t *testing.T) {
	f, srv := setup(t)
	api := httptest.NewServer(f.srv.Handler())
	t.Cleanup(api.Close)
	pairs := []struct {
		method, page string
		apiMethod    string
		apiPath      string
	}{
		{"GET", "/", "GET", "/v1/releases"},
		{"GET", "/?service=localizevideos-app", "GET", "/v1/releases?service=localizevideos-app"},
		{"GET", "/releases/" + relAllowed, "GET", "/v1/releases/" + relAllowed},
		{"GET", "/approvals", "GET", "/v1/releases"},
		{"GET", "/violations", "GET", "/v1/violations"},
		{"GET", "/trends", "GET", "/v1/violations"},
		{"POST", "/releases/" + relLater + "/approve", "POST", "/v1/releases/" + relLater + "/approvals"},
	}
	for name := range fixtureRoles {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, srv)
			c.signIn(f.tokens[name])
			for _, p := range pairs {
				var resp *http.Response
				var body string
				if p.method == "POST" {
					resp, body = c.post(p.page, url.Values{"csrf": {c.csrf}, "note": {"ok"}}, nil)
				} else {
					resp, body = c.get(p.page)
				}
				webAllows := resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusSeeOther
				if !webAllows && resp.StatusCode != http.StatusForbidden {
					t.Fatalf("%s %s = %d; want 200, 303 or 403\n%s", p.method, p.page, resp.StatusCode, body)
				}
				req, err := http.NewRequest(p.apiMethod, api.URL+p.apiPath, nil)
				if err != nil {
					t.Fatal(err)
				}
				if p.apiMethod == "POST" {
					req.Body = http.NoBody
					req.Header.Set("Content-Type", "application/json")
				}
				req.Header.Set("Authorization", "Bearer "+f.tokens[name])
				ar, err := api.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				ar.Body.Close()
				apiAllows := ar.StatusCode/100 == 2
				if !apiAllows && ar.StatusCode != http.StatusForbidden {
					t.Fatalf("%s %s = %d; want 2xx or 403", p.apiMethod, p.apiPath, ar.StatusCode)
				}
				if webAllows != apiAllows {
					t.Errorf("%s (%s): the dashboard's %s %s answers %d, the API's %s %s answers %d",
						name, fixtureRoles[name], p.method, p.page, resp.StatusCode, p.apiMethod, p.apiPath, ar.StatusCode)
				}
				if !webAllows && !strings.Contains(body, "here as in the API") {
					t.Errorf("%s %s refused %s without saying why:\n%s", p.method, p.page, name, body)
				}
			}
		})
	}
}
