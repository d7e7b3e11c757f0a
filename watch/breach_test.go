package watch_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/signals"
	"github.com/localizevideos/shipgate/watch"
)

// TestBreachAfter runs two minutes every 15s (9 samples) on the injected
// clock: breachAfter N wants N breaching readings with data in a row.
func TestBreachAfter(t *testing.T) {
	tests := []struct {
		name     string
		cpu      []string
		after    int
		want     string
		samples  int
		duration time.Duration
		message  string
	}{
		{
			name: "one spike does not breach", cpu: []string{"1", "11", "1", "11", "11", "1", "1", "1", "1"}, after: 3,
			want: "healthy", samples: 9, duration: 2 * time.Minute,
		},
		{
			name: "three in a row breach, counted from the last healthy reading", cpu: []string{"1", "11", "1", "11", "11", "11", "1"}, after: 3,
			want: "breach", samples: 6, duration: 75 * time.Second,
			message: "observed 11 at 1m15s, baseline 0: observed > 10 is true for 3 readings in a row since 45s (breachAfter 3)",
		},
		{
			name: "a reading without data neither counts nor resets the run", cpu: []string{"1", "11", "", "11", "1"}, after: 2,
			want: "breach", samples: 4, duration: 45 * time.Second,
			message: "for 2 readings in a row since 15s (breachAfter 2)",
		},
		{
			name: "a run still short when the window ends is not healthy", cpu: []string{"1", "1", "1", "1", "1", "1", "1", "11", "11"}, after: 3,
			want: "no-data", samples: 9, duration: 2 * time.Minute,
			message: "unconfirmed breach: the last 2 readings with data breached (observed > 10), fewer than breachAfter 3, when the window ended",
		},
		{
			name: "breachAfter 1 is the first breaching reading", cpu: []string{"1", "11"}, after: 1,
			want: "breach", samples: 2, duration: 15 * time.Second,
			message: "observed 11 at 15s, baseline 0: observed > 10 is true",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _, err := run(t, map[string][]string{"cpu": tt.cpu}, 2*time.Minute, 15*time.Second,
				fmt.Sprintf("    breachAfter: %d\n    minSamples: 1\n", tt.after), nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.want || res.Signals[0].Status != tt.want {
				t.Errorf("status %s, cpu %s; want %s (%s)", res.Status, res.Signals[0].Status, tt.want, res.Signals[0].Message)
			}
			if len(res.Samples) != tt.samples {
				t.Errorf("%d samples; want %d", len(res.Samples), tt.samples)
			}
			if got := res.End.Sub(res.Start); got != tt.duration {
				t.Errorf("window lasted %s; want %s", got, tt.duration)
			}
			if !strings.Contains(res.Signals[0].Message, tt.message) {
				t.Errorf("message %q; want it to contain %q", res.Signals[0].Message, tt.message)
			}
		})
	}
}

func TestBreachAfterPendingProgress(t *testing.T) {
	_, plain, err := run(t, map[string][]string{"cpu": {"1", "11", "11", "11"}}, 45*time.Second, 15*time.Second, "    breachAfter: 3\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cpu=11 (breach pending 1/3)", "cpu=11 (breach pending 2/3)", "sample 4/4: cpu=11 (breach)"} {
		if !strings.Contains(plain, want) {
			t.Errorf("progress lacks %q:\n%s", want, plain)
		}
	}
}

func TestBreachAfterLongerThanTheWindow(t *testing.T) {
	srv := httptest.NewServer(&gaugeApp{script: map[string][]string{"cpu": {"1"}}, n: map[string]int{}})
	defer srv.Close()
	w := &watch.Watcher{Signals: gaugeSignals(t, srv, "    breachAfter: 6\n", "cpu"), Window: time.Minute, Interval: 15 * time.Second, Clock: &fakeClock{now: t0}}
	_, err := w.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "signal cpu: breachAfter 6, but a window of 1m0s every 15s takes 5 samples: it could never breach") {
		t.Errorf("Run() error = %v; want breachAfter refused", err)
	}
}

// TestNoDataEvents watches on the injected clock, alerting through a
// Responder to a real loopback webhook, while the watch runs.
func TestNoDataEvents(t *testing.T) {
	tests := []struct {
		name   string
		script map[string][]string
		extra  string
		status int
		// want is each alert as event signal at since.
		want   []string
		result string
		texts  []string
	}{
		{
			name:   "alerted once after noDataAfter, and again when the data returns",
			script: map[string][]string{"cpu": {"1", "", "", "", "", "2", "1", "1", "1"}},
			extra:  "    noDataAfter: 45s\n    minSamples: 5\n",
			want:   []string{"signal-no-data cpu at 45s since 0s", "signal-data-returned cpu at 1m15s since 0s"},
			result: "healthy",
			texts: []string{
				"release lv-2026-11-26.1 (localizevideos-app production): cpu has had no data since the watch started (45s), and no data is not healthy: no data: no metric cpu",
				"release lv-2026-11-26.1 (localizevideos-app production): cpu has data again (2), after 1m15s without; the watch goes on",
			},
		},
		{
			name:   "the default is three intervals; the end is still no data",
			script: map[string][]string{"cpu": {"1", "1", ""}, "memory": {"1"}},
			want:   []string{"signal-no-data cpu at 1m0s since 15s"},
			result: "no-data",
			texts:  []string{"cpu has had no data since 15s into the window (45s)"},
		},
		{
			name:   "a failing webhook is reported and the watch goes on",
			script: map[string][]string{"cpu": {""}},
			extra:  "    noDataAfter: 30s\n",
			status: http.StatusServiceUnavailable,
			want:   []string{"signal-no-data cpu at 30s since 0s"},
			result: "no-data",
			texts:  []string{"cpu has had no data since the watch started (30s)"},
		},
		{
			name:   "a gap shorter than noDataAfter is not alerted",
			script: map[string][]string{"cpu": {"1", "", "", "1", "1", "1", "1", "1", "1"}},
			extra:  "    noDataAfter: 45s\n",
			result: "healthy",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook := &webhook{status: tt.status}
			hsrv := httptest.NewServer(hook)
			defer hsrv.Close()
			app := httptest.NewServer(&gaugeApp{script: tt.script, n: map[string]int{}})
			defer app.Close()
			names := []string{"cpu"}
			if _, ok := tt.script["memory"]; ok {
				names = append(names, "memory")
			}
			clock := &fakeClock{now: t0}
			var out bytes.Buffer
			r := &watch.Responder{Release: watch.Release{ID: "lv-2026-11-26.1", Service: "localizevideos-app", Environment: "production"},
				Webhook: hsrv.URL, Out: &out, Clock: clock}
			var notifyErrs []error
			w := &watch.Watcher{Signals: gaugeSignals(t, app, tt.extra, names...), Window: 2 * time.Minute, Interval: 15 * time.Second,
				Clock: clock, Progress: &out,
				OnEvent: func(ctx context.Context, e watch.Event) {
					if err := r.Notify(ctx, e); err != nil {
						notifyErrs = append(notifyErrs, err)
					}
				}}
			res, err := w.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range res.Events {
				got = append(got, fmt.Sprintf("%s %s at %s since %s", e.Kind, e.Signal, e.At.Sub(t0), e.Since.Sub(t0)))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if res.Status != tt.result {
				t.Errorf("result %s; want %s", res.Status, tt.result)
			}
			alerts := hook.received()
			if len(alerts) != len(tt.want) {
				t.Fatalf("webhook received %d alerts; want %d: %v", len(alerts), len(tt.want), alerts)
			}
			for i, a := range alerts {
				kind := strings.Fields(tt.want[i])[0]
				if a["event"] != kind || a["release"] != "lv-2026-11-26.1" || a["rollback"] != nil {
					t.Errorf("alert %d = %v; want event %s, no rollback", i, a, kind)
				}
				if !strings.Contains(a["text"].(string), tt.texts[i]) {
					t.Errorf("alert %d text %q; want it to contain %q", i, a["text"], tt.texts[i])
				}
				if !strings.Contains(out.String(), "shipgate: ALERT "+a["text"].(string)) {
					t.Errorf("alert %d not printed:\n%s", i, out.String())
				}
			}
			if tt.status != 0 {
				if len(notifyErrs) != len(tt.want) || !strings.Contains(out.String(), "the alert webhook failed: webhook answered HTTP 503") {
					t.Errorf("webhook failures %v; output:\n%s", notifyErrs, out.String())
				}
			} else if len(notifyErrs) > 0 {
				t.Errorf("Notify errors: %v", notifyErrs)
			}
		})
	}
}

// promAPI is a fake Prometheus HTTP API on loopback: every instant query
// answers value.
func promAPI(t *testing.T, value string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%d,%q]}]}}`, time.Now().Unix(), value)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func baselineSet(t *testing.T, url string) *signals.Set {
	t.Helper()
	set, err := signals.Load("signals.yaml", []byte(fmt.Sprintf(`prometheus: %s
signals:
  - {name: error_rate, prometheus: {query: up}, breach: observed > baseline * 2.0}
  - {name: latency_p95, prometheus: {query: up}, breach: observed > baseline * 2.0}
  - {name: cpu, prometheus: {query: up}, baseline: 0.2, breach: observed > baseline * 2.0}
  - {name: memory, prometheus: {query: up}, breach: observed > 1e9}
`, url)))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestRecordedBaselines(t *testing.T) {
	set := baselineSet(t, "http://127.0.0.1:1")
	healthy := `{"result":"healthy","samples":[
		{"at":"2026-11-26T10:00:00Z","values":{"error_rate":0.01,"latency_p95":0.2,"cpu":0.1,"memory":1}},
		{"at":"2026-11-26T10:00:15Z","values":{"error_rate":0.5,"latency_p95":null}},
		{"at":"2026-11-26T10:00:30Z","values":{"error_rate":0.02,"latency_p95":0.4}},
		{"at":"2026-11-26T10:00:45Z","values":{"error_rate":0.03}}]}`
	got, err := watch.RecordedBaselines(set, []byte(healthy))
	if err != nil {
		t.Fatal(err)
	}
	// Medians: the 0.5 spike does not move error_rate's; cpu keeps the
	// file's stored baseline and memory reads none.
	if diff := cmp.Diff(map[string]float64{"error_rate": 0.025, "latency_p95": 0.30000000000000004}, got); diff != "" {
		t.Errorf("RecordedBaselines (-want +got):\n%s", diff)
	}
	for _, tt := range []struct{ name, data, want string }{
		{"a breached window", `{"result":"breach","samples":[{"at":"2026-11-26T10:00:00Z","values":{"error_rate":0.01,"latency_p95":0.2}}]}`,
			`the recorded window is "breach", not healthy: it is no baseline`},
		{"a window without data of a signal", `{"result":"healthy","samples":[{"at":"2026-11-26T10:00:00Z","values":{"error_rate":0.01,"latency_p95":null}}]}`,
			"the recorded window has no samples with data of latency_p95"},
		{"no samples", `{"result":"healthy","samples":[]}`, "no samples with data of error_rate, latency_p95"},
		{"not JSON", `{`, "read the recorded window"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := watch.RecordedBaselines(set, []byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("RecordedBaselines() = %v, %v; want error %q", m, err, tt.want)
			}
		})
	}
}

func TestWatchWithRecordedBaselines(t *testing.T) {
	prom := promAPI(t, "0.05")
	set := baselineSet(t, prom.URL)
	from := watch.RecordedWindow{Release: "lv-2026-11-25.1", Monitoring: "sha256:" + strings.Repeat("ab", 32)}
	run := func(b map[string]float64) *watch.Result {
		w := &watch.Watcher{Signals: set, Window: 30 * time.Second, Interval: 15 * time.Second, Clock: &fakeClock{now: t0}, Baselines: b, BaselinesFrom: from}
		res, err := w.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// 0.05 against a recorded 0.02: breach; against 0.04: healthy.
	res := run(map[string]float64{"error_rate": 0.02, "latency_p95": 0.04})
	if got := statuses(res); got["error_rate"] != "breach" || *res.Signals[0].Baseline != 0.02 {
		t.Errorf("statuses %v, baseline %v; want error_rate breach against 0.02", got, *res.Signals[0].Baseline)
	}
	// The record says where the baseline came from.
	want := &watch.BaselineSource{Type: watch.BaselineRelease, Window: from}
	if diff := cmp.Diff(want, res.Signals[0].BaselineSource); diff != "" {
		t.Errorf("baseline source (-want +got):\n%s", diff)
	}
	sig := res.Data(false)["signals"].([]map[string]any)[0]
	if diff := cmp.Diff(map[string]any{"type": "release", "release": from.Release, "monitoring": from.Monitoring}, sig["baselineSource"]); diff != "" {
		t.Errorf("recorded baselineSource (-want +got):\n%s", diff)
	}
	res = run(map[string]float64{"error_rate": 0.04, "latency_p95": 0.04})
	if diff := cmp.Diff(map[string]string{"": "healthy", "error_rate": "healthy", "latency_p95": "healthy", "cpu": "healthy", "memory": "healthy"}, statuses(res)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	// A signal the recorded baselines lack is no data: never read another
	// way, never zero.
	res = run(map[string]float64{"error_rate": 0.04})
	if got := statuses(res); got["latency_p95"] != "no-data" || !strings.Contains(res.Signals[1].Message, "no baseline: the recorded baselines have none for latency_p95") {
		t.Errorf("latency_p95 %s (%s); want no-data, no baseline", got["latency_p95"], res.Signals[1].Message)
	}
}

func (h *webhook) received() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.alerts...)
}
