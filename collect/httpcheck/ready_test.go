package httpcheck_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/collect/httpcheck"
)

const readyChecks = `
base: http://127.0.0.1:1
ready:
  url: /healthz
  timeout: %s
  interval: 50ms
steps:
  - check: home
    url: /
    assert: [status == 200]
`

// lateServer serves h on a loopback port that opens only after delay, as
// an app restarted by pm2 does; its URL is known at once.
func lateServer(t *testing.T, delay time.Duration, h http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv := httptest.NewUnstartedServer(h)
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

func healthz() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "home") })
	return mux
}

// Ready waits for an app whose listener opens 300ms after the wait began.
func TestReadyWaitsForALateStart(t *testing.T) {
	base := lateServer(t, 300*time.Millisecond, healthz())
	s := load(t, fmt.Sprintf(readyChecks, "5s"), httpcheck.Options{Base: base})
	r := &httpcheck.Runner{Now: time.Now}
	rd, err := r.Ready(t.Context(), s)
	if err != nil {
		t.Fatalf("Ready = %v; want ready", err)
	}
	if rd.Attempts < 2 || rd.What != "GET "+base+"/healthz → 200" {
		t.Errorf("Ready = %+v; want several attempts, then GET %s/healthz → 200", rd, base)
	}
	if res := r.Run(t.Context(), s); !res.Passed() {
		t.Errorf("Run after Ready = %+v; want passed", res.Checks)
	}
}

// An app that never listens is not ready within the timeout: the error
// names the URL, the timeout and the last error.
func TestReadyTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	l.Close()
	s := load(t, fmt.Sprintf(readyChecks, "400ms"), httpcheck.Options{Base: base})
	start := time.Now()
	rd, err := (&httpcheck.Runner{Now: time.Now}).Ready(t.Context(), s)
	took := time.Since(start)
	var nr *httpcheck.NotReadyError
	if !errors.As(err, &nr) || rd != nil {
		t.Fatalf("Ready = %+v, %v; want a NotReadyError", rd, err)
	}
	want := "the app did not become ready at " + base + "/healthz within 400ms: last error: dial tcp " + l.Addr().String() + ": connect: connection refused ("
	if !strings.HasPrefix(err.Error(), want) || nr.Attempts < 2 || nr.Interrupted != nil {
		t.Errorf("Ready error %q (%d attempts); want it to start %q, several attempts", err, nr.Attempts, want)
	}
	if took < 400*time.Millisecond || took > 3*time.Second {
		t.Errorf("Ready gave up after %s; want about 400ms", took)
	}
}

// The probe's assertions decide: a 503 is not ready, and the status is the
// last error; the default assertion is status == 200.
func TestReadyAssertions(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"status": "up"}`)
	}))
	t.Cleanup(srv.Close)
	r := &httpcheck.Runner{Now: time.Now}
	rd, err := r.Ready(t.Context(), load(t, fmt.Sprintf(readyChecks, "5s"), httpcheck.Options{Base: srv.URL}))
	if err != nil || rd.Attempts != 4 {
		t.Errorf("Ready = %+v, %v; want ready at the fourth attempt", rd, err)
	}

	src := strings.Replace(fmt.Sprintf(readyChecks, "300ms"), "  interval: 50ms\n", "  interval: 50ms\n  assert: ['json.status == \"ready\"']\n", 1)
	_, err = r.Ready(t.Context(), load(t, src, httpcheck.Options{Base: srv.URL}))
	if want := `/healthz within 300ms: last error: answered 200: assertion json.status == "ready" is false: json.status = "up"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Ready = %v; want not ready, %q", err, want)
	}
	n.Store(-100)
	_, err = r.Ready(t.Context(), load(t, fmt.Sprintf(readyChecks, "300ms"), httpcheck.Options{Base: srv.URL}))
	if want := "/healthz within 300ms: last error: answered 503: assertion status == 200 is false: status = 503"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Ready = %v; want not ready, %q", err, want)
	}
}

// Ctrl-C ends the wait at once, as an interruption; a file without ready
// is ready without a request.
func TestReadyInterrupted(t *testing.T) {
	s := load(t, fmt.Sprintf(readyChecks, "30s"), httpcheck.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := (&httpcheck.Runner{Now: time.Now}).Ready(ctx, s)
	var nr *httpcheck.NotReadyError
	if !errors.As(err, &nr) || !errors.Is(nr.Interrupted, context.Canceled) || !strings.Contains(err.Error(), "interrupted after") {
		t.Errorf("Ready = %v; want interrupted", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Ready returned %s after the interruption", took)
	}

	s = load(t, "base: http://127.0.0.1:1\nsteps: [{check: home, url: /, assert: [status == 200]}]\n", httpcheck.Options{})
	if rd, err := (&httpcheck.Runner{Now: time.Now}).Ready(t.Context(), s); rd != nil || err != nil {
		t.Errorf("Ready without ready = %+v, %v; want nil, nil", rd, err)
	}
}
