package cmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/cmd"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// fakeApp is LocalizeVideos over real HTTP on loopback: a home page, JSON
// login setting lv_session, /api/me, logout, /api/version (the checks'
// readiness probe) and /metrics.
type fakeApp struct {
	me       string // /api/me answers with this user instead of the logged-in one
	errors   int    // 5xx responses /metrics adds from its second scrape on
	mu       sync.Mutex
	sessions map[string]string
	codes    map[int]int
	scrapes  int
}

func (a *fakeApp) start(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(a.handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// startLate serves the app on a loopback port that opens only after
// delay, as an app restarted by pm2 does; its URL is known at once.
func (a *fakeApp) startLate(t *testing.T, delay time.Duration) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv := httptest.NewUnstartedServer(a.handler())
	started := make(chan struct{})
	timer := time.AfterFunc(delay, func() {
		defer close(started)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen on %s after %s: %v", addr, delay, err)
			return
		}
		srv.Listener.Close()
		srv.Listener = l
		srv.Start()
	})
	t.Cleanup(func() {
		if timer.Stop() {
			return
		}
		<-started
		srv.Close()
	})
	return "http://" + addr
}

func (a *fakeApp) handler() http.Handler {
	a.sessions, a.codes = map[string]string{}, map[int]int{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"commit":"3f2c9a0e5b1d"}`)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>LocalizeVideos</title>")
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		var c struct{ Email, Password string }
		if json.NewDecoder(r.Body).Decode(&c) != nil || c.Password != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		a.mu.Lock()
		a.sessions["s1"] = c.Email
		a.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "lv_session", Value: "s1", Path: "/"})
		fmt.Fprint(w, `{"ok":true}`)
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("lv_session")
		a.mu.Lock()
		user, ok := "", false
		if err == nil {
			user, ok = a.sessions[c.Value]
		}
		a.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if a.me != "" {
			user = a.me
		}
		json.NewEncoder(w).Encode(map[string]string{"user": user})
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("lv_session"); err == nil {
			a.mu.Lock()
			delete(a.sessions, c.Value)
			a.mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.scrapes++
		errs := a.codes[500]
		if a.scrapes > 1 {
			errs += a.errors
		}
		fmt.Fprintf(w, "# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} %d\nhttp_requests_total{code=\"204\"} %d\nhttp_requests_total{code=\"401\"} %d\nhttp_requests_total{code=\"500\"} %d\n",
			a.codes[200], a.codes[204], a.codes[401], errs)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &codeRecorder{ResponseWriter: w, code: 200}
		mux.ServeHTTP(rec, r)
		if r.URL.Path != "/metrics" {
			a.mu.Lock()
			a.codes[rec.code]++
			a.mu.Unlock()
		}
	})
}

type codeRecorder struct {
	http.ResponseWriter
	code int
}

func (c *codeRecorder) WriteHeader(code int) {
	c.code = code
	c.ResponseWriter.WriteHeader(code)
}

// releaseLedger records the allowed example's Plan and a succeeded Deploy
// that finished two minutes ago, so that the verify gate judges only the
// Verification that verify records. The Deploy, edited, is signed again,
// with the key the test's steps sign with (signingKey): they trust it.
func releaseLedger(t *testing.T) (dir, db string) {
	t.Helper()
	dir = t.TempDir()
	db = filepath.Join(dir, "ledger.db")
	now := time.Now().UTC()
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	for _, f := range []struct {
		name  string
		edits map[string]string
	}{
		{"plan.json", map[string]string{`"2026-11-26T09:30:00Z"`: `"` + ts(-time.Hour) + `"`}},
		{"deploy.json", map[string]string{`"2026-11-26T10:06:10Z"`: `"` + ts(-2*time.Minute) + `"`,
			`"2026-11-26T10:06:00Z"`: `"` + ts(-3*time.Minute) + `"`, `"2026-11-26T10:06:08.4Z"`: `"` + ts(-2*time.Minute) + `"`}},
	} {
		writeExample(t, dir, f.name, f.edits)
	}
	signingKey(t, dir)
	shipgate(t, 0, "evidence", "add", filepath.Join(dir, "plan.json"), filepath.Join(dir, "deploy.json"), "--store", db, "--trusted-key", filepath.Join(dir, "evidence.pub"))
	return dir, db
}

// writeExample writes the allowed example's document name to dir with
// edits made; one that was signed is signed again with signingKey(t, dir).
func writeExample(t *testing.T, dir, name string, edits map[string]string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "localizevideos", "evidence", "allowed", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(keys.Open(b))
	for old, repl := range edits {
		if !strings.Contains(s, old) {
			t.Fatalf("%s has no %s", name, old)
		}
		s = strings.ReplaceAll(s, old, repl)
	}
	out := []byte(s)
	if !bytes.Equal(keys.Open(b), b) {
		kb, err := os.ReadFile(signingKey(t, dir))
		if err != nil {
			t.Fatal(err)
		}
		k, err := ledger.ParsePrivateKey(kb)
		if err != nil {
			t.Fatal(err)
		}
		if out, err = evidence.NewSigner(k).Seal(context.Background(), out); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, name), out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// shipgate runs the command line and requires exit code want.
func shipgate(t *testing.T, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cmd.Execute(context.Background(), args, cmd.Streams{Out: &out, Err: &errb})
	if code != want {
		t.Fatalf("shipgate %s = exit %d; want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// exampleChecks is the shipped example, with a short scrape interval and
// a readiness timeout of 2s.
func exampleChecks(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "localizevideos", "checks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for old, repl := range map[string]string{"interval: 30s": "interval: 100ms", "  timeout: 30s\n  interval: 500ms": "  timeout: 2s\n  interval: 100ms"} {
		if !strings.Contains(s, old) {
			t.Fatalf("checks.yaml has no %q", old)
		}
		s = strings.Replace(s, old, repl, 1)
	}
	path := filepath.Join(dir, "checks.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var recordedRE = regexp.MustCompile(`recorded Verification (passed|failed) for release lv-2026-11-26.1 @ 3f2c9a0e5b1d: (sha256:[0-9a-f]{64}) signed by (sha256:[0-9a-f]{64})`)

// verifySigningKey is dir's evidence signing key pair (signingKey), made
// on first use.
func verifySigningKey(t *testing.T, dir string) (priv, pub string, id string) {
	t.Helper()
	priv = signingKey(t, dir)
	pub = filepath.Join(dir, "evidence.pub")
	pubPEM, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ledger.ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub, evidence.KeyID(k)
}

func TestVerify(t *testing.T) {
	const release = "lv-2026-11-26.1"
	tests := []struct {
		name     string
		app      *fakeApp
		base     string // "" is the app's URL
		noReady  bool   // the checks file has no ready: it does not wait
		code     int
		recorded string   // the Verification's status
		checks   []string // "name status" in the Verification
		stderr   []string
	}{
		{"all pass", &fakeApp{}, "", false, 0, "passed",
			[]string{"home passed", "login passed", "api-me passed", "logout passed", "error-spike passed"}, nil},
		{"wrong user", &fakeApp{me: "eve@example.com"}, "", false, 1, "failed",
			[]string{"home passed", "login passed", "api-me failed", "logout passed", "error-spike passed"},
			[]string{`json.user = "eve@example.com", vars.user = "smoke@localizevideos.com"`, "verify denied: rollback required"}},
		{"error spike", &fakeApp{errors: 50}, "", false, 1, "failed",
			[]string{"home passed", "api-me passed", "error-spike failed"},
			[]string{"check error-spike failed: http_requests_total error rate", "rollback required"}},
		// Without a readiness wait, an app that does not answer is a
		// denial, recorded; not an error. (With one, see
		// TestVerifyNotReady.)
		{"unreachable", nil, "http://127.0.0.1:1", true, 1, "failed",
			[]string{"home failed", "login failed", "api-me failed", "logout failed", "error-spike failed"},
			[]string{"connection refused", "no data", "rollback required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, db := releaseLedger(t)
			base := tt.base
			if tt.app != nil {
				base = tt.app.start(t)
			}
			key, pub, keyID := verifySigningKey(t, dir)
			checks := exampleChecks(t, dir)
			if tt.noReady {
				checks = withoutReady(t, checks)
			}
			out, errs := shipgate(t, tt.code, "verify", "--release", release, "--checks", checks,
				"--base", base, "--var", "password=s3cret", "--actor", "dave", "--store", db, "--output", "json",
				"--signing-key", key)
			for _, w := range tt.stderr {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr:\n%s\nwant %q", errs, w)
				}
			}
			m := recordedRE.FindStringSubmatch(errs)
			if m == nil || m[1] != tt.recorded || m[3] != keyID {
				t.Fatalf("stderr:\n%s\nwant a recorded Verification %s signed by %s", errs, tt.recorded, keyID)
			}
			// The ledger keeps it in its DSSE envelope, whose signature
			// verifies with the signer's public key and no other.
			verifySigned(t, db, m[2], pub, keyID)
			var d struct {
				ID    string `json:"id"`
				Gate  string `json:"gate"`
				Allow bool   `json:"allow"`
			}
			if err := json.Unmarshal([]byte(out), &d); err != nil {
				t.Fatalf("decision: %v\n%s", err, out)
			}
			if d.Gate != "verify" || d.Allow != (tt.code == 0) {
				t.Errorf("decision gate %s allow %v; want verify %v", d.Gate, d.Allow, tt.code == 0)
			}

			// The decision is in the ledger, made from the Verification.
			shown, _ := shipgate(t, 0, "decision", "show", d.ID, "--store", db, "--output", "json")
			var rec struct {
				Replay struct{ Evidence []string } `json:"replay"`
			}
			if err := json.Unmarshal([]byte(shown), &rec); err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(rec.Replay.Evidence, m[2]) {
				t.Errorf("decision %s was made from %v; want the Verification %s among them", d.ID, rec.Replay.Evidence, m[2])
			}
			// The Verification is in the ledger with every check.
			in, _ := shipgate(t, 0, "gate", "verify", "--release", release, "--store", db, "--print-input", "--trusted-key", pub)
			var input struct {
				Evidence struct {
					Verification []struct {
						Data struct {
							Checks []struct{ Name, Status, Message string }
							Target string
						}
					}
				}
			}
			if err := json.Unmarshal([]byte(in), &input); err != nil {
				t.Fatal(err)
			}
			if len(input.Evidence.Verification) != 1 {
				t.Fatalf("%d Verifications in the ledger; want 1", len(input.Evidence.Verification))
			}
			ver := input.Evidence.Verification[0].Data
			var got []string
			for _, c := range ver.Checks {
				got = append(got, c.Name+" "+c.Status)
			}
			for _, w := range tt.checks {
				if !slices.Contains(got, w) {
					t.Errorf("Verification checks %v; want %q", got, w)
				}
			}
			if ver.Target != base {
				t.Errorf("Verification target %q; want %q", ver.Target, base)
			}
		})
	}
}

// verifySigned requires the evidence digest in the ledger db to be kept
// signed, by the key pub (named keyID) only.
func verifySigned(t *testing.T, db, digest, pub, keyID string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.OpenReadOnly(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ev, err := st.EvidenceByDigest(ctx, digest)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Envelope) == 0 {
		t.Fatalf("evidence %s is recorded bare; want it in its signed envelope", digest)
	}
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ledger.ParsePublicKey(b)
	if err != nil {
		t.Fatal(err)
	}
	v := evidence.NewValidator(reg, evidence.DefaultLimits)
	doc, err := v.WithKeys(evidence.NewKeyring(k)).Decode("ledger", ev.Recorded())
	if err != nil || !slices.Equal(doc.SignedBy, []string{keyID}) || doc.Digest != digest {
		t.Fatalf("Decode(recorded envelope) = %v, %v; want %s signed by %s", doc, err, digest, keyID)
	}
	if _, err := v.Decode("ledger", ev.Recorded()); err == nil {
		t.Fatal("the envelope decodes without its signer's key trusted; want it rejected")
	}
}

// Errors exit 2 and record nothing.
func TestVerifyErrors(t *testing.T) {
	dir, db := releaseLedger(t)
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("base: http://127.0.0.1:1\nsteps:\n  - check: api-me\n    url: /api/me\n    assert: [json.user == vars.usr + ]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad CEL", []string{"--release", "lv-2026-11-26.1", "--checks", bad},
			`bad.yaml:5:14: steps[0] assert[0] "json.user == vars.usr +": 1:24: Syntax error`},
		{"no checks file", []string{"--release", "lv-2026-11-26.1", "--checks", filepath.Join(dir, "none.yaml")}, "read checks"},
		{"bad var", []string{"--release", "lv-2026-11-26.1", "--checks", bad, "--var", "novalue"}, `--var "novalue": want K=V`},
		{"no plan", []string{"--release", "lv-other", "--checks", exampleChecks(t, dir), "--base", "http://127.0.0.1:1"},
			"release lv-other: no Plan in the ledger declares it"},
	}
	// Verify signs with the default key, created on first use here.
	t.Chdir(dir)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := shipgate(t, 2, append(append([]string{"verify"}, tt.args...), "--store", db)...)
			if !strings.Contains(errs, tt.want) {
				t.Errorf("stderr:\n%s\nwant %q", errs, tt.want)
			}
			if strings.Contains(errs, "recorded Verification") {
				t.Errorf("stderr:\n%s\nwant nothing recorded", errs)
			}
		})
	}
}

// withoutReady writes a copy of the checks file path without its ready
// section, and returns its path.
func withoutReady(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^ready:\n(?:  .*\n)+`)
	if !re.Match(b) {
		t.Fatalf("%s has no ready section", path)
	}
	out := filepath.Join(filepath.Dir(path), "checks-without-ready.yaml")
	if err := os.WriteFile(out, re.ReplaceAll(b, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// recordedFor lists the kinds of evidence and the gates of the decisions
// the ledger db holds for release.
func recordedFor(t *testing.T, db, release string) (kinds, gates []string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.OpenReadOnly(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.Evidence(ctx, release)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	ds, err := st.Decisions(ctx, release)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		gates = append(gates, d.Gate)
	}
	return kinds, gates
}

// The checks wait for the app (pm2 restart returns before it listens): an
// app that starts late is verified; one that never answers, or a wait cut
// short by Ctrl-C, is an error that records nothing, asks no gate and
// rolls nothing back, --rollback-on-fail or not: no check ran.
func TestVerifyNotReady(t *testing.T) {
	const release = "lv-2026-11-26.1"
	closedPort := func(t *testing.T, _ func()) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return "http://" + l.Addr().String()
	}
	tests := []struct {
		name string
		// base starts the app; cancel is Ctrl-C.
		base   func(t *testing.T, cancel func()) string
		code   int
		stderr []string
	}{
		{"starts late", func(t *testing.T, _ func()) string { return (&fakeApp{}).startLate(t, 300*time.Millisecond) }, 0,
			[]string{"/api/version → 200 at attempt ", "recorded Verification passed"}},
		{"never starts", closedPort, 2,
			[]string{"/api/version within 2s: last error: dial tcp ", "connect: connection refused (",
				"nothing was checked or recorded; release lv-2026-11-26.1 is not verified"}},
		// Ctrl-C during the second probe; the first was answered 503.
		{"interrupted", func(t *testing.T, cancel func()) string {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) > 1 {
					cancel()
				}
				w.WriteHeader(http.StatusServiceUnavailable)
			}))
			t.Cleanup(srv.Close)
			return srv.URL
		}, 2, []string{"/api/version was interrupted after ", "context canceled; last error: answered 503: assertion status == 200 is false: status = 503",
			"nothing was checked or recorded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, db := releaseLedger(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var cancelled time.Time
			var once sync.Once
			base := tt.base(t, func() { once.Do(func() { cancelled = time.Now(); cancel() }) })
			key, _, _ := verifySigningKey(t, dir)
			var out, errb bytes.Buffer
			start := time.Now()
			code := cmd.Execute(ctx, []string{"verify", "--release", release, "--checks", exampleChecks(t, dir),
				"--base", base, "--var", "password=s3cret", "--actor", "dave", "--store", db, "--signing-key", key,
				"--rollback-on-fail", "--dir", dir}, cmd.Streams{Out: &out, Err: &errb})
			end := time.Now()
			errs := errb.String()
			t.Logf("stderr:\n%s", errs)
			if code != tt.code {
				t.Fatalf("verify = exit %d; want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out.String(), errs)
			}
			for _, w := range append(tt.stderr, "shipgate: ") {
				if !strings.Contains(errs, base+w) && !strings.Contains(errs, w) {
					t.Errorf("stderr:\n%s\nwant %q", errs, w)
				}
			}
			kinds, gates := recordedFor(t, db, release)
			if tt.code == 0 {
				if !slices.Contains(kinds, "Verification") || !slices.Equal(gates, []string{"verify"}) {
					t.Errorf("recorded %v, decisions %v; want a Verification and the verify gate's decision", kinds, gates)
				}
				return
			}
			if want := "the app did not become ready at " + base + "/api/version"; cancelled.IsZero() && !strings.Contains(errs, want) {
				t.Errorf("stderr:\n%s\nwant %q", errs, want)
			}
			for _, no := range []string{"recorded Verification", "rolling back", "rollback", "DENY"} {
				if strings.Contains(errs, no) || strings.Contains(out.String(), no) {
					t.Errorf("stdout:\n%s\nstderr:\n%s\nwant no %q: nothing ran", out.String(), errs, no)
				}
			}
			if !slices.Equal(kinds, []string{"Plan", "Deploy"}) || len(gates) != 0 {
				t.Errorf("recorded %v, decisions %v; want only the Plan and Deploy, no decision", kinds, gates)
			}
			if !cancelled.IsZero() && end.Sub(cancelled) > 5*time.Second {
				t.Errorf("verify ran %s after Ctrl-C; want it to stop at once", end.Sub(cancelled))
			}
			if cancelled.IsZero() && end.Sub(start) < 2*time.Second {
				t.Errorf("verify gave up after %s; want the 2s readiness timeout", end.Sub(start))
			}
		})
	}
}
