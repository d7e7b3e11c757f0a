package watch_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/signals"
	"github.com/localizevideos/shipgate/watch"
	"github.com/localizevideos/shipgate/watch/watchtest"
)

// TestPrometheus watches apps scraped by a real Prometheus, with windows of
// seconds. Each case has its own app (a job of the shared server), so they
// run side by side.
func TestPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	jobs := []string{"healthy", "spike", "auth", "hold", "webhook"}
	apps := map[string]*watchtest.App{}
	targets := map[string]string{}
	for _, j := range jobs {
		apps[j] = watchtest.StartApp(t)
		targets[j] = apps[j].URL
	}
	prom := watchtest.StartPrometheus(t, targets)

	// watchJob watches job's app for window; change, when set, runs after a
	// second, once the baseline was read.
	watchJob := func(t *testing.T, job string, window time.Duration, change func()) (*watch.Result, string) {
		t.Helper()
		set, err := signals.Load("signals.yaml", []byte(watchtest.Signals(prom, job)))
		if err != nil {
			t.Fatal(err)
		}
		if change != nil {
			timer := time.AfterFunc(time.Second, change)
			defer timer.Stop()
		}
		var out bytes.Buffer
		w := &watch.Watcher{Signals: set, Window: window, Interval: 500 * time.Millisecond, BaselineOffset: time.Second,
			Clock: watch.SystemClock{}, Progress: &out}
		res, err := w.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s in %s, %d samples\n%s", job, res.Status, res.End.Sub(res.Start).Round(time.Millisecond), len(res.Samples), out.String())
		return res, out.String()
	}
	status := func(res *watch.Result, name string) string {
		for _, s := range res.Signals {
			if s.Name == name {
				return s.Status
			}
		}
		return "missing"
	}

	t.Run("a healthy release completes", func(t *testing.T) {
		t.Parallel()
		res, _ := watchJob(t, "healthy", 4*time.Second, nil)
		if res.Status != watch.Healthy {
			t.Fatalf("Run() = %s; want healthy: %+v", res.Status, res.Signals)
		}
		for _, s := range res.Signals {
			if s.Observed == nil || s.Samples < s.MinSamples {
				t.Errorf("signal %s healthy without data: %+v", s.Name, s)
			}
		}
	})

	t.Run("an injected error spike triggers the rollback", func(t *testing.T) {
		t.Parallel()
		res, _ := watchJob(t, "spike", 15*time.Second, func() { apps["spike"].Set(0.5, 0, 0.05) })
		if res.Status != watch.Breach || status(res, "error_rate") != watch.Breach {
			t.Fatalf("Run() = %s, error_rate %s; want a breach of error_rate: %+v", res.Status, status(res, "error_rate"), res.Signals)
		}
		if res.End.Sub(res.Start) >= 15*time.Second {
			t.Errorf("the breach did not end the window early")
		}
		// The rollback is a real process.
		var rolled bytes.Buffer
		r := &watch.Responder{Release: watch.Release{ID: "lv-spike"}, AutoRollback: true, Out: &bytes.Buffer{},
			Hold: func(context.Context) (*watch.Hold, error) { return nil, nil },
			Rollback: func(ctx context.Context) error {
				c := exec.CommandContext(ctx, "sh", "-c", "echo rolled back $0", "lv-spike")
				c.Stdout = &rolled
				return c.Run()
			}}
		o := r.Respond(context.Background(), res)
		if o.Rollback != watch.RollbackRan || rolled.String() != "rolled back lv-spike\n" {
			t.Errorf("Respond() rollback %s, output %q; want ran", o.Rollback, rolled.String())
		}
	})

	t.Run("an auth failure burst breaches auth_success", func(t *testing.T) {
		t.Parallel()
		res, _ := watchJob(t, "auth", 15*time.Second, func() { apps["auth"].Set(0.01, 0.6, 0.05) })
		if res.Status != watch.Breach || status(res, "auth_success") != watch.Breach {
			t.Fatalf("Run() = %s, auth_success %s; want a breach of auth_success: %+v", res.Status, status(res, "auth_success"), res.Signals)
		}
		if status(res, "error_rate") == watch.Breach {
			t.Errorf("error_rate breached too; the burst was of logins only")
		}
	})

	t.Run("a hold stops the automatic rollback", func(t *testing.T) {
		t.Parallel()
		res, _ := watchJob(t, "hold", 15*time.Second, func() { apps["hold"].Set(0.5, 0, 0.05) })
		if res.Status != watch.Breach {
			t.Fatalf("Run() = %s; want a breach", res.Status)
		}
		rolled := false
		var out bytes.Buffer
		r := &watch.Responder{Release: watch.Release{ID: "lv-hold"}, AutoRollback: true, Out: &out,
			Hold: func(context.Context) (*watch.Hold, error) {
				return &watch.Hold{By: "carol", Reason: "campaign traffic", At: time.Now()}, nil
			},
			Rollback: func(context.Context) error { rolled = true; return nil }}
		o := r.Respond(context.Background(), res)
		if rolled || o.Rollback != watch.RollbackHeld || !strings.Contains(out.String(), "ALERT") {
			t.Errorf("Respond() rolled back %t, outcome %s; want held, alerted only:\n%s", rolled, o.Rollback, out.String())
		}
	})

	t.Run("a failing webhook still reports the breach", func(t *testing.T) {
		t.Parallel()
		res, _ := watchJob(t, "webhook", 15*time.Second, func() { apps["webhook"].Set(0.01, 0, 1.5) })
		if res.Status != watch.Breach || status(res, "latency_p95") != watch.Breach {
			t.Fatalf("Run() = %s, latency_p95 %s; want a latency breach", res.Status, status(res, "latency_p95"))
		}
		hook := &webhook{status: 503}
		srv := httptest.NewServer(hook)
		defer srv.Close()
		var out bytes.Buffer
		r := &watch.Responder{Release: watch.Release{ID: "lv-webhook"}, Webhook: srv.URL, Out: &out}
		o := r.Respond(context.Background(), res)
		if o.AlertErr == nil || len(hook.alerts) != 1 || o.Rollback != watch.RollbackManual {
			t.Errorf("Respond() = %+v, %d alerts; want a webhook error after one alert, rollback required", o, len(hook.alerts))
		}
		if !strings.Contains(out.String(), "rollback required") || !strings.Contains(out.String(), "the alert webhook failed") {
			t.Errorf("output:\n%s", out.String())
		}
	})
}

// TestPrometheusStopped stops Prometheus in the middle of the window: the
// readings after it have no data, and the window is no data, not a pass.
func TestPrometheusStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	app := watchtest.StartApp(t)
	prom := watchtest.StartPrometheus(t, map[string]string{"app": app.URL})
	set, err := signals.Load("signals.yaml", []byte(watchtest.Signals(prom, "app")))
	if err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(1500*time.Millisecond, prom.Stop)
	defer timer.Stop()
	var out bytes.Buffer
	w := &watch.Watcher{Signals: set, Window: 4 * time.Second, Interval: 500 * time.Millisecond, BaselineOffset: time.Second,
		Clock: watch.SystemClock{}, Progress: &out}
	res, err := w.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s\n%s", res.Status, out.String())
	if res.Status != watch.NoData {
		t.Fatalf("Run() = %s; want no-data", res.Status)
	}
	for _, s := range res.Signals {
		if s.Status != watch.NoData || !strings.Contains(s.Message, "no data") {
			t.Errorf("signal %s = %s (%s); want no-data", s.Name, s.Status, s.Message)
		}
	}
	last := res.Samples[len(res.Samples)-1]
	for name, v := range last.Values {
		if v != nil {
			t.Errorf("last sample of %s = %v after Prometheus stopped; want no data", name, *v)
		}
	}
	if res.Samples[1].Values["error_rate"] == nil {
		t.Errorf("no data before Prometheus stopped either: the test proves nothing")
	}
}
