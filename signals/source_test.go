package signals_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/localizevideos/shipgate/signals"
	"github.com/localizevideos/shipgate/watch/watchtest"
)

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

var t0 = time.Date(2026, 11, 26, 10, 8, 0, 0, time.UTC)

func load(t *testing.T, file string) *signals.Set {
	t.Helper()
	set, err := signals.Load("signals.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestMetricsSource reads a real client_golang /metrics endpoint: rates
// and ratios between two scrapes, gauges, histogram quantiles.
func TestMetricsSource(t *testing.T) {
	reg := prometheus.NewRegistry()
	req := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "h"}, []string{"code"})
	mem := prometheus.NewGauge(prometheus.GaugeOpts{Name: "process_resident_memory_bytes", Help: "h"})
	dur := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "h", Buckets: []float64{0.1, 0.5, 1}})
	reg.MustRegister(req, mem, dur)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	set := load(t, fmt.Sprintf(`metrics: %s/metrics
signals:
  - {name: error_rate, metrics: {type: ratio, metric: http_requests_total, match: {code: "5.."}}, minCount: 10, breach: observed > 0.1}
  - {name: rps, metrics: {type: rate, metric: http_requests_total}, breach: observed > 1000}
  - {name: memory, metrics: {type: gauge, metric: process_resident_memory_bytes}, breach: observed > 1e9}
  - {name: latency_p95, metrics: {type: quantile, metric: http_request_duration_seconds, quantile: 0.95}, breach: observed > 0.5}
`, srv.URL))
	src := &signals.Sources{}
	ctx := context.Background()
	read := func(i int, at time.Time) (signals.Reading, error) { return set.Signals[i].Read(ctx, src, at) }

	req.WithLabelValues("200").Add(100)
	req.WithLabelValues("500").Add(5)
	mem.Set(123e6)
	for range 100 {
		dur.Observe(0.05)
	}
	// The first scrape of a rate has nothing to compare with.
	for i := range 4 {
		_, err := read(i, t0)
		if i == 2 {
			if err != nil {
				t.Errorf("gauge: %v", err)
			}
			continue
		}
		if !errors.Is(err, signals.ErrNoData) || !strings.Contains(err.Error(), "first scrape") {
			t.Errorf("signal %d first read error = %v; want no data: first scrape", i, err)
		}
	}
	req.WithLabelValues("200").Add(80)
	req.WithLabelValues("500").Add(20)
	for range 90 {
		dur.Observe(0.05)
	}
	for range 10 {
		dur.Observe(0.7)
	}
	at := t0.Add(10 * time.Second)
	tests := []struct {
		i     int
		value float64
		count float64
	}{
		{0, 0.2, 100},  // 20 errors of 100 requests
		{1, 10, 100},   // 100 requests in 10s
		{2, 123e6, 0},  // the gauge
		{3, 0.75, 100}, // 95th of 100: in the (0.5, 1] bucket, halfway
	}
	for _, tt := range tests {
		r, err := read(tt.i, at)
		if err != nil {
			t.Errorf("signal %s: %v", set.Signals[tt.i].Name, err)
			continue
		}
		if math.Abs(r.Value-tt.value) > 1e-9 || r.Count != tt.count {
			t.Errorf("signal %s = %v (count %v); want %v (count %v)", set.Signals[tt.i].Name, r.Value, r.Count, tt.value, tt.count)
		}
	}
	// No traffic between two scrapes: the ratio has no data, however low.
	_, err := read(0, at.Add(10*time.Second))
	if !errors.Is(err, signals.ErrNoData) {
		t.Errorf("ratio without traffic error = %v; want no data", err)
	}
	// Too little traffic is no data too.
	req.WithLabelValues("200").Add(5)
	_, err = read(0, at.Add(20*time.Second))
	if !errors.Is(err, signals.ErrNoData) || !strings.Contains(err.Error(), "fewer than minCount 10") {
		t.Errorf("ratio with 5 requests error = %v; want no data: fewer than minCount", err)
	}
}

func TestMetricsSourceUnreachable(t *testing.T) {
	srv := httptest.NewServer(nil)
	u := srv.URL
	srv.Close()
	set := load(t, "signals:\n  - {name: memory, metrics: {url: '"+u+"/metrics', type: gauge, metric: m}, breach: observed > 1.0}\n")
	_, err := set.Signals[0].Read(context.Background(), &signals.Sources{}, t0)
	if !errors.Is(err, signals.ErrNoData) {
		t.Errorf("Read() error = %v; want no data", err)
	}
}

// fakePM2 writes a pm2 stand-in that prints jlist output: pm2 is a
// third-party tool, and what matters is how its output is read.
func fakePM2(t *testing.T, jlist string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "out.json"), []byte(jlist), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "pm2")
	script := "#!/bin/sh\n[ \"$1\" = jlist ] || exit 3\n[ \"$PM2_HOME\" = /tmp/pm2-test ] || { echo \"PM2_HOME=$PM2_HOME\" >&2; exit 4; }\ncat " + filepath.Join(dir, "out.json") + "\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestPM2Source(t *testing.T) {
	const secret = "s3cr3t-db-password"
	proc := func(name, status string, cpu, mem float64) string {
		return fmt.Sprintf(`{"name":%q,"pid":42,"pm2_env":{"status":%q,"env":{"DB_PASSWORD":%q}},"monit":{"memory":%v,"cpu":%v}}`, name, status, secret, mem, cpu)
	}
	tests := []struct {
		name, jlist string
		cpu, memory float64
		noData      string
	}{
		{name: "one process", jlist: "[" + proc("lv", "online", 12.5, 150e6) + "," + proc("other", "online", 99, 1e9) + "]", cpu: 12.5, memory: 150e6},
		{name: "cluster instances add up", jlist: "[" + proc("lv", "online", 10, 100e6) + "," + proc("lv", "online", 20, 50e6) + "]", cpu: 30, memory: 150e6},
		{name: "banner before the JSON", jlist: "pm2 daemon started\n[" + proc("lv", "online", 1, 2) + "]", cpu: 1, memory: 2},
		{name: "a stopped process is no data", jlist: "[" + proc("lv", "stopped", 0, 0) + "]", noData: `pm2 process lv is "stopped", not online`},
		{name: "a missing process is no data", jlist: "[" + proc("other", "online", 1, 1) + "]", noData: "pm2 has no process lv"},
		{name: "garbage is no data", jlist: "{", noData: "not a JSON list of processes"},
		{name: "no monit is no data", jlist: `[{"name":"lv","pm2_env":{"status":"online"}}]`, noData: "has no monit.cpu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := fakePM2(t, tt.jlist)
			set := load(t, fmt.Sprintf(`pm2: {app: lv, bin: %s, home: /tmp/pm2-test}
signals:
  - {name: cpu, pm2: {field: cpu}, breach: observed > 90}
  - {name: memory, pm2: {field: memory}, breach: observed > 1e9}
`, bin))
			for i, want := range []float64{tt.cpu, tt.memory} {
				r, err := set.Signals[i].Read(context.Background(), &signals.Sources{Environ: []string{"PATH=/usr/bin:/bin"}}, t0)
				if tt.noData != "" {
					if !errors.Is(err, signals.ErrNoData) || !strings.Contains(err.Error(), tt.noData) {
						t.Errorf("Read() error = %v; want no data: %s", err, tt.noData)
					}
					if err != nil && strings.Contains(err.Error(), secret) {
						t.Errorf("the error leaks the app's environment: %v", err)
					}
					if i == 0 && strings.Contains(tt.noData, "monit") {
						break
					}
					continue
				}
				if err != nil || r.Value != want {
					t.Errorf("Read(%s) = %v, %v; want %v", set.Signals[i].Name, r.Value, err, want)
				}
			}
		})
	}
}

func TestPM2Missing(t *testing.T) {
	set := load(t, "pm2: {app: lv, bin: /nonexistent/pm2}\nsignals:\n  - {name: cpu, pm2: {field: cpu}, breach: observed > 90}\n")
	_, err := set.Signals[0].Read(context.Background(), &signals.Sources{}, t0)
	if !errors.Is(err, signals.ErrNoData) {
		t.Errorf("Read() error = %v; want no data", err)
	}
}

func TestBreached(t *testing.T) {
	set := load(t, `prometheus: http://127.0.0.1:1
signals:
  - {name: e, prometheus: {query: up}, breach: "observed > baseline * 1.5 + 0.01 && window.elapsed >= 30.0"}
  - {name: c, prometheus: {query: up}, breach: "count < 1.0 || observed / count > 1.0"}
`)
	ctx := context.Background()
	w := signals.Window{Elapsed: 45 * time.Second, Length: 15 * time.Minute}
	got, err := set.Signals[0].Breached(ctx, signals.Reading{Value: 0.05}, 0.01, w)
	if err != nil || !got {
		t.Errorf("Breached(0.05, baseline 0.01, at 45s) = %v, %v; want true", got, err)
	}
	got, err = set.Signals[0].Breached(ctx, signals.Reading{Value: 0.05}, 0.01, signals.Window{Elapsed: 10 * time.Second, Length: time.Minute})
	if err != nil || got {
		t.Errorf("Breached(at 10s) = %v, %v; want false", got, err)
	}
	got, err = set.Signals[1].Breached(ctx, signals.Reading{Value: 5, Count: 0}, 0, w)
	if err != nil || !got {
		t.Errorf("Breached(count 0) = %v, %v; want true", got, err)
	}
}

// TestPrometheusSourceAndSLO queries a real Prometheus.
func TestPrometheusSourceAndSLO(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	app := watchtest.StartApp(t)
	prom := watchtest.StartPrometheus(t, map[string]string{"app": app.URL})
	ctx := context.Background()
	src := &signals.Sources{}
	now := time.Now()

	set := load(t, watchtest.Signals(prom, "app")+`  - name: missing
    prometheus: {query: "sum(no_such_metric)"}
    breach: observed > 1
  - name: nan
    # No login failed: 0 / 0 is NaN.
    prometheus: {query: 'sum(rate(auth_login_total{result="failure"}[5s])) / sum(rate(auth_login_total{result="failure"}[5s]))'}
    breach: observed > 1
`)
	for _, s := range set.Signals {
		r, err := s.Read(ctx, src, now)
		switch s.Name {
		case "missing", "nan":
			want := map[string]string{"missing": "empty result", "nan": "value NaN"}[s.Name]
			if !errors.Is(err, signals.ErrNoData) || !strings.Contains(err.Error(), want) {
				t.Errorf("Read(%s) = %v, %v; want no data: %s", s.Name, r.Value, err, want)
			}
		default:
			if err != nil {
				t.Errorf("Read(%s) = %v", s.Name, err)
			}
		}
	}
	base, err := set.Signals[0].Baseline(ctx, src, now.Add(-time.Second))
	if err != nil || math.Abs(base-0.01) > 0.005 {
		t.Errorf("Baseline(error_rate) = %v, %v; want about 0.01", base, err)
	}
	// Before Prometheus started there is nothing: no baseline.
	if _, err := set.Signals[0].Baseline(ctx, src, now.Add(-time.Hour)); !errors.Is(err, signals.ErrNoData) {
		t.Errorf("Baseline(an hour ago) error = %v; want no data", err)
	}

	slo := func(objective, minCount string) *signals.SLO {
		s, err := signals.LoadSLO("slo.yaml", []byte(fmt.Sprintf(`name: availability
prometheus: %s
objective: %s
window: 30s
errorRatio: sum(rate(http_requests_total{code=~"5.."}[${window}])) / sum(rate(http_requests_total[${window}]))
count: sum(increase(http_requests_total[${window}]))
minCount: %s
`, prom.URL, objective, minCount)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	b, err := slo("0.95", "10").Measure(ctx, src, now)
	if err != nil {
		t.Fatal(err)
	}
	// 1% errors against a 5% budget: 80% of it left.
	if math.Abs(b.ErrorRatio-0.01) > 0.005 || math.Abs(b.Remaining-0.8) > 0.1 || b.Events == nil || *b.Events < 10 {
		t.Errorf("Measure() = ratio %v, remaining %v, events %v; want 0.01, 0.8", b.ErrorRatio, b.Remaining, b.Events)
	}
	b, err = slo("0.999", "10").Measure(ctx, src, now)
	if err != nil || b.Remaining > -5 {
		t.Errorf("Measure(99.9%%) = %+v, %v; want the budget spent many times over", b, err)
	}
	if _, err := slo("0.95", "1e9").Measure(ctx, src, now); !errors.Is(err, signals.ErrNoData) {
		t.Errorf("Measure(minCount 1e9) error = %v; want no data", err)
	}
	prom.Stop()
	if _, err := slo("0.95", "10").Measure(ctx, src, now); !errors.Is(err, signals.ErrNoData) {
		t.Errorf("Measure(Prometheus stopped) error = %v; want no data", err)
	}
}

func TestLoadSLOErrors(t *testing.T) {
	_, err := signals.LoadSLO("slo.yaml", []byte("name: ''\nprometheus: ftp://x\nobjective: 99.9\nwindow: 30 days\nerrorRatio: ''\nminCount: 5\n"))
	if err == nil {
		t.Fatal("LoadSLO() error = nil")
	}
	for _, w := range []string{
		"slo.yaml: name: no name",
		`slo.yaml: prometheus: "ftp://x": want an http or https URL`,
		"slo.yaml: objective: 99.9: want the target fraction of good events",
		`slo.yaml: window: "30 days": want a PromQL duration`,
		"slo.yaml: errorRatio: no query",
		"slo.yaml: minCount: needs count",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("LoadSLO() error lacks %q:\n%v", w, err)
		}
	}
}

// TestPM2Real reads a process run by the real pm2 of the example app
// (npm ci in examples/localizevideos/app), in its own short PM2_HOME.
func TestPM2Real(t *testing.T) {
	if testing.Short() {
		t.Skip("starts pm2")
	}
	bin, err := filepath.Abs("../examples/localizevideos/app/node_modules/.bin/pm2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("pm2 is not installed (cd examples/localizevideos/app && npm ci): %v", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skipf("node is not installed: %v", err)
	}
	// The unix socket paths under PM2_HOME must stay short.
	home, err := os.MkdirTemp("/tmp", "pm2-")
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "PM2_HOME=" + home}
	pm2 := func(args ...string) {
		t.Helper()
		c := exec.Command(bin, args...)
		c.Env = env
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("pm2 %v: %v\n%s", args, err, out)
		}
	}
	t.Cleanup(func() {
		c := exec.Command(bin, "kill")
		c.Env = env
		_ = c.Run()
		os.RemoveAll(home)
	})
	script := filepath.Join(home, "idle.js")
	if err := os.WriteFile(script, []byte("const keep = Buffer.alloc(8 << 20, 1); setInterval(() => keep.length, 1000);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pm2("ping")
	pm2("start", script, "--name", "lv-idle")
	set := load(t, fmt.Sprintf(`pm2: {app: lv-idle, bin: %s, home: %s}
signals:
  - {name: cpu, pm2: {field: cpu}, breach: observed > 90.0}
  - {name: memory, pm2: {field: memory}, breach: observed > 1e9}
  - {name: other, pm2: {field: memory, app: not-running}, breach: observed > 1e9}
`, bin, home))
	src := &signals.Sources{Environ: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}}
	var mem signals.Reading
	deadline := time.Now().Add(20 * time.Second)
	for {
		mem, err = set.Signals[1].Read(context.Background(), src, time.Now())
		if err == nil && mem.Value > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if err != nil || mem.Value < 8<<20 {
		t.Errorf("Read(memory) = %v, %v; want at least the 8 MiB the process holds", mem.Value, err)
	}
	if cpu, err := set.Signals[0].Read(context.Background(), src, time.Now()); err != nil || cpu.Value < 0 {
		t.Errorf("Read(cpu) = %v, %v", cpu.Value, err)
	}
	if _, err := set.Signals[2].Read(context.Background(), src, time.Now()); !errors.Is(err, signals.ErrNoData) {
		t.Errorf("Read(a process pm2 does not run) error = %v; want no data", err)
	}
	pm2("stop", "lv-idle")
	if _, err := set.Signals[1].Read(context.Background(), src, time.Now()); !errors.Is(err, signals.ErrNoData) || !strings.Contains(err.Error(), "not online") {
		t.Errorf("Read(a stopped process) error = %v; want no data: not online", err)
	}
}
