package httpcheck_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/collect/httpcheck"
)

// app is a fake LocalizeVideos: a home page, JSON login with a session
// cookie, /api/me, logout, and prom-client style request counters.
type app struct {
	me           string // the user /api/me answers with; "" is the logged-in user
	keepOnLogout bool   // logout answers 204 but leaves the session valid
	// clientOnlyLogout: logout clears the cookie in the client only; the
	// session stays valid on the server.
	clientOnlyLogout bool
	metrics          func(scrape int, counts map[string]int) string
	mu               sync.Mutex
	sessions         map[string]string
	counts           map[string]int
	scrapes          int
}

func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html><title>LocalizeVideos</title><body>Translate your videos</body></html>")
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		var c struct{ Email, Password string }
		if err := json.NewDecoder(r.Body).Decode(&c); err != nil || c.Password != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		a.mu.Lock()
		a.sessions["sid-1"] = c.Email
		a.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "lv_session", Value: "sid-1", Path: "/", HttpOnly: true})
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok": true}`)
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		c, err := r.Cookie("lv_session")
		a.mu.Lock()
		user, ok := "", false
		if err == nil {
			user, ok = a.sessions[c.Value]
		}
		a.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error": "not logged in"}`)
			return
		}
		if a.me != "" {
			user = a.me
		}
		json.NewEncoder(w).Encode(map[string]string{"user": user})
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("lv_session"); err == nil && !a.keepOnLogout {
			if !a.clientOnlyLogout {
				a.mu.Lock()
				delete(a.sessions, c.Value)
				a.mu.Unlock()
			}
			http.SetCookie(w, &http.Cookie{Name: "lv_session", Value: "", Path: "/", MaxAge: -1})
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.scrapes++
		counts := map[string]int{}
		for k, v := range a.counts {
			counts[k] = v
		}
		n := a.scrapes
		a.mu.Unlock()
		if a.metrics != nil {
			fmt.Fprint(w, a.metrics(n, counts))
			return
		}
		fmt.Fprint(w, exposition(counts))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: 200}
		mux.ServeHTTP(rec, r)
		if r.URL.Path != "/metrics" {
			a.mu.Lock()
			a.counts[fmt.Sprint(rec.code)]++
			a.mu.Unlock()
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func exposition(counts map[string]int) string {
	var b strings.Builder
	b.WriteString("# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n")
	for _, code := range []string{"200", "204", "401", "500"} {
		fmt.Fprintf(&b, "http_requests_total{method=\"GET\",code=%q} %d\n", code, counts[code])
	}
	return b.String()
}

func start(t *testing.T, a *app) *httptest.Server {
	t.Helper()
	a.sessions, a.counts = map[string]string{}, map[string]int{}
	srv := httptest.NewServer(a.handler())
	t.Cleanup(srv.Close)
	return srv
}

const checks = `
base: http://127.0.0.1:1
timeout: 2s
vars:
  user: smoke@localizevideos.com
  password: s3cret
steps:
  - name: home page
    check: home
    url: /
    assert:
      - status == 200
      - body.contains("LocalizeVideos")
  - name: log in
    check: login
    method: POST
    url: /login
    body: {email: "${user}", password: "${password}"}
    assert:
      - status == 200
      - '"lv_session" in cookies'
  - name: who am I
    check: api-me
    url: /api/me
    assert:
      - status == 200
      - json.user == vars.user
  - name: log out
    check: logout
    method: POST
    url: /logout
    assert:
      - status in [200, 204]
  - name: logged out
    check: logout
    url: /api/me
    assert:
      - status == 401
errorRates:
  - check: error-spike
    metrics:
      url: /metrics
      interval: 50ms
    baseline: 0.005
    condition: observed <= baseline * 1.5 + 0.01
`

func load(t *testing.T, src string, o httpcheck.Options) *httpcheck.Suite {
	t.Helper()
	s, err := httpcheck.Load("checks.yaml", []byte(src), o)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func run(t *testing.T, s *httpcheck.Suite) map[string]httpcheck.Check {
	t.Helper()
	r := &httpcheck.Runner{Now: time.Now}
	res := r.Run(context.Background(), s)
	got := map[string]httpcheck.Check{}
	for _, c := range res.Checks {
		got[c.Name] = c
		t.Logf("%s %s: %s", c.Name, c.Status, c.Message)
	}
	return got
}

func TestRun(t *testing.T) {
	spike := func(n int, counts map[string]int) string {
		if n > 1 {
			counts["500"] += 40
		}
		return exposition(counts)
	}
	tests := []struct {
		name string
		app  *app
		// want is the status of each check; msgs are substrings of the
		// failing checks' messages.
		want map[string]string
		msgs map[string][]string
	}{
		{"all pass", &app{}, map[string]string{"home": "passed", "login": "passed", "api-me": "passed", "logout": "passed", "error-spike": "passed"},
			map[string][]string{"error-spike": {"error rate 0.00% (0 of 5 requests over 50ms) vs baseline 0.50%", "holds"}}},
		{"wrong user", &app{me: "eve@example.com"}, map[string]string{"home": "passed", "login": "passed", "api-me": "failed", "logout": "passed", "error-spike": "passed"},
			map[string][]string{"api-me": {`step "who am I": GET http://`, `/api/me → 200: assertion json.user == vars.user is false`,
				`json.user = "eve@example.com"`, `vars.user = "smoke@localizevideos.com"`}}},
		{"logout keeps the session", &app{keepOnLogout: true}, map[string]string{"home": "passed", "login": "passed", "api-me": "passed", "logout": "failed", "error-spike": "passed"},
			map[string][]string{"logout": {`step "logged out"`, `/api/me → 200: assertion status == 401 is false: status = 200`}}},
		{"5xx spike", &app{metrics: spike}, map[string]string{"home": "passed", "error-spike": "failed"},
			map[string][]string{"error-spike": {"error rate 88.89% (40 of 45 requests over 50ms)", "condition observed <= baseline * 1.5 + 0.01 is false: observed = 0.888"}}},
		{"NaN counter", &app{metrics: func(int, map[string]int) string {
			return "# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} NaN\n"
		}}, map[string]string{"error-spike": "failed"}, map[string][]string{"error-spike": {"no data", "NaN", "a check without data fails"}}},
		{"empty metrics", &app{metrics: func(int, map[string]int) string { return "" }}, map[string]string{"error-spike": "failed"},
			map[string][]string{"error-spike": {"no data: no metric http_requests_total"}}},
		{"counter reset", &app{metrics: func(n int, counts map[string]int) string {
			if n > 1 {
				return exposition(map[string]int{})
			}
			return exposition(map[string]int{"200": 1000})
		}}, map[string]string{"error-spike": "failed"}, map[string][]string{"error-spike": {"no data", "went down"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t, tt.app)
			got := run(t, load(t, checks, httpcheck.Options{Base: srv.URL}))
			for name, status := range tt.want {
				if got[name].Status != status {
					t.Errorf("check %s = %s (%s); want %s", name, got[name].Status, got[name].Message, status)
				}
			}
			for name, subs := range tt.msgs {
				for _, sub := range subs {
					if !strings.Contains(got[name].Message, sub) {
						t.Errorf("check %s message %q; want it to contain %q", name, got[name].Message, sub)
					}
				}
			}
		})
	}
}

func TestRunOrderAndResult(t *testing.T) {
	srv := start(t, &app{})
	r := &httpcheck.Runner{Now: time.Now}
	res := r.Run(context.Background(), load(t, checks, httpcheck.Options{Base: srv.URL}))
	var names []string
	for _, c := range res.Checks {
		names = append(names, c.Name)
	}
	if got, want := strings.Join(names, ","), "home,login,api-me,logout,error-spike"; got != want {
		t.Errorf("checks = %s; want %s", got, want)
	}
	if !res.Passed() || res.Target != srv.URL {
		t.Errorf("Passed() = %v, Target = %q; want true, %q", res.Passed(), res.Target, srv.URL)
	}
	if res.Checks[0].URL != srv.URL+"/" {
		t.Errorf("home URL = %q; want %q", res.Checks[0].URL, srv.URL+"/")
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name":"home","status":"passed"`, `"startedAt":"`, `"target":"` + srv.URL + `"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s; want %s", b, want)
		}
	}
}

// An app that is down fails every check, and is not an error.
func TestRunUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	got := run(t, load(t, checks, httpcheck.Options{Base: base}))
	for _, name := range []string{"home", "login", "api-me", "logout", "error-spike"} {
		if got[name].Status != "failed" {
			t.Errorf("check %s = %s (%s); want failed", name, got[name].Status, got[name].Message)
		}
	}
	if m := got["error-spike"].Message; !strings.Contains(m, "no data") {
		t.Errorf("error-spike message %q; want no data", m)
	}
	if m := got["home"].Message; !strings.Contains(m, "connection refused") {
		t.Errorf("home message %q; want connection refused", m)
	}
}

// The /metrics server is down while the app is up.
func TestRunMetricsDown(t *testing.T) {
	srv := start(t, &app{})
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	src := strings.Replace(checks, "url: /metrics", "url: "+down.URL+"/metrics", 1)
	got := run(t, load(t, src, httpcheck.Options{Base: srv.URL}))
	if c := got["error-spike"]; c.Status != "failed" || !strings.Contains(c.Message, "no data: metrics "+down.URL) {
		t.Errorf("error-spike = %s (%s); want failed, no data", c.Status, c.Message)
	}
	if got["home"].Status != "passed" {
		t.Errorf("home = %s; want passed", got["home"].Status)
	}
}

// Without a baseline in the file, the ratio at the first scrape is the
// baseline.
func TestRunScrapedBaseline(t *testing.T) {
	a := &app{metrics: func(n int, counts map[string]int) string {
		counts["200"] += 990
		counts["500"] += 10
		return exposition(counts)
	}}
	srv := start(t, a)
	src := strings.Replace(checks, "    baseline: 0.005\n", "", 1)
	got := run(t, load(t, src, httpcheck.Options{Base: srv.URL}))
	if c := got["error-spike"]; c.Status != "passed" || !strings.Contains(c.Message, "vs baseline (10 of 1000 requests before) 1.00%") {
		t.Errorf("error-spike = %s (%s); want passed against the scraped baseline", c.Status, c.Message)
	}
}

// prometheus is a fake Prometheus HTTP API: each query answers with the
// JSON body (or status) its function returns.
func prometheus(t *testing.T, answer func(query string) (int, string)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" {
			http.NotFound(w, r)
			return
		}
		code, body := answer(r.FormValue("query"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func vector(v string) (int, string) {
	return 200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1764151200,"` + v + `"]}]}}`
}

func TestRunPrometheus(t *testing.T) {
	const src = `
base: http://127.0.0.1:1
errorRates:
  - prometheus:
      url: %s
      query: sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))
    baselineQuery: errors:baseline
    timeout: 300ms
    condition: observed <= baseline * 1.5 + 0.01
`
	tests := []struct {
		name   string
		answer func(q string) (int, string)
		status string
		msg    string
	}{
		{"below baseline", func(q string) (int, string) {
			if q == "errors:baseline" {
				return vector("0.004")
			}
			return vector("0.002")
		}, "passed", "observed 0.002 vs baseline 0.004: observed <= baseline * 1.5 + 0.01 holds"},
		{"spike", func(q string) (int, string) {
			if q == "errors:baseline" {
				return vector("0.004")
			}
			return vector("0.2")
		}, "failed", "condition observed <= baseline * 1.5 + 0.01 is false: observed = 0.2"},
		{"NaN", func(string) (int, string) { return vector("NaN") }, "failed", "no data: query sum(rate("},
		{"empty vector", func(string) (int, string) {
			return 200, `{"status":"success","data":{"resultType":"vector","result":[]}}`
		}, "failed", "empty result"},
		{"several series", func(string) (int, string) {
			return 200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"0"]},{"metric":{"a":"2"},"value":[1,"0"]}]}}`
		}, "failed", "2 series, want one"},
		{"query error", func(string) (int, string) {
			return 400, `{"status":"error","errorType":"bad_data","error":"parse error at char 5"}`
		}, "failed", "parse error at char 5"},
		{"timeout", func(string) (int, string) {
			time.Sleep(time.Second)
			return vector("0")
		}, "failed", "no data: timed out after 300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := load(t, fmt.Sprintf(src, prometheus(t, tt.answer)), httpcheck.Options{})
			got := run(t, s)["error-spike"]
			if got.Status != tt.status || !strings.Contains(got.Message, tt.msg) {
				t.Errorf("error-spike = %s (%s); want %s containing %q", got.Status, got.Message, tt.status, tt.msg)
			}
		})
	}
}

func TestRunAssertionErrors(t *testing.T) {
	srv := start(t, &app{})
	const src = `
steps:
  - check: home
    url: /
    assert: ['json.user == "x"']
  - check: api-me
    url: /api/me
    assert: [json.user == vars.user]
  - check: cost
    url: /
    assert: ['[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, [1,2,3,4,5,6,7,8,9,10].all(g, a+b+c+d+e+f+g > 0)))))))']
  - check: dyn
    url: /api/me
    assert: [json]
vars: {user: smoke}
`
	got := run(t, load(t, src, httpcheck.Options{Base: srv.URL}))
	tests := []struct{ check, status, msg string }{
		// A body that is not JSON is null.
		{"home", "failed", `assertion json.user == "x" failed: `},
		{"home", "failed", `observed json = null`},
		// Logged out: the JSON has no user.
		{"api-me", "failed", "/api/me → 401: assertion json.user == vars.user failed: no such key: user; observed json = {\"error\":\"not logged in\"}"},
		{"cost", "error", "exceeded the cost limit"},
		{"dyn", "error", "returned a map, want a bool"},
	}
	for _, tt := range tests {
		if c := got[tt.check]; c.Status != tt.status || !strings.Contains(c.Message, tt.msg) {
			t.Errorf("check %s = %s (%s); want %s containing %q", tt.check, c.Status, c.Message, tt.status, tt.msg)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"undeclared variable", `
base: http://app
steps:
  - name: who am I
    check: api-me
    url: /api/me
    assert:
      - status == 200
      - jsn.user == vars.user
`, []string{`checks.yaml:9:9: steps[0] "who am I" assert[1] "jsn.user == vars.user": 1:1: undeclared reference to 'jsn'`}},
		{"syntax error", `
base: http://app
steps:
  - check: home
    url: /
    assert: [status ==]
`, []string{`checks.yaml:6:14: steps[0] assert[0] "status ==": 1:10: Syntax error`}},
		{"not a bool", `
base: http://app
steps:
  - check: home
    url: /
    assert: [status + 1]
`, []string{`checks.yaml:6:14: steps[0] assert[0] "status + 1": the expression is a int, want a bool`}},
		{"bad condition", `
base: http://app
errorRates:
  - metrics: {url: /metrics}
    baseline: 0.1
    condition: observed <= baselin
`, []string{`checks.yaml:6:16: errorRates[0] (check error-spike) condition "observed <= baselin": 1:13: undeclared reference to 'baselin'`}},
		{"unknown field", `
base: http://app
steps:
  - check: home
    url: /
    asert: [status == 200]
`, []string{`checks.yaml:6:5: unknown field "asert"`}},
		{"duplicate key", `
base: http://app
base: http://other
`, []string{`checks.yaml:3:1: mapping key "base" already defined at [2:1]`}},
		{"no base", `
steps:
  - check: home
    url: /
    assert: [status == 200]
`, []string{"checks.yaml: base: no base URL: set base in the file or give --base"}},
		{"missing parts", `
base: http://app
steps:
  - url: /${nope}
errorRates:
  - prometheus: {url: "http://prom:9090"}
`, []string{"steps[0]: no check", "unknown var ${nope}", "steps[0]: no assert", "prometheus.query: no query",
			"give baseline (a value) or baselineQuery", "no condition"}},
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

// Vars from the command line override the file's; the base flag replaces
// the file's base.
func TestLoadOptions(t *testing.T) {
	a := &app{me: "ops@localizevideos.com"}
	srv := start(t, a)
	src := strings.Replace(checks, "base: http://127.0.0.1:1", "base: http://127.0.0.1:1/ignored", 1)
	got := run(t, load(t, src, httpcheck.Options{Base: srv.URL + "/", Vars: map[string]string{"user": "ops@localizevideos.com"}}))
	if got["api-me"].Status != "passed" || got["login"].Status != "passed" {
		t.Errorf("api-me = %s (%s), login = %s; want passed", got["api-me"].Status, got["api-me"].Message, got["login"].Status)
	}
}

// Failure messages go into the ledger: they never carry cookie values,
// credential headers or password-like vars.
func TestRunRedacts(t *testing.T) {
	srv := start(t, &app{})
	const src = `
vars: {user: smoke@localizevideos.com, password: s3cret}
steps:
  - check: cookies
    method: POST
    url: /login
    body: {email: "${user}", password: "${password}"}
    assert: ['"other" in cookies']
  - check: cookie-value
    method: POST
    url: /login
    body: {email: "${user}", password: "${password}"}
    assert: ['cookies.lv_session == "x"']
  - check: headers
    method: POST
    url: /login
    body: {email: "${user}", password: "${password}"}
    assert: ['headers["set-cookie"] == "x"', '"x" in headers']
  - check: all-headers
    method: POST
    url: /login
    body: {email: "${user}", password: "${password}"}
    assert: ['"x" in headers']
  - check: vars
    url: /
    assert: ['vars.password == "x" || "x" in vars']
`
	got := run(t, load(t, src, httpcheck.Options{Base: srv.URL}))
	for name, want := range map[string]string{
		"cookies":      `cookies = ["lv_session"] (names only)`,
		"cookie-value": `cookies.lv_session = (redacted)`,
		"headers":      `headers["set-cookie"] = (redacted)`,
		"all-headers":  `"set-cookie":"(redacted)"`,
		"vars":         `vars.password = (redacted), vars = ["password","user"] (names only)`,
	} {
		c := got[name]
		if c.Status != "failed" || !strings.Contains(c.Message, want) {
			t.Errorf("check %s = %s (%s); want failed containing %q", name, c.Status, c.Message, want)
		}
		if strings.Contains(c.Message, "sid-1") || strings.Contains(c.Message, "s3cret") {
			t.Errorf("check %s message %q shows a secret", name, c.Message)
		}
	}
}
