package cmd_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/watch/watchtest"
)

// watchLedger is releaseLedger plus a passed Verification a minute old: the
// complete gate then judges only the Monitoring that watch records.
func watchLedger(t *testing.T) (dir, db string) {
	t.Helper()
	dir, db = releaseLedger(t)
	b, err := os.ReadFile(filepath.Join("..", "examples", "localizevideos", "evidence", "allowed", "verification.json"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	s := string(b)
	for old, d := range map[string]time.Duration{"2026-11-26T10:11:00Z": -time.Minute, "2026-11-26T10:10:20Z": -90 * time.Second, "2026-11-26T10:10:52Z": -time.Minute} {
		if !strings.Contains(s, old) {
			t.Fatalf("verification.json has no %s", old)
		}
		s = strings.ReplaceAll(s, old, now.Add(d).Format(time.RFC3339))
	}
	path := filepath.Join(dir, "verification.json")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	shipgate(t, 0, "evidence", "add", path, "--store", db)
	return dir, db
}

type alertHook struct {
	mu     sync.Mutex
	status int
	alerts []map[string]any
}

func (h *alertHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	h.mu.Lock()
	h.alerts = append(h.alerts, m)
	h.mu.Unlock()
	if h.status != 0 {
		w.WriteHeader(h.status)
	}
}

func (h *alertHook) received() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.alerts...)
}

func TestWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	const release = "lv-2026-11-26.1"
	demoData, err := filepath.Abs(filepath.Join("..", "examples", "localizevideos", "watch-demo-data.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	jobs := []string{"healthy", "refused", "held", "rollback", "budget"}
	apps := map[string]*watchtest.App{}
	targets := map[string]string{}
	for _, j := range jobs {
		apps[j] = watchtest.StartApp(t)
		targets[j] = apps[j].URL
	}
	prom := watchtest.StartPrometheus(t, targets)
	signalsFile := func(t *testing.T, dir, job string) string {
		p := filepath.Join(dir, "signals.yaml")
		if err := os.WriteFile(p, []byte(watchtest.Signals(prom, job)), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	watchArgs := func(db, signals string, window string, extra ...string) []string {
		return append([]string{"watch", "--release", release, "--signals", signals, "--window", window, "--interval", "500ms",
			"--baseline-offset", "1s", "--store", db}, extra...)
	}

	t.Run("a healthy release completes", func(t *testing.T) {
		t.Parallel()
		dir, db := watchLedger(t)
		out, errOut := shipgate(t, 0, watchArgs(db, signalsFile(t, dir, "healthy"), "4s", "--data", demoData)...)
		for _, want := range []string{"recorded Monitoring healthy for release " + release, "sample 9/9"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
		t.Logf("stdout:\n%s", out)
		if !strings.Contains(out, "ALLOW complete") && !strings.Contains(out, "allow") {
			t.Errorf("stdout does not show the complete gate allowing:\n%s", out)
		}
		// With the default data, a window of seconds is too short: denied.
		_, errOut = shipgate(t, 1, watchArgs(db, signalsFile(t, dir, "healthy"), "3s")...)
		if !strings.Contains(errOut, "complete denied") {
			t.Errorf("stderr lacks the denial:\n%s", errOut)
		}
	})

	t.Run("auto-rollback is refused without the capability", func(t *testing.T) {
		t.Parallel()
		dir, db := watchLedger(t)
		_, errOut := shipgate(t, 1, watchArgs(db, signalsFile(t, dir, "refused"), "3s", "--auto-rollback")...)
		for _, want := range []string{"--auto-rollback refused by the policy: automation.auto-rollback",
			"localizevideos-app does not declare capability auto-rollback"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
		if strings.Contains(errOut, "watching") {
			t.Errorf("the watch started although refused:\n%s", errOut)
		}
	})

	t.Run("a hold stops the automatic rollback", func(t *testing.T) {
		t.Parallel()
		dir, db := watchLedger(t)
		out, _ := shipgate(t, 0, "hold", "--release", release, "--by", "carol", "--reason", "the spike is the campaign", "--store", db)
		if !strings.Contains(out, "held: carol holds "+release) {
			t.Errorf("hold output:\n%s", out)
		}
		hook := &alertHook{status: 500}
		srv := httptest.NewServer(hook)
		defer srv.Close()
		timer := time.AfterFunc(time.Second, func() { apps["held"].Set(0.5, 0, 0.05) })
		defer timer.Stop()
		_, errOut := shipgate(t, 1, watchArgs(db, signalsFile(t, dir, "held"), "20s", "--data", demoData, "--auto-rollback", "--webhook", srv.URL)...)
		for _, want := range []string{"carol holds " + release + " (the spike is the campaign): the rollback is not run automatically",
			"ALERT release " + release, "the alert webhook failed: webhook answered HTTP 500", "recorded Monitoring breach",
			"breached (error_rate): rollback required (held by carol: decide now)"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
		if strings.Contains(errOut, "running shipgate") {
			t.Errorf("the rollback ran despite the hold:\n%s", errOut)
		}
		if a := hook.received(); len(a) != 1 || a[0]["rollback"] != "held" {
			t.Errorf("webhook received %v; want one alert, rollback held", a)
		}
		out, _ = shipgate(t, 0, "unhold", "--release", release, "--by", "carol", "--store", db)
		if !strings.Contains(out, "lifted: carol lifted carol's hold") {
			t.Errorf("unhold output:\n%s", out)
		}
	})

	t.Run("an error spike runs the rollback", func(t *testing.T) {
		t.Parallel()
		dir, db := watchLedger(t)
		hook := &alertHook{}
		srv := httptest.NewServer(hook)
		defer srv.Close()
		timer := time.AfterFunc(time.Second, func() { apps["rollback"].Set(0.5, 0, 0.05) })
		defer timer.Stop()
		_, errOut := shipgate(t, 1, watchArgs(db, signalsFile(t, dir, "rollback"), "20s", "--data", demoData, "--auto-rollback",
			"--webhook", srv.URL, "--rollback-arg=--dir="+dir, "--rollback-arg=--build=")...)
		for _, want := range []string{"rolling back " + release + " automatically",
			"running shipgate rollback --release " + release + " --store " + db + " --data " + demoData + " --dir=" + dir,
			"ALERT release " + release, "recorded Monitoring breach"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
		t.Logf("stderr:\n%s", errOut)
		a := hook.received()
		if len(a) != 1 {
			t.Fatalf("webhook received %d alerts; want 1", len(a))
		}
		// The rollback subprocess ran: whether it succeeded depends on the
		// checkout, and the alert says which.
		if r := a[0]["rollback"]; r != "ran" && r != "failed" {
			t.Errorf("alert rollback = %v; want ran or failed", r)
		}
	})

	t.Run("collect error-budget records what the deploy gate reads", func(t *testing.T) {
		t.Parallel()
		dir, db := watchLedger(t)
		slo := func(name, prometheus, objective string) string {
			p := filepath.Join(dir, name)
			body := fmt.Sprintf(`name: availability
prometheus: %s
objective: %s
window: 30s
errorRatio: sum(rate(http_requests_total{code=~"5..",job="budget"}[${window}])) / sum(rate(http_requests_total{job="budget"}[${window}]))
count: sum(increase(http_requests_total{job="budget"}[${window}]))
minCount: 10
`, prometheus, objective)
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
		// 1% errors against a 5% budget: most of it is left.
		out, _ := shipgate(t, 0, "collect", "error-budget", "--release", release, "--slo", slo("ok.yaml", prom.URL, "0.95"), "--store", db)
		if !strings.Contains(out, "error budget availability: ") || !strings.Contains(out, "recorded sha256:") {
			t.Errorf("stdout:\n%s", out)
		}
		gate, _ := shipgate(t, 1, "gate", "deploy", "--release", release, "--store", db, "--dry-run")
		if strings.Contains(gate, "checklist.error-budget") {
			t.Errorf("the deploy gate fires checklist.error-budget with budget left:\n%s", gate)
		}
		// Against 99.9%, 1% errors spend it ten times over: recorded, exit 1.
		_, errOut := shipgate(t, 1, "collect", "error-budget", "--release", release, "--slo", slo("spent.yaml", prom.URL, "0.999"), "--store", db)
		if !strings.Contains(errOut, "the error budget of availability is spent") {
			t.Errorf("stderr:\n%s", errOut)
		}
		gate, _ = shipgate(t, 1, "gate", "deploy", "--release", release, "--store", db, "--dry-run")
		if !strings.Contains(gate, "checklist.error-budget") || !strings.Contains(gate, "error budget exhausted") || !strings.Contains(gate, "SLO availability, 0.999 objective over 30s") {
			t.Errorf("the deploy gate does not judge the measured budget:\n%s", gate)
		}
		// No data records nothing: exit 2.
		_, errOut = shipgate(t, 2, "collect", "error-budget", "--release", release, "--slo", slo("down.yaml", "http://127.0.0.1:1", "0.95"), "--store", db)
		if !strings.Contains(errOut, "no data") || !strings.Contains(errOut, "nothing recorded") {
			t.Errorf("stderr:\n%s", errOut)
		}
		// A bad SLO file names the file and field.
		bad := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(bad, []byte("name: x\nprometheus: http://p\nobjective: 2\nwindow: 30d\nerrorRatio: up\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, errOut = shipgate(t, 2, "collect", "error-budget", "--release", release, "--slo", bad, "--store", db)
		if !strings.Contains(errOut, bad+": objective: 2: want the target fraction") {
			t.Errorf("stderr:\n%s", errOut)
		}
	})
}

func TestWatchErrors(t *testing.T) {
	dir, db := watchLedger(t)
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("prometheus: http://127.0.0.1:1\nsignals:\n  - name: error_rate\n    prometheus: {query: up}\n    breach: observed > baselin\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut := shipgate(t, 2, "watch", "--release", "lv-2026-11-26.1", "--signals", bad, "--store", db)
	if want := bad + `:5:13: signals[0] "error_rate" breach "observed > baselin": 1:12: undeclared reference to 'baselin'`; !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("prometheus: http://127.0.0.1:1\nsignals:\n  - {name: cpu, prometheus: {query: up}, breach: observed > 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut = shipgate(t, 2, "watch", "--release", "lv-2026-11-26.1", "--signals", good, "--store", db, "--window", "1s", "--interval", "5s")
	if !strings.Contains(errOut, "interval 5s is longer than the window 1s") {
		t.Errorf("stderr:\n%s", errOut)
	}
	_, errOut = shipgate(t, 2, "watch", "--release", "lv-unknown", "--signals", good, "--store", db)
	if !strings.Contains(errOut, "no Plan in the ledger declares it") {
		t.Errorf("stderr:\n%s", errOut)
	}
	// Prometheus does not answer: a window of no data, recorded, exit 1.
	_, errOut = shipgate(t, 1, "watch", "--release", "lv-2026-11-26.1", "--signals", good, "--store", db, "--window", "1s", "--interval", "500ms")
	for _, want := range []string{"recorded Monitoring no-data", "connection refused", "no data is not healthy: the release is not complete"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	_, errOut = shipgate(t, 2, "hold", "--release", "lv-2026-11-26.1", "--by", "carol", "--store", db)
	if !strings.Contains(errOut, "--reason: say why the release is held") {
		t.Errorf("stderr:\n%s", errOut)
	}
}
