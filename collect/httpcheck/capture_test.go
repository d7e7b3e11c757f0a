package httpcheck_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/collect/httpcheck"
)

// replayChecks is checks with the session captured at login and replayed,
// without the jar, after logout: the server must have ended it.
var replayChecks = strings.Replace(strings.Replace(checks, `      - '"lv_session" in cookies'
`, `      - '"lv_session" in cookies'
    capture:
      sid: cookies.lv_session
`, 1), `errorRates:`, `  - name: the session from before logout is refused
    check: logout
    url: /api/me
    cookies: none
    headers: {Cookie: "lv_session=${sid}"}
    assert:
      - status == 401
errorRates:`, 1)

// A logout that only clears the client's cookie passes a jar-only check
// (the jar drops the cookie, so /api/me is 401) and fails the replay of
// the session from before it; a logout that ends the session passes both.
func TestLogoutReplay(t *testing.T) {
	if replayChecks == checks || !strings.Contains(replayChecks, "sid: cookies.lv_session") {
		t.Fatal("replayChecks did not change checks")
	}
	tests := []struct {
		name   string
		app    *app
		src    string
		logout string // the logout check's status
		msg    string
	}{
		{"ends the session, jar only", &app{}, checks, "passed", ""},
		{"ends the session, replayed", &app{}, replayChecks, "passed",
			"POST http://"},
		{"clears the cookie only, jar only", &app{clientOnlyLogout: true}, checks, "passed", ""},
		{"clears the cookie only, replayed", &app{clientOnlyLogout: true}, replayChecks, "failed",
			`step "the session from before logout is refused": GET http://`},
		{"keeps cookie and session, replayed", &app{keepOnLogout: true}, replayChecks, "failed",
			`step "logged out": GET http://`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t, tt.app)
			got := run(t, load(t, tt.src, httpcheck.Options{Base: srv.URL}))
			c := got["logout"]
			if c.Status != tt.logout || !strings.Contains(c.Message, tt.msg) {
				t.Errorf("check logout = %s (%s); want %s containing %q", c.Status, c.Message, tt.logout, tt.msg)
			}
			if tt.logout == "failed" && !strings.Contains(c.Message, "/api/me → 200: assertion status == 401 is false: status = 200") {
				t.Errorf("check logout message %q; want /api/me → 200 named", c.Message)
			}
			for _, name := range []string{"home", "login", "api-me", "error-spike"} {
				if got[name].Status != "passed" {
					t.Errorf("check %s = %s (%s); want passed", name, got[name].Status, got[name].Message)
				}
			}
			for _, c := range got {
				if strings.Contains(c.Message, "sid-1") {
					t.Errorf("check %s message %q shows the session", c.Name, c.Message)
				}
			}
		})
	}
}

// echo is an app that sets a header, a cookie and JSON on GET /token, and
// answers on /echo/{x} with what it was sent.
func echo(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Token", "t-123")
		http.SetCookie(w, &http.Cookie{Name: "c", Value: "v-9", Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "blank", Value: "", Path: "/"})
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id": 42, "name": "n-1", "nested": {"deep": ["a", "b"]}}`)
	})
	mux.HandleFunc("/echo/{x}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		json.NewEncoder(w).Encode(map[string]string{"path": r.PathValue("x"), "token": r.Header.Get("X-Token"),
			"cookie": r.Header.Get("Cookie"), "body": string(b)})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// A header, a cookie and JSON fields captured by one step go into a later
// step's url, headers and body; without the jar only the stated headers
// are sent. A value that cannot be captured fails its step, and every
// step that needs it; a value never shows in a message.
func TestCaptures(t *testing.T) {
	srv := echo(t)
	const src = `
vars: {prefix: v}
steps:
  - check: token
    url: /token
    assert: [status == 200]
    capture:
      tok: headers["x-token"]
      ck: cookies.c
      name: json.name
      id: string(int(json.id))
      deep: json.nested.deep[1]
  - check: sent
    method: POST
    url: /echo/${name}
    cookies: none
    headers: {X-Token: "${prefix}-${tok}"}
    body: {id: "${id}", list: ["${ck}", 1], deep: "${deep}"}
    assert:
      - json.path == "n-1"
      - json.token == "v-t-123"
      - json.cookie == ""
      - json.body == '{"deep":"b","id":"42","list":["v-9",1]}'
  - check: jar
    method: PUT
    url: /echo/jar
    body: "raw ${tok}"
    assert:
      - json.cookie.contains("c=v-9")
      - json.body == "raw t-123"
  - check: not-a-string
    url: /token
    assert: [status == 200]
    capture: {n: json.id}
  - check: no-such-cookie
    url: /token
    assert: [status == 200]
    capture: {gone: cookies.nope}
  - check: empty
    url: /token
    assert: [status == 200]
    capture: {blank: cookies.blank}
  - check: false-assertion
    url: /token
    assert: [status == 201]
    capture: {skipped: 'headers["x-token"]'}
  - check: needs-it
    url: /echo/${gone}
    assert: [status == 200]
  - check: needs-skipped
    url: /echo/x
    headers: {X-Token: "${skipped}"}
    assert: [status == 200]
  - check: fails-after-capture
    url: /echo/${tok}
    assert: [json.token == "x"]
`
	got := run(t, load(t, src, httpcheck.Options{Base: srv.URL}))
	tests := []struct{ check, status, msg string }{
		{"token", "passed", "GET " + srv.URL + "/token → 200"},
		{"sent", "passed", "POST " + srv.URL + "/echo/${name} → 200"},
		{"jar", "passed", "PUT " + srv.URL + "/echo/jar → 200"},
		{"not-a-string", "error", "capture n = json.id returned a double, want a string"},
		{"no-such-cookie", "failed", "capture gone = cookies.nope failed: no such key: nope; observed cookies = [\"blank\",\"c\"] (names only)"},
		{"empty", "failed", "capture blank = cookies.blank is empty"},
		{"false-assertion", "failed", "assertion status == 201 is false"},
		{"needs-it", "failed", `step "GET /echo/${gone}": ${gone} was not captured: step "GET /token" did not pass`},
		{"needs-skipped", "failed", `${skipped} was not captured: step "GET /token" did not pass`},
		{"fails-after-capture", "failed", "GET " + srv.URL + "/echo/${tok} → 200: assertion json.token == \"x\" is false"},
	}
	for _, tt := range tests {
		c := got[tt.check]
		if c.Status != tt.status || !strings.Contains(c.Message, tt.msg) {
			t.Errorf("check %s = %s (%s); want %s containing %q", tt.check, c.Status, c.Message, tt.status, tt.msg)
		}
		if strings.Contains(c.Message, "t-123") || strings.Contains(c.Message, "v-9") || strings.Contains(c.URL, "n-1") {
			t.Errorf("check %s (%s, %s) shows a captured value", tt.check, c.Message, c.URL)
		}
	}
	if u := got["fails-after-capture"].URL; u != srv.URL+"/echo/${tok}" {
		t.Errorf("fails-after-capture URL = %q; want the url as written", u)
	}
}

// A ${name} that is neither a var nor captured by an earlier step is a
// load error at its file:line:col, as is every misuse of capture.
func TestLoadCaptureErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"used before captured", `
base: http://app
steps:
  - name: replay
    check: logout
    url: /api/me
    headers: {Cookie: "lv_session=${sid}"}
    assert: [status == 401]
  - name: log in
    check: login
    url: /login
    assert: [status == 200]
    capture: {sid: cookies.lv_session}
`, []string{`checks.yaml:7:23: steps[0] "replay" headers.Cookie: ${sid} is used before it is captured: steps[1] "log in", later, captures it`}},
		{"used by its own step", `
base: http://app
steps:
  - check: login
    url: /login?s=${sid}
    assert: [status == 200]
    capture: {sid: cookies.lv_session}
`, []string{`checks.yaml:5:10: steps[0] url: ${sid} is used before it is captured: this step captures it from its own response`}},
		{"in a body", `
base: http://app
steps:
  - check: login
    method: POST
    url: /login
    body: {a: [1, "${later}"]}
    assert: [status == 200]
  - check: later
    url: /
    assert: [status == 200]
    capture: {later: body}
`, []string{`checks.yaml:7:11: steps[0] body: ${later} is used before it is captured: steps[1], later, captures it`}},
		{"unknown", `
base: http://app
vars: {user: u}
steps:
  - check: home
    url: /${nope}
    assert: [status == 200]
    capture: {sid: body}
`, []string{`checks.yaml:6:10: steps[0] url: unknown var ${nope} (vars: user; captured: sid)`}},
		{"in ready", `
base: http://app
ready: {url: "/${sid}"}
steps:
  - check: home
    url: /
    assert: [status == 200]
    capture: {sid: body}
`, []string{`checks.yaml:3:14: ready url: ${sid} is a captured value: only steps after steps[0] can send it`}},
		{"misuse", `
base: http://app
vars: {user: u}
steps:
  - check: home
    url: /
    cookies: off
    assert: [status == 200]
    capture:
      user: body
      1x: body
      n: status
      s: jsn.x
  - check: again
    url: /
    assert: [status == 200]
    capture: {s: body}
`, []string{
			`checks.yaml:10:13: steps[0] capture.user: a var has this name: ${user} would mean either`,
			`checks.yaml:11:11: steps[0] capture.1x: want a name of letters, digits and _, not starting with a digit`,
			`checks.yaml:12:10: steps[0] capture.n "status": the expression is a int, want a string`,
			`checks.yaml:13:10: steps[0] capture.s "jsn.x": 1:1: undeclared reference to 'jsn'`,
			`checks.yaml:17:18: steps[1] capture.s: already captured by steps[0]: capture each name once`,
			`checks.yaml: steps[0] cookies: "off": want jar (the default: the run's cookie jar) or none (only the headers stated)`,
		}},
		{"bad ready", `
base: http://app
ready: {timeout: -1s, interval: -1s, assert: [status]}
steps:
  - check: home
    url: /
    assert: [status == 200]
`, []string{"ready timeout: must not be negative", "ready interval: must not be negative",
			`checks.yaml:3:47: ready assert[0] "status": the expression is a int, want a bool`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := httpcheck.Load("checks.yaml", []byte(tt.src), httpcheck.Options{})
			if err == nil {
				t.Fatalf("Load = nil error; want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}
