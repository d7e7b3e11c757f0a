package watch_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/signals"
	"github.com/localizevideos/shipgate/watch"
)

// fakeClock never waits: After moves the time on at once.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
	// onAfter runs before each wait, with the time the wait starts.
	onAfter func(time.Time)
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	if c.onAfter != nil {
		c.onAfter(c.now)
	}
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	c.mu.Unlock()
	return ch
}

var t0 = time.Date(2026, 11, 26, 10, 8, 0, 0, time.UTC)

// gaugeApp is a real loopback /metrics endpoint serving one gauge per
// signal; each scrape serves the next value of the script ("" = the
// metric is missing from that scrape, a no-data reading).
type gaugeApp struct {
	mu     sync.Mutex
	script map[string][]string
	n      map[string]int
}

func (a *gaugeApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	name := strings.TrimPrefix(r.URL.Path, "/")
	vals := a.script[name]
	i := a.n[name]
	a.n[name]++
	if i >= len(vals) {
		i = len(vals) - 1
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	if vals[i] == "" {
		fmt.Fprintln(w, "# TYPE other gauge\nother 1")
		return
	}
	fmt.Fprintf(w, "# TYPE %s gauge\n%s %s\n", name, name, vals[i])
}

func gaugeSignals(t *testing.T, srv *httptest.Server, extra string, names ...string) *signals.Set {
	t.Helper()
	var b strings.Builder
	b.WriteString("timeout: 2s\nsignals:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  - name: %s\n    metrics: {url: %s/%s, type: gauge, metric: %s}\n    breach: observed > 10\n%s", n, srv.URL, n, n, extra)
	}
	set, err := signals.Load("signals.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func run(t *testing.T, script map[string][]string, window, interval time.Duration, extra string, onAfter func(time.Time)) (*watch.Result, string, error) {
	t.Helper()
	app := &gaugeApp{script: script, n: map[string]int{}}
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	names := make([]string, 0, len(script))
	for n := range script {
		names = append(names, n)
	}
	// Stable order: the file lists the signals sorted.
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			if names[j] < names[i] {
				names[i], names[j] = names[j], names[i]
			}
		}
	}
	var out bytes.Buffer
	w := &watch.Watcher{Signals: gaugeSignals(t, srv, extra, names...), Window: window, Interval: interval,
		Clock: &fakeClock{now: t0, onAfter: onAfter}, Progress: &out}
	res, err := w.Run(context.Background())
	return res, out.String(), err
}

func statuses(res *watch.Result) map[string]string {
	m := map[string]string{"": res.Status}
	for _, s := range res.Signals {
		m[s.Name] = s.Status
	}
	return m
}

func TestWindow(t *testing.T) {
	tests := []struct {
		name     string
		script   map[string][]string
		extra    string
		want     map[string]string
		samples  int
		duration time.Duration
		message  string
	}{
		{
			name:     "healthy window samples from start to end",
			script:   map[string][]string{"cpu": {"1", "2", "3", "4", "5"}},
			want:     map[string]string{"": "healthy", "cpu": "healthy"},
			samples:  5,
			duration: 60 * time.Second,
		},
		{
			name:     "a breach ends the window early",
			script:   map[string][]string{"cpu": {"1", "2", "11", "1", "1"}, "memory": {"1"}},
			want:     map[string]string{"": "breach", "cpu": "breach", "memory": "healthy"},
			samples:  3,
			duration: 30 * time.Second,
			message:  "observed 11 at 30s, baseline 0: observed > 10 is true",
		},
		{
			name:     "no data at all is no data, not healthy",
			script:   map[string][]string{"cpu": {""}},
			want:     map[string]string{"": "no-data", "cpu": "no-data"},
			samples:  5,
			duration: 60 * time.Second,
			message:  "0 readings with data, fewer than the 3 needed; last: no data: no metric cpu at",
		},
		{
			name:     "data that stops before the end is no data",
			script:   map[string][]string{"cpu": {"1", "1", "1", "1", ""}},
			want:     map[string]string{"": "no-data", "cpu": "no-data"},
			samples:  5,
			duration: 60 * time.Second,
			message:  "no data at the end of the window: no data: no metric cpu",
		},
		{
			name:     "too few readings with data is no data",
			script:   map[string][]string{"cpu": {"", "", "", "1", "1"}},
			want:     map[string]string{"": "no-data", "cpu": "no-data"},
			samples:  5,
			duration: 60 * time.Second,
			message:  "2 readings with data, fewer than the 3 needed",
		},
		{
			name:     "minSamples from the file",
			script:   map[string][]string{"cpu": {"", "", "", "1", "1"}},
			extra:    "    minSamples: 2\n",
			want:     map[string]string{"": "healthy", "cpu": "healthy"},
			samples:  5,
			duration: 60 * time.Second,
		},
		{
			name:     "NaN is no data",
			script:   map[string][]string{"cpu": {"NaN"}},
			want:     map[string]string{"": "no-data", "cpu": "no-data"},
			samples:  5,
			duration: 60 * time.Second,
			message:  "value NaN",
		},
		{
			name:     "one signal without data makes the window no data",
			script:   map[string][]string{"cpu": {"1"}, "memory": {""}},
			want:     map[string]string{"": "no-data", "cpu": "healthy", "memory": "no-data"},
			samples:  5,
			duration: 60 * time.Second,
		},
		{
			name:     "a breach wins over no data",
			script:   map[string][]string{"cpu": {"1", "50"}, "memory": {""}},
			want:     map[string]string{"": "breach", "cpu": "breach", "memory": "no-data"},
			samples:  2,
			duration: 15 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _, err := run(t, tt.script, time.Minute, 15*time.Second, tt.extra, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, statuses(res)); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if len(res.Samples) != tt.samples {
				t.Errorf("%d samples; want %d", len(res.Samples), tt.samples)
			}
			if got := res.End.Sub(res.Start); got != tt.duration {
				t.Errorf("window lasted %s; want %s", got, tt.duration)
			}
			if tt.message != "" {
				found := false
				for _, s := range res.Signals {
					found = found || strings.Contains(s.Message, tt.message)
				}
				if !found {
					t.Errorf("no signal message contains %q: %+v", tt.message, res.Signals)
				}
			}
		})
	}
}

func TestWindowSamplesAreRecorded(t *testing.T) {
	res, _, err := run(t, map[string][]string{"cpu": {"1", "", "3"}}, 30*time.Second, 15*time.Second, "    minSamples: 1\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	data := res.Data(true)
	samples := data["samples"].([]map[string]any)
	var got []string
	for _, s := range samples {
		got = append(got, fmt.Sprintf("%s %v", s["at"], s["values"]))
	}
	want := []string{
		"2026-11-26T10:08:00Z map[cpu:1]",
		"2026-11-26T10:08:15Z map[cpu:<nil>]",
		"2026-11-26T10:08:30Z map[cpu:3]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}
	if data["automation"].(map[string]any)["autoRollback"] != true {
		t.Errorf("automation = %v; want autoRollback true", data["automation"])
	}
}

func TestWindowInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	app := &gaugeApp{script: map[string][]string{"cpu": {"1"}}, n: map[string]int{}}
	srv := httptest.NewServer(app)
	defer srv.Close()
	clock := &fakeClock{now: t0}
	n := 0
	clock.onAfter = func(time.Time) {
		n++
		if n == 2 {
			cancel()
		}
	}
	w := &watch.Watcher{Signals: gaugeSignals(t, srv, "    minSamples: 1\n", "cpu"), Window: time.Minute, Interval: 15 * time.Second, Clock: clock}
	res, err := w.Run(ctx)
	if err == nil {
		t.Fatal("Run() error = nil; want context.Canceled")
	}
	if !res.Interrupted || res.Status != watch.NoData {
		t.Errorf("Run() = interrupted %t, status %s; want interrupted, no-data", res.Interrupted, res.Status)
	}
}

func TestWindowRejectsBadTiming(t *testing.T) {
	srv := httptest.NewServer(&gaugeApp{script: map[string][]string{"cpu": {"1"}}, n: map[string]int{}})
	defer srv.Close()
	set := gaugeSignals(t, srv, "", "cpu")
	for _, w := range []*watch.Watcher{
		{Signals: set, Window: 0, Interval: time.Second},
		{Signals: set, Window: time.Second, Interval: 0},
		{Signals: set, Window: time.Second, Interval: time.Minute},
		{Window: time.Minute, Interval: time.Second},
	} {
		if _, err := w.Run(context.Background()); err == nil {
			t.Errorf("Run(window %s, interval %s) error = nil; want an error", w.Window, w.Interval)
		}
	}
}

func TestProgress(t *testing.T) {
	_, plain, err := run(t, map[string][]string{"cpu": {"1", "2", "3"}}, 30*time.Second, 15*time.Second, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "watch 30s left, sample 1/3: cpu=1 (healthy)\nwatch 15s left, sample 2/3: cpu=2 (healthy)\nwatch 0s left, sample 3/3: cpu=3 (healthy)\n"
	if plain != want {
		t.Errorf("plain progress:\n%s\nwant:\n%s", plain, want)
	}

	app := &gaugeApp{script: map[string][]string{"cpu": {"1", "12"}}, n: map[string]int{}}
	srv := httptest.NewServer(app)
	defer srv.Close()
	var out bytes.Buffer
	w := &watch.Watcher{Signals: gaugeSignals(t, srv, "", "cpu"), Window: 30 * time.Second, Interval: 15 * time.Second,
		Clock: &fakeClock{now: t0}, Progress: &out, Live: true}
	if _, err := w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	live := out.String()
	for _, s := range []string{"watching: 30s left of 30s (sample 1/3)", "ok      cpu            1  breach if observed > 10",
		"\x1b[2A\x1b[J", "BREACH  cpu           12  breach if observed > 10"} {
		if !strings.Contains(live, s) {
			t.Errorf("live progress lacks %q:\n%q", s, live)
		}
	}
}
