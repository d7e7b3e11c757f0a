package cmd_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store/sqlite"
	"github.com/localizevideos/shipgate/watch/watchtest"
)

// watchLedger is releaseLedger plus a passed Verification a minute old: the
// complete gate then judges only the Monitoring that watch records.
func watchLedger(t *testing.T) (dir, db string) {
	t.Helper()
	dir, db = releaseLedger(t)
	now := time.Now().UTC()
	edits := map[string]string{}
	for old, d := range map[string]time.Duration{"2026-11-26T10:11:00Z": -time.Minute, "2026-11-26T10:10:20Z": -90 * time.Second, "2026-11-26T10:10:52Z": -time.Minute} {
		edits[old] = now.Add(d).Format(time.RFC3339)
	}
	writeExample(t, dir, "verification.json", edits)
	shipgate(t, 0, "evidence", "add", filepath.Join(dir, "verification.json"), "--store", db, "--trusted-key", filepath.Join(dir, "evidence.pub"))
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

// windowAlerts are the alerts of the window's end, without those a signal
// short of data sent while the watch ran (a rate needs two scrapes first).
func (h *alertHook) windowAlerts() []map[string]any {
	var out []map[string]any
	for _, a := range h.received() {
		if e, _ := a["event"].(string); !strings.HasPrefix(e, "signal-") {
			out = append(out, a)
		}
	}
	return out
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
			"--baseline-offset", "1s", "--store", db, "--signing-key", filepath.Join(filepath.Dir(db), "evidence.key")}, extra...)
	}

	t.Run("a healthy release completes", func(t *testing.T) {
		t.Parallel()
		dir, db := watchLedger(t)
		out, errOut := shipgate(t, 0, watchArgs(db, signalsFile(t, dir, "healthy"), "4s", "--data", "+"+demoData)...)
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
		// A hold counts only from its holder: carol signs it with her own
		// key, which the data binds to her (signing.people).
		carolDir := filepath.Join(dir, "carol")
		if err := os.Mkdir(carolDir, 0o755); err != nil {
			t.Fatal(err)
		}
		key := signingKey(t, carolDir)
		people := filepath.Join(dir, "carol.yaml")
		if err := os.WriteFile(people, []byte("signing:\n  people:\n    carol: [\""+keyIDOf(t, key)+"\"]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := shipgate(t, 0, "hold", "--release", release, "--by", "carol", "--reason", "the spike is the campaign", "--store", db, "--signing-key", key,
			"--trusted-key", filepath.Join(carolDir, "evidence.pub"), "--data", "+"+people)
		if !strings.Contains(out, "held: carol holds "+release) {
			t.Errorf("hold output:\n%s", out)
		}
		hook := &alertHook{status: 500}
		srv := httptest.NewServer(hook)
		defer srv.Close()
		timer := time.AfterFunc(time.Second, func() { apps["held"].Set(0.5, 0, 0.05) })
		defer timer.Stop()
		_, errOut := shipgate(t, 1, watchArgs(db, signalsFile(t, dir, "held"), "20s", "--data", "+"+demoData, "--data", "+"+people,
			"--trusted-key", filepath.Join(carolDir, "evidence.pub"), "--auto-rollback", "--webhook", srv.URL)...)
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
		if a := hook.windowAlerts(); len(a) != 1 || a[0]["rollback"] != "held" {
			t.Errorf("webhook received %v; want one alert, rollback held", a)
		}
		out, _ = shipgate(t, 0, "unhold", "--release", release, "--by", "carol", "--store", db, "--signing-key", key,
			"--trusted-key", filepath.Join(carolDir, "evidence.pub"), "--data", "+"+people)
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
		_, errOut := shipgate(t, 1, watchArgs(db, signalsFile(t, dir, "rollback"), "20s", "--data", "+"+demoData, "--auto-rollback",
			"--webhook", srv.URL, "--rollback-arg=--dir="+dir, "--rollback-arg=--build=")...)
		for _, want := range []string{"rolling back " + release + " automatically",
			"running shipgate rollback --release " + release + " --trigger watch --store " + db + " --data +" + demoData + " --signing-key " + filepath.Join(dir, "evidence.key") + " --dir=" + dir,
			"ALERT release " + release, "recorded Monitoring breach"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
		t.Logf("stderr:\n%s", errOut)
		a := hook.windowAlerts()
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
		key := signingKey(t, dir)
		out, _ := shipgate(t, 0, "collect", "error-budget", "--release", release, "--slo", slo("ok.yaml", prom.URL, "0.95"), "--store", db, "--signing-key", key)
		if !strings.Contains(out, "error budget availability: ") || !strings.Contains(out, "recorded sha256:") {
			t.Errorf("stdout:\n%s", out)
		}
		pub := filepath.Join(dir, "evidence.pub")
		gate, _ := shipgate(t, 1, "gate", "deploy", "--release", release, "--store", db, "--dry-run", "--trusted-key", pub)
		if strings.Contains(gate, "checklist.error-budget") {
			t.Errorf("the deploy gate fires checklist.error-budget with budget left:\n%s", gate)
		}
		// Against 99.9%, 1% errors spend it ten times over: recorded, exit 1.
		_, errOut := shipgate(t, 1, "collect", "error-budget", "--release", release, "--slo", slo("spent.yaml", prom.URL, "0.999"), "--store", db, "--signing-key", key)
		if !strings.Contains(errOut, "the error budget of availability is spent") {
			t.Errorf("stderr:\n%s", errOut)
		}
		gate, _ = shipgate(t, 1, "gate", "deploy", "--release", release, "--store", db, "--dry-run", "--trusted-key", pub)
		if !strings.Contains(gate, "checklist.error-budget") || !strings.Contains(gate, "error budget exhausted") || !strings.Contains(gate, "SLO availability, 0.999 objective over 30s") {
			t.Errorf("the deploy gate does not judge the measured budget:\n%s", gate)
		}
		// No data records nothing: exit 2.
		_, errOut = shipgate(t, 2, "collect", "error-budget", "--release", release, "--slo", slo("down.yaml", "http://127.0.0.1:1", "0.95"), "--store", db, "--signing-key", key)
		if !strings.Contains(errOut, "no data") || !strings.Contains(errOut, "nothing recorded") {
			t.Errorf("stderr:\n%s", errOut)
		}
		// A bad SLO file names the file and field.
		bad := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(bad, []byte("name: x\nprometheus: http://p\nobjective: 2\nwindow: 30d\nerrorRatio: up\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, errOut = shipgate(t, 2, "collect", "error-budget", "--release", release, "--slo", bad, "--store", db, "--signing-key", key)
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
	_, errOut := shipgate(t, 2, "watch", "--release", "lv-2026-11-26.1", "--signals", bad, "--store", db, "--signing-key", signingKey(t, dir))
	if want := bad + `:5:13: signals[0] "error_rate" breach "observed > baselin": 1:12: undeclared reference to 'baselin'`; !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("prometheus: http://127.0.0.1:1\nsignals:\n  - {name: cpu, prometheus: {query: up}, breach: observed > 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut = shipgate(t, 2, "watch", "--release", "lv-2026-11-26.1", "--signals", good, "--store", db, "--window", "1s", "--interval", "5s", "--signing-key", signingKey(t, dir))
	if !strings.Contains(errOut, "interval 5s is longer than the window 1s") {
		t.Errorf("stderr:\n%s", errOut)
	}
	_, errOut = shipgate(t, 2, "watch", "--release", "lv-unknown", "--signals", good, "--store", db, "--signing-key", signingKey(t, dir))
	if !strings.Contains(errOut, "no Plan in the ledger declares it") {
		t.Errorf("stderr:\n%s", errOut)
	}
	// Prometheus does not answer: a window of no data, recorded, exit 1.
	_, errOut = shipgate(t, 1, "watch", "--release", "lv-2026-11-26.1", "--signals", good, "--store", db, "--window", "1s", "--interval", "500ms", "--signing-key", signingKey(t, dir))
	for _, want := range []string{"recorded Monitoring no-data", "connection refused", "no data is not healthy: the release is not complete"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	_, errOut = shipgate(t, 2, "hold", "--release", "lv-2026-11-26.1", "--by", "carol", "--store", db, "--signing-key", signingKey(t, dir))
	if !strings.Contains(errOut, "--reason: say why the release is held") {
		t.Errorf("stderr:\n%s", errOut)
	}
}

// signingKey returns the ed25519 evidence key of dir, dir/evidence.key,
// created (with dir/evidence.pub) on first use: every command of a test
// signs with it, so that none writes a key into the working directory.
func signingKey(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "evidence.key")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	priv, pub, err := ledger.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "evidence.pub"), pub, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func keyIDOf(t *testing.T, keyPath string) string {
	t.Helper()
	b, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ledger.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return evidence.KeyID(k.Public().(ed25519.PublicKey))
}

// storedSigned counts the recorded documents of kind of the release, read
// back from the SQLite ledger, and fails for each that is not stored in a
// DSSE envelope that verifies with the key at keyPath.
func storedSigned(t *testing.T, db, release, kind, keyPath string) int {
	t.Helper()
	priv, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ledger.ParsePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	ring := evidence.NewKeyring()
	ring.Add(k.Public().(ed25519.PublicKey))
	keyID := keyIDOf(t, keyPath)
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.Evidence(context.Background(), release)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Kind != kind {
			continue
		}
		if e.Envelope == nil {
			t.Errorf("%s %s is stored without an envelope", kind, e.Digest)
			continue
		}
		doc, err := evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(ring).Decode(e.Source, e.Envelope)
		if err != nil {
			t.Errorf("%s %s: the stored envelope does not verify: %v", kind, e.Digest, err)
			continue
		}
		if doc.Digest != e.Digest || len(doc.SignedBy) != 1 || doc.SignedBy[0] != keyID {
			t.Errorf("%s %s: envelope of %s signed by %v; want %s signed by %s", kind, e.Digest, doc.Digest, doc.SignedBy, e.Digest, keyID)
			continue
		}
		n++
	}
	return n
}

// fakeProm is a Prometheus HTTP API on loopback (Prometheus is a third
// party): each instant query answers the value its function gives now;
// a missing query answers an empty vector.
type fakeProm struct {
	mu     sync.Mutex
	values map[string]string
}

func (p *fakeProm) set(q, v string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.values[q] = v
}

func (p *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/query" {
		http.NotFound(w, r)
		return
	}
	_ = r.ParseForm()
	p.mu.Lock()
	v, ok := p.values[r.Form.Get("query")]
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
		return
	}
	fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%d,%q]}]}}`, time.Now().Unix(), v)
}

// fakeSignals is a signals file of the five required signals, each query
// its own name, read from srv.
func fakeSignals(t *testing.T, dir, url, extra string) string {
	t.Helper()
	p := filepath.Join(dir, fmt.Sprintf("signals-%d.yaml", time.Now().UnixNano()))
	body := fmt.Sprintf(`prometheus: %s
timeout: 2s
signals:
  - {name: error_rate, prometheus: {query: error_rate}, breach: observed > baseline * 2.0 + 0.01%s}
  - {name: auth_success, prometheus: {query: auth_success}, breach: observed < baseline - 0.05%s}
  - {name: latency_p95, prometheus: {query: latency_p95}, breach: observed > 0.5%s}
  - {name: cpu, prometheus: {query: cpu}, breach: observed > 4%s}
  - {name: memory, prometheus: {query: memory}, breach: observed > 4e9%s}
`, url, extra, extra, extra, extra, extra)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func newFakeProm(t *testing.T, values map[string]string) (*fakeProm, string) {
	t.Helper()
	p := &fakeProm{values: values}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func healthyValues() map[string]string {
	return map[string]string{"error_rate": "0.01", "auth_success": "0.99", "latency_p95": "0.1", "cpu": "0.2", "memory": "1e8"}
}

// addPlan records a Plan of another release of the same service.
func addPlan(t *testing.T, dir, db, release string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "localizevideos", "evidence", "allowed", "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "lv-2026-11-26.1", release)
	s = strings.ReplaceAll(s, `"2026-11-26T09:30:00Z"`, `"`+time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)+`"`)
	p := filepath.Join(dir, release+"-plan.json")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	shipgate(t, 0, "evidence", "add", p, "--store", db)
}

func TestWatchBaselineFrom(t *testing.T) {
	const first, second = "lv-2026-11-26.1", "lv-2026-11-26.2"
	demoData, err := filepath.Abs(filepath.Join("..", "examples", "localizevideos", "watch-demo-data.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir, db := watchLedger(t)
	addPlan(t, dir, db, second)
	prom, url := newFakeProm(t, healthyValues())
	sig := fakeSignals(t, dir, url, "")
	watchArgs := func(release string, extra ...string) []string {
		return append([]string{"watch", "--release", release, "--signals", sig, "--window", "3s", "--interval", "500ms",
			"--store", db, "--data", "+" + demoData, "--signing-key", signingKey(t, dir)}, extra...)
	}

	// Nothing completed yet: no recorded baseline is an error, never zero.
	_, errOut := shipgate(t, 2, watchArgs(second, "--baseline-from", "last-completed")...)
	if want := "--baseline-from last-completed: no earlier release of localizevideos-app in production has completed"; !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	_, errOut = shipgate(t, 2, watchArgs(second, "--baseline-from", first)...)
	if want := "--baseline-from " + first + ": release " + first + " has no Monitoring recorded: no baseline"; !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	_, errOut = shipgate(t, 2, watchArgs(second, "--baseline-from", second)...)
	if !strings.Contains(errOut, "the watched release itself is no baseline") {
		t.Errorf("stderr:\n%s", errOut)
	}

	// The first release: a breach is recorded, then a healthy window
	// completes it.
	prom.set("latency_p95", "0.9")
	shipgate(t, 1, watchArgs(first)...)
	_, errOut = shipgate(t, 2, watchArgs(second, "--baseline-from", first)...)
	if want := "release " + first + " has no healthy Monitoring (recorded: breach): no baseline"; !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	prom.set("latency_p95", "0.1")
	out, _ := shipgate(t, 0, watchArgs(first)...)
	if !strings.Contains(out, "ALLOW") && !strings.Contains(out, "allow") {
		t.Fatalf("the first release did not complete:\n%s", out)
	}
	// Both windows are recorded signed, with the watch's --signing-key.
	if n := storedSigned(t, db, first, "Monitoring", signingKey(t, dir)); n != 2 {
		t.Errorf("%d signed Monitoring documents of %s; want 2", n, first)
	}

	// The second release sees 0.05 errors, and so did the 15 minutes before
	// its watch: against a baseline read then, that is no breach...
	prom.set("error_rate", "0.05")
	_, errOut = shipgate(t, 1, watchArgs(second)...)
	if strings.Contains(errOut, "recorded Monitoring breach") {
		t.Errorf("a breach against the offset baseline:\n%s", errOut)
	}
	// ...against the first release's recorded 0.01 it is: 0.05 > 0.01*2+0.01.
	for _, from := range []string{first, "last-completed"} {
		_, errOut = shipgate(t, 1, watchArgs(second, "--baseline-from", from)...)
		for _, want := range []string{"shipgate: baselines from the Monitoring of " + first + " (sha256:", "medians of its samples: error_rate 0.01, auth_success 0.99",
			"recorded Monitoring breach", "observed 0.05 at 0s, baseline 0.01: observed > baseline * 2.0 + 0.01 is true"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("--baseline-from %s: stderr lacks %q:\n%s", from, want, errOut)
			}
		}
		// The recorded window names the window its baselines came from.
		m := baselineFrom.FindStringSubmatch(errOut)
		if m == nil {
			t.Fatalf("--baseline-from %s: no baseline window in stderr:\n%s", from, errOut)
		}
		if body := newestMonitoring(t, db, second); !strings.Contains(body, `"baselineSource":{"monitoring":"`+m[1]+`","release":"`+first+`","type":"release"}`) {
			t.Errorf("--baseline-from %s: the Monitoring does not name its baseline window %s of %s:\n%s", from, m[1], first, body)
		}
	}

	// Another service's window is no baseline of this one.
	now := time.Now().UTC()
	other := fmt.Sprintf(`{"apiVersion": "shipgate.dev/v1", "kind": "Monitoring",
  "release": {"id": "web-7", "service": "web", "environment": "production"},
  "subject": {"repository": "acme/web", "commit": "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"},
  "collectedAt": %q, "collector": {"name": "shipgate", "actor": "dave"},
  "data": {"window": {"start": %q, "end": %q}, "result": "healthy",
    "signals": [{"name": "error_rate", "status": "healthy", "samples": 1}],
    "samples": [{"at": %q, "values": {"error_rate": 0.01, "auth_success": 0.99}}]}}`,
		now.Format(time.RFC3339), now.Add(-time.Minute).Format(time.RFC3339), now.Format(time.RFC3339), now.Format(time.RFC3339))
	otherPath := filepath.Join(dir, "web-7-monitoring.json")
	if err := os.WriteFile(otherPath, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	shipgate(t, 0, "evidence", "add", otherPath, "--store", db)
	_, errOut = shipgate(t, 2, watchArgs(second, "--baseline-from", "web-7")...)
	if want := "--baseline-from web-7: release web-7 is of service web, not localizevideos-app: no baseline"; !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}

	// A signal the recorded window never had is an error, never zero.
	extra := filepath.Join(dir, "extra.yaml")
	b, _ := os.ReadFile(sig)
	if err := os.WriteFile(extra, append(b, []byte("  - {name: queue_depth, prometheus: {query: queue}, breach: observed > baseline * 2.0}\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut = shipgate(t, 2, "watch", "--release", second, "--signals", extra, "--window", "3s", "--interval", "500ms", "--store", db,
		"--baseline-from", "last-completed", "--signing-key", signingKey(t, dir))
	if want := "the recorded window has no samples with data of queue_depth"; !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
}

func TestWatchNoDataAlertsWhileRunning(t *testing.T) {
	const release = "lv-2026-11-26.1"
	dir, db := watchLedger(t)
	noCPU := func() map[string]string {
		v := healthyValues()
		delete(v, "cpu")
		return v
	}
	prom, url := newFakeProm(t, noCPU())
	hook := &alertHook{}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	// cpu has no data (an empty vector) for its first second and a half.
	timer := time.AfterFunc(1500*time.Millisecond, func() { prom.set("cpu", "0.2") })
	defer timer.Stop()
	_, errOut := shipgate(t, 1, "watch", "--release", release, "--signals", fakeSignals(t, dir, url, ", noDataAfter: 1s"), "--window", "3s",
		"--interval", "250ms", "--store", db, "--webhook", srv.URL, "--signing-key", signingKey(t, dir))
	for _, want := range []string{"shipgate: ALERT release " + release + " (localizevideos-app production): cpu has had no data since the watch started (1s)",
		"cpu has data again (0.2), after", "alert sent to the webhook"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	var events []string
	for _, a := range hook.received() {
		events = append(events, fmt.Sprint(a["event"]))
	}
	// The live alerts come while the watch runs, before the window's end;
	// the default data wants 15 minutes, so the window does not complete.
	if diff := cmp.Diff([]string{"signal-no-data", "signal-data-returned"}, events); diff != "" {
		t.Errorf("webhook events (-want +got):\n%s", diff)
	}
	if !strings.Contains(errOut, "recorded Monitoring healthy") {
		t.Errorf("the data came back, the window should be healthy:\n%s", errOut)
	}

	// Data never comes: one live alert, then the window's no-data alert.
	hook2 := &alertHook{}
	srv2 := httptest.NewServer(hook2)
	defer srv2.Close()
	_, url2 := newFakeProm(t, noCPU())
	_, errOut = shipgate(t, 1, "watch", "--release", release, "--signals", fakeSignals(t, dir, url2, ", noDataAfter: 500ms"), "--window", "2s",
		"--interval", "250ms", "--store", db, "--webhook", srv2.URL, "--signing-key", signingKey(t, dir))
	events = nil
	for _, a := range hook2.received() {
		events = append(events, fmt.Sprint(a["event"]))
	}
	if diff := cmp.Diff([]string{"signal-no-data", "no-data"}, events); diff != "" {
		t.Errorf("webhook events (-want +got):\n%s", diff)
	}
	if !strings.Contains(errOut, "no data is not healthy: the release is not complete") {
		t.Errorf("stderr:\n%s", errOut)
	}
}

func TestHoldAndErrorBudgetAreSigned(t *testing.T) {
	const release = "lv-2026-11-26.1"
	dir, db := watchLedger(t)
	key := signingKey(t, dir)
	id := keyIDOf(t, key)
	// A key that does not sign for carol cannot hold for her: refused,
	// nothing recorded.
	_, errOut := shipgate(t, 2, "hold", "--release", release, "--by", "carol", "--reason", "campaign", "--store", db, "--signing-key", key)
	if !strings.Contains(errOut, `names holder "carol" but is signed only by`) || !strings.Contains(errOut, "nothing was recorded") {
		t.Errorf("hold with a key that is not carol's: stderr:\n%s", errOut)
	}
	if n := storedSigned(t, db, release, "Hold", key); n != 0 {
		t.Errorf("%d Hold documents recorded by a key that is not carol's; want none", n)
	}
	// Bound to carol in the policy data, it holds for her.
	carol := filepath.Join(dir, "carol.yaml")
	writeFile(t, carol, "signing:\n  people:\n    carol: [\""+id+"\"]\n")
	out, _ := shipgate(t, 0, "hold", "--release", release, "--by", "carol", "--reason", "campaign", "--store", db, "--signing-key", key, "--data", "+"+carol)
	if !strings.Contains(out, "signed by "+id) {
		t.Errorf("hold output lacks the signer %s:\n%s", id, out)
	}
	out, _ = shipgate(t, 0, "unhold", "--release", release, "--by", "carol", "--store", db, "--signing-key", key, "--data", "+"+carol)
	if !strings.Contains(out, "signed by "+id) {
		t.Errorf("unhold output lacks the signer %s:\n%s", id, out)
	}
	if n := storedSigned(t, db, release, "Hold", key); n != 2 {
		t.Errorf("%d signed Hold documents; want 2", n)
	}

	_, url := newFakeProm(t, map[string]string{"errors": "0.001", "events": "5000"})
	slo := filepath.Join(dir, "slo.yaml")
	if err := os.WriteFile(slo, []byte("name: availability\nprometheus: "+url+"\nobjective: 0.99\nwindow: 30d\nerrorRatio: errors\ncount: events\nminCount: 100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ = shipgate(t, 0, "collect", "error-budget", "--release", release, "--slo", slo, "--store", db, "--signing-key", key)
	if !strings.Contains(out, "error budget availability: 90.0% left") || !strings.Contains(out, "signed by "+id) {
		t.Errorf("stdout:\n%s", out)
	}
	if n := storedSigned(t, db, release, "ErrorBudget", key); n != 1 {
		t.Errorf("%d signed ErrorBudget documents; want 1", n)
	}
	// A signing key that cannot be read records nothing.
	_, errOut = shipgate(t, 2, "hold", "--release", release, "--by", "carol", "--reason", "x", "--store", db, "--signing-key", filepath.Join(dir, "nope.key"))
	if !strings.Contains(errOut, "read signing key") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if n := storedSigned(t, db, release, "Hold", key); n != 2 {
		t.Errorf("%d signed Hold documents after a failed hold; want still 2", n)
	}
}

var baselineFrom = regexp.MustCompile(`baselines from the Monitoring of \S+ \((sha256:[0-9a-f]{64})\)`)

// newestMonitoring is the canonical JSON of the release's newest Monitoring.
func newestMonitoring(t *testing.T, db, release string) string {
	t.Helper()
	var body string
	var seq int64
	for _, e := range recordedOf(t, db, release, "Monitoring") {
		if e.Seq > seq {
			body, seq = string(e.Body), e.Seq
		}
	}
	return body
}
