// Package watchtest runs what the watch tests watch: a real Prometheus
// server (Debian's /usr/bin/prometheus) scraping a loopback app that
// exposes the LocalizeVideos metrics through prometheus/client_golang, with
// knobs to inject an error spike or an auth failure burst.
package watchtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// PrometheusBin is where the Debian package installs the server.
const PrometheusBin = "/usr/bin/prometheus"

// App is a loopback app with request, login and latency metrics. Traffic
// is generated in-process, 20 requests and 4 logins every 50ms.
type App struct {
	URL string

	mu        sync.Mutex
	errorRate float64
	authFail  float64
	latency   float64

	requests *prometheus.CounterVec
	logins   *prometheus.CounterVec
	duration prometheus.Histogram
}

// StartApp starts the app and its traffic; both stop with the test.
func StartApp(t testing.TB) *App {
	t.Helper()
	reg := prometheus.NewRegistry()
	a := &App{
		errorRate: 0.01, latency: 0.05,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests."}, []string{"code"}),
		logins:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "auth_login_total", Help: "Logins."}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "Latency.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}}),
	}
	reg.MustRegister(a.requests, a.logins, a.duration, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every label combination exists from the start, at 0.
	for _, c := range []string{"200", "500"} {
		a.requests.WithLabelValues(c)
	}
	for _, r := range []string{"success", "failure"} {
		a.logins.WithLabelValues(r)
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	a.URL = srv.URL
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go a.traffic(ctx, done)
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	return a
}

// Set changes the traffic: the fraction of requests that fail with 500,
// of logins that fail, and the latency of each request in seconds.
func (a *App) Set(errorRate, authFail, latency float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.errorRate, a.authFail, a.latency = errorRate, authFail, latency
}

func (a *App) traffic(ctx context.Context, done chan struct{}) {
	defer close(done)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	rnd := rand.New(rand.NewPCG(1, 2))
	errs, fails := 0.0, 0.0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		a.mu.Lock()
		er, af, lat := a.errorRate, a.authFail, a.latency
		a.mu.Unlock()
		for range 20 {
			// Deterministic shares: carry the fraction over.
			errs += er
			if errs >= 1 {
				errs--
				a.requests.WithLabelValues("500").Inc()
			} else {
				a.requests.WithLabelValues("200").Inc()
			}
			a.duration.Observe(lat * (0.9 + 0.2*rnd.Float64()))
		}
		for range 4 {
			fails += af
			if fails >= 1 {
				fails--
				a.logins.WithLabelValues("failure").Inc()
			} else {
				a.logins.WithLabelValues("success").Inc()
			}
		}
	}
}

// Prometheus is a running server.
type Prometheus struct {
	URL  string
	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

// StartPrometheus starts Prometheus scraping each target (job name → the
// http URL of a /metrics endpoint) every second, with its storage in a
// temporary directory, and waits until it is ready and has scraped every
// job five times. It is stopped with the test. Without the binary the test
// is skipped.
func StartPrometheus(t testing.TB, targets map[string]string) *Prometheus {
	t.Helper()
	if _, err := os.Stat(PrometheusBin); err != nil {
		t.Skipf("%s is not installed (Debian package prometheus): %v", PrometheusBin, err)
	}
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n")
	for job, target := range targets {
		u, err := url.Parse(target)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&cfg, "  - job_name: %q\n    metrics_path: %q\n    static_configs:\n      - targets: [%q]\n", job, u.Path+"/metrics", u.Host)
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	p := &Prometheus{URL: "http://127.0.0.1:" + port, done: make(chan struct{})}
	p.cmd = exec.Command(PrometheusBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address=127.0.0.1:"+port,
		"--log.level=warn")
	log, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout, p.cmd.Stderr = log, log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		_ = log.Close()
		close(p.done)
	}()
	t.Cleanup(p.Stop)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if p.scrapes() >= 5*len(targets) {
			return p
		}
		select {
		case <-p.done:
			b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Fatalf("prometheus exited:\n%s", b)
		default:
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Fatalf("prometheus did not scrape %v within 60s:\n%s", targets, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// scrapes is how many successful scrapes the server holds from the last
// minute, over every job.
func (p *Prometheus) scrapes() int {
	resp, err := http.Get(p.URL + "/api/v1/query?query=" + url.QueryEscape("sum(sum_over_time(up[1m]))"))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Value []any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&r) != nil || len(r.Data.Result) != 1 || len(r.Data.Result[0].Value) != 2 {
		return 0
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	var n float64
	_, _ = fmt.Sscan(s, &n)
	return int(n)
}

// Stop kills the server and waits for it to exit. Calling it again does
// nothing.
func (p *Prometheus) Stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// Signals is a signals file for the app scraped as job by p, with rate
// windows of five seconds so that a test window of seconds sees changes.
func Signals(p *Prometheus, job string) string {
	return strings.ReplaceAll(fmt.Sprintf(`prometheus: %s
timeout: 2s
signals:
  - name: error_rate
    prometheus:
      query: sum(rate(http_requests_total{code=~"5..",JOB}[5s])) / sum(rate(http_requests_total{JOB}[5s]))
      count: sum(increase(http_requests_total{JOB}[5s]))
    minCount: 50
    breach: observed > baseline * 1.5 + 0.01
  - name: auth_success
    prometheus:
      query: sum(rate(auth_login_total{result="success",JOB}[5s])) / sum(rate(auth_login_total{JOB}[5s]))
      count: sum(increase(auth_login_total{JOB}[5s]))
    minCount: 10
    breach: observed < baseline - 0.05
  - name: latency_p95
    prometheus:
      query: histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{JOB}[5s])))
    breach: observed > 0.5
    unit: s
  - name: cpu
    prometheus:
      query: sum(rate(process_cpu_seconds_total{JOB}[5s]))
    breach: observed > 4
  - name: memory
    prometheus:
      query: sum(process_resident_memory_bytes{JOB})
    breach: observed > 4e9
    unit: B
`, p.URL), "JOB", fmt.Sprintf("job=%q", job))
}
