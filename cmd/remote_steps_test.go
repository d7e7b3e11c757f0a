package cmd_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/cmd"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// syncBuffer is a bytes.Buffer a running server writes while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// servedLedger is `shipgate serve` itself, started as the command line
// starts it (real SQLite ledger, loopback, real clock), with a token per
// role named in tokens.
type servedLedger struct {
	url    string
	db     string
	tokens map[string]string
}

var listening = regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)

// serve starts shipgate serve with args (policy data, trusted keys) and
// stops it when the test ends. Its pipeline token is named dave, the
// actor the local runs record, so that both ledgers name the same actor.
func serve(t *testing.T, args ...string) *servedLedger {
	t.Helper()
	tmp := t.TempDir()
	db := filepath.Join(tmp, "server.db")
	sl := &servedLedger{db: db, tokens: map[string]string{}}
	// The server's signing key, in the test's directory (serve would make
	// one in its working directory).
	key, _, _ := verifySigningKey(t, tmp)
	args = append([]string{"--signing-key", key}, args...)
	for role, name := range map[string]string{auth.RolePipeline: "dave", auth.RoleAuditor: "audra", auth.RoleApprover: "carol"} {
		out, _ := shipgate(t, 0, "token", "create", "--store", "sqlite://"+db, "--role", role, "--name", name)
		sl.tokens[role] = strings.TrimSpace(out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errb := &syncBuffer{}
	done := make(chan int)
	go func() {
		done <- cmd.Execute(ctx, append([]string{"serve", "--store", "sqlite://" + db, "--listen", "127.0.0.1:0"}, args...),
			cmd.Streams{In: strings.NewReader(""), Out: io.Discard, Err: errb})
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("shipgate serve exited %d:\n%s", code, errb.String())
		}
	})
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := listening.FindStringSubmatch(errb.String()); m != nil {
			sl.url = "http://" + m[1]
			return sl
		}
	}
	t.Fatalf("shipgate serve did not start:\n%s", errb.String())
	return nil
}

func (sl *servedLedger) env(role string) map[string]string {
	return map[string]string{"SHIPGATE_SERVER": sl.url, "SHIPGATE_TOKEN": sl.tokens[role], "SHIPGATE_ACTOR": "dave"}
}

// approve records carol's approval of release on the server, with her
// approver token: a pipeline cannot send an approval.
func (sl *servedLedger) approve(t *testing.T, release string) {
	t.Helper()
	req, _ := http.NewRequest("POST", sl.url+"/v1/releases/"+release+"/approvals", strings.NewReader(`{"note": "reviewed"}`))
	req.Header.Set("Authorization", "Bearer "+sl.tokens[auth.RoleApprover])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST approvals = %d %s", resp.StatusCode, b)
	}
}

// runFixture is run.txtar's checkout and fresh evidence: a git repository
// in app/ whose HEAD the Plan, IncidentStatus and Approval name, and the
// policy data approving its deploy command.
func runFixture(t *testing.T) (dir string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh")
	}
	ar, err := txtar.ParseFile(filepath.Join("testdata", "script", "run.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	files := map[string]string{}
	for _, f := range ar.Files {
		files[f.Name] = string(f.Data)
	}
	app := filepath.Join(dir, "app")
	git := gitIn(t, app)
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(app, "app.js"), files["app.js"])
	writeFile(t, filepath.Join(app, ".gitignore"), files["gitignore"])
	writeFile(t, filepath.Join(dir, "data.yaml"), files["data.yaml"])
	git("init", "-q", "-b", "main")
	git("remote", "add", "origin", "git@github.com:localizevideos/app.git")
	git("add", ".")
	git("commit", "-q", "-m", "release 1")
	commit, now := git("rev-parse", "HEAD"), time.Now().UTC().Format(time.RFC3339)
	for _, f := range []string{"plan", "incidents", "approval"} {
		writeFile(t, filepath.Join(dir, f+".json"),
			strings.NewReplacer("@COMMIT@", commit, "@NOW@", now).Replace(files["tmpl/"+f+".json"]))
	}
	signApproval(t, dir)
	return dir
}

// signApproval signs dir's approval.json with alice's EXAMPLE key, which
// the fixture's data.yaml binds to her (a local run trusts it with
// --trusted-key exampleKeys).
func signApproval(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, "approval.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = keys.Seal(keys.Open(b)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, p, string(b))
}

// Durations and decision times differ between two runs of one command.
var timing = regexp.MustCompile(`in [0-9.]+(ms|s|µs)|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z|lasted [0-9.e+-]+ minutes`)

// shipgate run against a server prints what it prints against a local
// ledger and exits with the same codes: the deploy gate is asked through
// the server, the command runs only if it allows, and the signed evidence
// it records reaches the server's ledger as its DSSE envelope.
func TestRemoteRunMatchesLocal(t *testing.T) {
	dir := runFixture(t)
	key, pub, keyID := verifySigningKey(t, dir)
	data := filepath.Join(dir, "data.yaml")
	sl := serve(t, "--data", data, "--trusted-key", pub)
	local := map[string]string{"SHIPGATE_STORE": filepath.Join(dir, "local.db"), "SHIPGATE_ACTOR": "dave"}
	remote := sl.env(auth.RolePipeline)
	app := filepath.Join(dir, "app")
	deployed := filepath.Join(app, "deployed.txt")
	ev := []string{"evidence", "add", filepath.Join(dir, "plan.json"), filepath.Join(dir, "incidents.json")}
	run := func(step string, argv ...string) []string {
		return append([]string{"run", step, "--release", "web-1", "--dir", app, "--signing-key", key, "--trusted-key", pub, "--"}, argv...)
	}
	// Locally, alice's approval, signed with her EXAMPLE key; on the
	// server, carol approves with her token.
	localDeploy := []string{"--data", data, "--trusted-key", exampleKeys}
	steps := []struct {
		name      string
		args      []string
		localOnly []string
		wantCode  int
		wantOut   string
		ran       bool // deployed.txt exists afterwards
		approve   bool // on the server, an approver approves instead
	}{
		{"plan", ev, nil, 0, "recorded as entry", false, false},
		{"failing build", run("build", "sh", "-c", "echo compile error; exit 3"), nil, 3, "compile error", false, false},
		{"passing build", run("build", "sh", "-c", "echo built"), nil, 0, "built", false, false},
		{"unapproved command denied", run("deploy", "sh", "-c", "echo deployed > deployed.txt; echo extra"), localDeploy, 1, "x deploy.approved-command [hard]", false, false},
		{"no approval denied", run("deploy", "sh", "-c", "echo deployed > deployed.txt"), localDeploy, 1, "x approval.required", false, false},
		{"approval", []string{"evidence", "add", filepath.Join(dir, "approval.json"), "--trusted-key", exampleKeys}, nil, 0, "recorded as entry", false, true},
		{"allowed deploy runs", run("deploy", "sh", "-c", "echo deployed > deployed.txt"), localDeploy, 0, "ALLOW deploy gate for release web-1 (web/production @ ", true, false},
	}
	for _, st := range steps {
		os.Remove(deployed)
		args := st.args
		if len(st.localOnly) > 0 {
			// Flags go before the "--" of run.
			args = append(append(append([]string{}, st.args[:2]...), st.localOnly...), st.args[2:]...)
		}
		lc, lout, lerr := runWith(local, args...)
		if st.approve {
			if lc != st.wantCode || !strings.Contains(lout, st.wantOut) {
				t.Errorf("%s: exit %d %s %s", st.name, lc, lout, lerr)
			}
			sl.approve(t, "web-1")
			continue
		}
		_, localRan := os.Stat(deployed)
		os.Remove(deployed)
		rc, rout, rerr := runWith(remote, st.args...)
		_, remoteRan := os.Stat(deployed)
		if lc != st.wantCode || rc != st.wantCode {
			t.Errorf("%s: exit local %d, remote %d; want %d\nlocal stderr: %s\nremote stderr: %s", st.name, lc, rc, st.wantCode, lerr, rerr)
		}
		if (localRan == nil) != st.ran || (remoteRan == nil) != st.ran {
			t.Errorf("%s: command ran locally %t, remotely %t; want %t", st.name, localRan == nil, remoteRan == nil, st.ran)
		}
		if n := func(s string) string { return normalize(timing.ReplaceAllString(s, "in T")) }; n(lout) != n(rout) {
			t.Errorf("%s: remote output differs from local\nlocal:\n%s\nremote:\n%s", st.name, lout, rout)
		}
		if !strings.Contains(rout, st.wantOut) {
			t.Errorf("%s: remote output lacks %q:\n%s\nstderr: %s", st.name, st.wantOut, rout, rerr)
		}
	}

	// The server's ledger holds each Build and Deploy in its DSSE
	// envelope, signed by the key the CLI signed with.
	db, err := sqlite.OpenReadOnly(context.Background(), sl.db)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := db.Evidence(context.Background(), "web-1")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	signed := map[string]int{}
	for _, e := range evs {
		if e.Kind == "Build" || e.Kind == "Deploy" {
			verifySigned(t, sl.db, e.Digest, pub, keyID)
			signed[e.Kind]++
		}
	}
	// Builds failed and passed; Deploy requests (three) and the outcome.
	if signed["Build"] != 2 || signed["Deploy"] != 4 {
		t.Errorf("server ledger holds %v signed; want 2 Build and 4 Deploy", signed)
	}
}

// Signed evidence by a key the server does not trust is refused with the
// pointer to the signature's key id: the deploy request is not recorded,
// the deploy gate is not asked, the command does not run, exit 2.
func TestRemoteRunUntrustedKey(t *testing.T) {
	dir := runFixture(t)
	_, pub, _ := verifySigningKey(t, dir)
	other := t.TempDir()
	okey, opub, oID := verifySigningKey(t, other)
	sl := serve(t, "--data", filepath.Join(dir, "data.yaml"), "--trusted-key", pub)
	remote := sl.env(auth.RolePipeline)
	app := filepath.Join(dir, "app")
	if code, out, errOut := runWith(remote, "evidence", "add", filepath.Join(dir, "plan.json"), filepath.Join(dir, "incidents.json")); code != 0 {
		t.Fatalf("evidence add = %d %s %s", code, out, errOut)
	}
	sl.approve(t, "web-1")
	code, out, errOut := runWith(remote, "run", "deploy", "--release", "web-1", "--dir", app, "--signing-key", okey, "--trusted-key", opub,
		"--", "sh", "-c", "echo deployed > deployed.txt")
	if code != 2 || !strings.Contains(errOut, "400 invalid_evidence") || !strings.Contains(errOut, "/signatures/0/keyid") ||
		!strings.Contains(errOut, "key "+oID+" is not trusted") || !strings.Contains(errOut, "sh was not run") {
		t.Errorf("untrusted key: exit %d\nstdout: %s\nstderr: %s\nwant 2, 400 invalid_evidence naming /signatures/0/keyid and %s", code, out, errOut, oID)
	}
	if _, err := os.Stat(filepath.Join(app, "deployed.txt")); err == nil {
		t.Error("the deploy command ran")
	}
	// A policy flag with --server is refused: the server's policies
	// decide, and the command does not run.
	code, _, errOut = runWith(remote, "run", "deploy", "--release", "web-1", "--dir", app, "--data", filepath.Join(dir, "data.yaml"),
		"--signing-key", okey, "--", "sh", "-c", "echo deployed > deployed.txt")
	if code != 2 || !strings.Contains(errOut, "--data with --server") {
		t.Errorf("--data with --server: exit %d %s; want 2", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(app, "deployed.txt")); err == nil {
		t.Error("the deploy command ran")
	}
	// A build by that key ran (a build has no gate) but its evidence is
	// not on record: exit 2, never the build's 0.
	code, _, errOut = runWith(remote, "run", "build", "--release", "web-1", "--dir", app, "--signing-key", okey, "--trusted-key", opub,
		"--", "sh", "-c", "echo built")
	if code != 2 || !strings.Contains(errOut, "sh exited 0, but its Build evidence could not be recorded") || !strings.Contains(errOut, "/signatures/0/keyid") {
		t.Errorf("untrusted build: exit %d\n%s; want 2", code, errOut)
	}
	db, err := sqlite.OpenReadOnly(context.Background(), sl.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	evs, err := db.Evidence(context.Background(), "web-1")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := db.Decisions(context.Background(), "web-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || len(ds) != 0 {
		t.Errorf("server ledger: %d evidence, %d decisions; want the 3 added and no decision", len(evs), len(ds))
	}
}

// dropFirst is a loopback proxy to the server that forwards the first
// request to path and then drops the connection instead of answering, as
// a load balancer failing over does: the server recorded, the client
// never heard.
func dropFirst(t *testing.T, upstream, path string) (string, *atomic.Int32) {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int32
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target.String()+r.URL.RequestURI(), bytes.NewReader(b))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		rb, _ := io.ReadAll(resp.Body)
		if r.URL.Path == path && seen.Add(1) == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(rb)
	}))
	t.Cleanup(p.Close)
	return p.URL, &seen
}

// run deploy and verify name their decision and ask again with the same
// id when the answer is lost: the first answer stands, nothing is recorded
// twice, and the exit code is the decision's.
func TestRemoteStepsRetrySameDecision(t *testing.T) {
	dir := runFixture(t)
	key, pub, _ := verifySigningKey(t, dir)
	sl := serve(t, "--data", filepath.Join(dir, "data.yaml"), "--trusted-key", pub)
	proxy, seen := dropFirst(t, sl.url, "/v1/gates/deploy")
	remote := sl.env(auth.RolePipeline)
	remote["SHIPGATE_SERVER"] = proxy
	app := filepath.Join(dir, "app")
	if code, out, errOut := runWith(remote, "evidence", "add", filepath.Join(dir, "plan.json"), filepath.Join(dir, "incidents.json")); code != 0 {
		t.Fatalf("evidence add = %d %s %s", code, out, errOut)
	}
	sl.approve(t, "web-1")
	if code, out, errOut := runWith(remote, "run", "build", "--release", "web-1", "--dir", app, "--signing-key", key, "--", "sh", "-c", "echo built"); code != 0 {
		t.Fatalf("run build = %d %s %s", code, out, errOut)
	}
	code, out, errOut := runWith(remote, "run", "deploy", "--release", "web-1", "--dir", app, "--signing-key", key, "--", "sh", "-c", "echo deployed > deployed.txt")
	if code != 0 || !strings.Contains(out, "ALLOW deploy gate") {
		t.Fatalf("run deploy through a dropped answer = %d\n%s\n%s; want 0", code, out, errOut)
	}
	if seen.Load() != 2 {
		t.Errorf("the deploy gate was asked %d times; want 2 (one dropped, one retry)", seen.Load())
	}
	db, err := sqlite.OpenReadOnly(context.Background(), sl.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ds, err := db.Decisions(context.Background(), "web-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || !ds[0].Allow || !strings.Contains(out, ds[0].ID) {
		t.Errorf("server ledger decisions %s; want the one allow the command printed:\n%s", summarize(ds), out)
	}
}

// shipgate verify against a server runs the checks here, records the
// signed Verification and asks the verify gate through the server, and
// prints and exits as against a local ledger.
func TestRemoteVerifyMatchesLocal(t *testing.T) {
	const release = "lv-2026-11-26.1"
	dir, localDB := releaseLedger(t)
	key, pub, keyID := verifySigningKey(t, dir)
	sl := serve(t, "--trusted-key", pub)
	local := map[string]string{"SHIPGATE_STORE": localDB, "SHIPGATE_ACTOR": "dave"}
	remote := sl.env(auth.RolePipeline)
	if code, out, errOut := runWith(remote, "evidence", "add", filepath.Join(dir, "plan.json"), filepath.Join(dir, "deploy.json"), "--trusted-key", pub); code != 0 {
		t.Fatalf("evidence add = %d %s %s", code, out, errOut)
	}
	checks := exampleChecks(t, dir)
	for _, tt := range []struct {
		name string
		app  *fakeApp
		code int
		out  string
	}{
		{"all pass", &fakeApp{}, 0, "ALLOW verify gate"},
		{"wrong user", &fakeApp{me: "eve@example.com"}, 1, "DENY verify gate"},
		{"all pass again", &fakeApp{}, 0, "ALLOW verify gate"},
	} {
		base := tt.app.start(t)
		args := []string{"verify", "--release", release, "--checks", checks, "--base", base, "--var", "password=s3cret", "--signing-key", key}
		lc, lout, lerr := runWith(local, args...)
		rc, rout, rerr := runWith(remote, args...)
		if lc != tt.code || rc != tt.code {
			t.Errorf("%s: exit local %d, remote %d; want %d\nlocal stderr: %s\nremote stderr: %s", tt.name, lc, rc, tt.code, lerr, rerr)
		}
		if n := func(s string) string { return normalize(timing.ReplaceAllString(s, "at T")) }; n(lout) != n(rout) {
			t.Errorf("%s: remote output differs from local\nlocal:\n%s\nremote:\n%s", tt.name, lout, rout)
		}
		if !strings.Contains(rout, tt.out) {
			t.Errorf("%s: remote output lacks %q:\n%s", tt.name, tt.out, rout)
		}
		m := recordedRE.FindStringSubmatch(rerr)
		if m == nil || m[3] != keyID {
			t.Fatalf("%s: remote stderr:\n%s\nwant a recorded Verification signed by %s", tt.name, rerr, keyID)
		}
		// On the server, in its envelope, signed by the CLI's key.
		verifySigned(t, sl.db, m[2], pub, keyID)
	}
	// The server decided three times, each named by the CLI.
	db, err := sqlite.OpenReadOnly(context.Background(), sl.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ds, err := db.Decisions(context.Background(), release)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 3 || !ds[0].Allow || ds[1].Allow || !ds[2].Allow {
		t.Errorf("server decisions %s; want allow, deny, allow", summarize(ds))
	}

	// Fail closed: an app whose checks fail and a server that is gone is
	// exit 2 (the Verification cannot be recorded), never 0 or 1.
	// (--rollback-on-fail with --server: TestRemoteRollback.)
	gone := map[string]string{"SHIPGATE_SERVER": "http://127.0.0.1:1", "SHIPGATE_TOKEN": sl.tokens[auth.RolePipeline]}
	base := (&fakeApp{}).start(t)
	args := []string{"verify", "--release", release, "--checks", checks, "--base", base, "--var", "password=s3cret", "--signing-key", key}
	if code, _, errOut := runWith(gone, args...); code != 2 || !strings.Contains(errOut, "connect") {
		t.Errorf("server gone: exit %d, stderr %s; want 2", code, errOut)
	}
}

// The config's server: makes the remote-capable commands talk to it (the
// token still comes from the environment); --store or $SHIPGATE_STORE
// goes local; a token in the config, or a server that is not a URL, is an
// error, never a silent fallback.
func TestConfigServer(t *testing.T) {
	sl := serve(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "shipgate.yaml")
	writeFile(t, cfg, "service: localizevideos-app\nenvironment: production\nserver: "+sl.url+"\n")
	a := filepath.Join("..", "examples", "localizevideos", "evidence", "allowed")
	tok := map[string]string{"SHIPGATE_TOKEN": sl.tokens[auth.RolePipeline]}
	code, out, errOut := runWith(tok, "evidence", "add", "--config", cfg, filepath.Join(a, "plan.json"))
	if code != 0 || !strings.Contains(out, "recorded as entry 1") {
		t.Fatalf("evidence add with the config's server = %d %s %s", code, out, errOut)
	}
	db, err := sqlite.OpenReadOnly(context.Background(), sl.db)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := db.Evidence(context.Background(), "lv-2026-11-26.1")
	db.Close()
	if err != nil || len(evs) != 1 {
		t.Fatalf("server ledger: %d evidence, %v; want the Plan", len(evs), err)
	}
	// Remote mode refuses --now: proof the config's server was used.
	if code, _, errOut := runWith(tok, "gate", "deploy", "--config", cfg, "--release", "lv-2026-11-26.1", "--now", "2026-11-26T10:05:00Z"); code != 2 || !strings.Contains(errOut, "the server decides at its own time") {
		t.Errorf("gate with the config's server: exit %d %s; want remote mode", code, errOut)
	}
	// No token: an error naming where it comes from.
	if code, _, errOut := runWith(nil, "status", "--config", cfg, "--release", "lv-2026-11-26.1"); code != 2 || !strings.Contains(errOut, "give --token or set $SHIPGATE_TOKEN") {
		t.Errorf("no token: exit %d %s", code, errOut)
	}
	// --store and $SHIPGATE_STORE go local.
	localDB := filepath.Join(dir, "local.db")
	for name, c := range map[string]struct {
		env  map[string]string
		args []string
	}{
		"--store":         {tok, []string{"--store", localDB}},
		"$SHIPGATE_STORE": {map[string]string{"SHIPGATE_TOKEN": "x", "SHIPGATE_STORE": localDB}, nil},
	} {
		code, out, errOut := runWith(c.env, append([]string{"gate", "deploy", "--config", cfg, "--release", "lv-2026-11-26.1", "--now", "2026-11-26T10:05:00Z"}, c.args...)...)
		if code != 1 || !strings.Contains(out, "DENY deploy gate") {
			t.Errorf("%s with the config's server: exit %d\n%s\n%s; want a local denial", name, code, out, errOut)
		}
	}
	for name, c := range map[string]struct{ yaml, want string }{
		"token":       {"server: " + sl.url + "\ntoken: sgt_secret\n", "token: an API token does not belong in the config"},
		"not a URL":   {"server: 127.0.0.1:8080\n", `server: "127.0.0.1:8080": want an http:// or https:// URL`},
		"unknown key": {"srever: " + sl.url + "\n", "srever"},
	} {
		bad := filepath.Join(t.TempDir(), "shipgate.yaml")
		writeFile(t, bad, c.yaml)
		code, out, errOut := runWith(tok, "status", "--config", bad, "--release", "lv-2026-11-26.1")
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d\n%s\n%s; want 2 and %q", name, code, out, errOut, c.want)
		}
	}
}

// shipgate watch against a server samples the signals here, records the
// signed Monitoring and asks the complete gate through the server, and
// prints and exits as against a local ledger.
func TestRemoteWatchMatchesLocal(t *testing.T) {
	const release = "lv-2026-11-26.1"
	dir, localDB := watchLedger(t)
	key := signingKey(t, dir)
	pub := filepath.Join(dir, "evidence.pub")
	demoData, err := filepath.Abs(filepath.Join("..", "examples", "localizevideos", "watch-demo-data.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sl := serve(t, "--trusted-key", pub, "--data", "+"+demoData)
	local := map[string]string{"SHIPGATE_STORE": localDB, "SHIPGATE_ACTOR": "dave"}
	remote := sl.env(auth.RolePipeline)
	if code, out, errOut := runWith(remote, "evidence", "add", filepath.Join(dir, "plan.json"), filepath.Join(dir, "deploy.json"), filepath.Join(dir, "verification.json"), "--trusted-key", pub); code != 0 {
		t.Fatalf("evidence add = %d %s %s", code, out, errOut)
	}
	for _, tt := range []struct {
		name   string
		values map[string]string
		code   int
		out    string
		stderr string
	}{
		{"healthy", healthyValues(), 0, "ALLOW complete gate", "recorded Monitoring healthy"},
		{"breach", map[string]string{"error_rate": "0.01", "auth_success": "0.99", "latency_p95": "0.9", "cpu": "0.2", "memory": "1e8"}, 1, "DENY complete gate", "rollback required"},
	} {
		_, url := newFakeProm(t, tt.values)
		sig := fakeSignals(t, dir, url, "")
		args := []string{"watch", "--release", release, "--signals", sig, "--window", "3s", "--interval", "250ms", "--baseline-offset", "1s", "--signing-key", key}
		lc, lout, lerr := runWith(local, append(args, "--data", "+"+demoData)...)
		rc, rout, rerr := runWith(remote, args...)
		if lc != tt.code || rc != tt.code {
			t.Errorf("%s: exit local %d, remote %d; want %d\nlocal stderr: %s\nremote stderr: %s", tt.name, lc, rc, tt.code, lerr, rerr)
		}
		if n := func(s string) string { return normalize(timing.ReplaceAllString(s, "at T")) }; n(lout) != n(rout) {
			t.Errorf("%s: remote output differs from local\nlocal:\n%s\nremote:\n%s", tt.name, lout, rout)
		}
		if !strings.Contains(rout, tt.out) || !strings.Contains(rerr, tt.stderr) {
			t.Errorf("%s: remote output lacks %q or stderr %q:\n%s\n%s", tt.name, tt.out, tt.stderr, rout, rerr)
		}
	}
	// Each Monitoring is on the server, in its envelope, signed by the
	// CLI's key; the server decided twice.
	if n := storedSigned(t, sl.db, release, "Monitoring", key); n != 2 {
		t.Errorf("%d signed Monitoring on the server; want 2", n)
	}
	db, err := sqlite.OpenReadOnly(context.Background(), sl.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ds, err := db.Decisions(context.Background(), release)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].Gate != "complete" || !ds[0].Allow || ds[1].Allow {
		t.Errorf("server decisions %s; want complete allow, deny", summarize(ds))
	}
	// What reads other releases, and local policies, are refused with
	// --server, before any watch.
	for _, extra := range [][]string{{"--baseline-from", "last-completed"}, {"--data", "+" + demoData}} {
		_, url := newFakeProm(t, healthyValues())
		args := append([]string{"watch", "--release", release, "--signals", fakeSignals(t, dir, url, ""), "--window", "3s", "--signing-key", key}, extra...)
		if code, _, errOut := runWith(remote, args...); code != 2 || !strings.Contains(errOut, "with --server") {
			t.Errorf("watch %v with --server: exit %d %s; want 2", extra, code, errOut)
		}
	}
}

// watch --auto-rollback --server asks the server's policy before it
// starts and the server's holds on a breach; the rollback it runs goes to
// the server too, with the token in its environment, never its arguments.
func TestRemoteWatchAutoRollback(t *testing.T) {
	const release = "lv-2026-11-26.1"
	dir, _ := watchLedger(t)
	key := signingKey(t, dir)
	pub := filepath.Join(dir, "evidence.pub")
	demoData, err := filepath.Abs(filepath.Join("..", "examples", "localizevideos", "watch-demo-data.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	breach := map[string]string{"error_rate": "0.01", "auth_success": "0.99", "latency_p95": "0.9", "cpu": "0.2", "memory": "1e8"}
	watchArgs := func() []string {
		_, url := newFakeProm(t, breach)
		return []string{"watch", "--release", release, "--signals", fakeSignals(t, dir, url, ""), "--window", "3s", "--interval", "250ms",
			"--baseline-offset", "1s", "--signing-key", key, "--auto-rollback", "--rollback-arg=--dir=" + dir}
	}
	setup := func(sl *servedLedger) map[string]string {
		remote := sl.env(auth.RolePipeline)
		if code, out, errOut := runWith(remote, "evidence", "add", filepath.Join(dir, "plan.json"), filepath.Join(dir, "deploy.json"), filepath.Join(dir, "verification.json"), "--trusted-key", pub); code != 0 {
			t.Fatalf("evidence add = %d %s %s", code, out, errOut)
		}
		return remote
	}

	// The server's default data declares no automation: refused before
	// anything is watched.
	remote := setup(serve(t, "--trusted-key", pub))
	if code, _, errOut := runWith(remote, watchArgs()...); code != 1 ||
		!strings.Contains(errOut, "--auto-rollback refused by the policy: automation.auto-rollback") || strings.Contains(errOut, "watching") {
		t.Errorf("watch --auto-rollback, no capability: exit %d\n%s; want 1, refused before the watch", code, errOut)
	}

	// Declared, and held on the server: the breach only alerts.
	sl := serve(t, "--trusted-key", pub, "--data", "+"+demoData)
	remote = setup(sl)
	// shipgate hold --server records the hold as the approver token's
	// person: another name, or a pipeline token, is refused.
	approver := sl.env(auth.RoleApprover)
	for name, c := range map[string]struct {
		env  map[string]string
		args []string
		want string
	}{
		"another name":   {approver, []string{"--by", "dave"}, "the token is carol's: it cannot hold for dave"},
		"pipeline token": {remote, []string{"--by", "dave"}, "403"},
	} {
		if code, _, errOut := runWith(c.env, append([]string{"hold", "--release", release, "--reason", "campaign"}, c.args...)...); code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("hold --server, %s: exit %d %s; want 2 and %q", name, code, errOut, c.want)
		}
	}
	if code, out, errOut := runWith(approver, "hold", "--release", release, "--by", "carol", "--reason", "the spike is the campaign"); code != 0 ||
		!strings.Contains(out, "held: carol holds "+release+" (the spike is the campaign)") {
		t.Fatalf("hold --server = %d %s %s", code, out, errOut)
	}
	code, _, errOut := runWith(remote, watchArgs()...)
	for _, want := range []string{"automated rollback allowed for localizevideos-app by the policy", "rollback required (held by carol: decide now)"} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("held: exit %d, stderr lacks %q:\n%s", code, want, errOut)
		}
	}
	if strings.Contains(errOut, "running shipgate") {
		t.Errorf("the rollback ran despite the server's hold:\n%s", errOut)
	}

	// Lifted: the breach runs the rollback against the server.
	if code, out, errOut := runWith(approver, "unhold", "--release", release, "--by", "carol"); code != 0 ||
		!strings.Contains(out, "lifted: carol lifted carol's hold on "+release) {
		t.Fatalf("unhold --server = %d %s %s", code, out, errOut)
	}
	code, _, errOut = runWith(remote, watchArgs()...)
	if want := "running shipgate rollback --release " + release + " --trigger watch --signing-key " + key + " --server " + sl.url + " --dir=" + dir; code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("lifted: exit %d, stderr lacks %q:\n%s", code, want, errOut)
	}
	if strings.Contains(errOut, remote["SHIPGATE_TOKEN"]) {
		t.Errorf("the token was printed:\n%s", errOut)
	}
	// The rollback reached the server with the token (here it fails: the
	// directory is no checkout) and recorded itself there.
	if n := storedSigned(t, sl.db, release, "Rollback", key); n != 1 {
		t.Errorf("%d signed Rollback on the server; want 1\n%s", n, errOut)
	}
}

func summarize(ds []store.Decision) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "[%s %s allow=%t] ", d.ID, d.Gate, d.Allow)
	}
	return b.String()
}

// evidence add sends a signed file as its envelope: kept on the server
// when the server trusts its key, refused with the pointer when not.
func TestRemoteEvidenceAddSigned(t *testing.T) {
	dir := t.TempDir()
	key := signingKey(t, dir)
	pub := filepath.Join(dir, "evidence.pub")
	other := t.TempDir()
	okey := signingKey(t, other)
	opub := filepath.Join(other, "evidence.pub")
	sl := serve(t, "--trusted-key", pub)
	remote := sl.env(auth.RolePipeline)
	a := filepath.Join("..", "examples", "localizevideos", "evidence", "allowed")
	sign := func(k, name string) string {
		out, _ := shipgate(t, 0, "evidence", "sign", filepath.Join(a, name), "--signing-key", k)
		p := filepath.Join(t.TempDir(), name)
		writeFile(t, p, out)
		return p
	}
	code, out, errOut := runWith(remote, "evidence", "add", "--trusted-key", opub, sign(okey, "plan.json"))
	if code != 2 || !strings.Contains(errOut, "400 invalid_evidence") || !strings.Contains(errOut, "/signatures/0/keyid: unknown-key") {
		t.Errorf("evidence add signed by an untrusted key = %d\n%s\n%s; want 2 naming /signatures/0/keyid", code, out, errOut)
	}
	if code, out, errOut := runWith(remote, "evidence", "add", "--trusted-key", pub, sign(key, "plan.json"), filepath.Join(a, "incidents.json")); code != 0 {
		t.Fatalf("evidence add signed by a trusted key = %d\n%s\n%s", code, out, errOut)
	}
	if n := storedSigned(t, sl.db, "lv-2026-11-26.1", "Plan", key); n != 1 {
		t.Errorf("%d signed Plans on the server; want 1", n)
	}
}

var recordedRollback = regexp.MustCompile(`recorded Rollback (succeeded|failed) \(fast\) for release (\S+): (sha256:[0-9a-f]{64})`)

// recordedOf reads the release's documents of kind from a SQLite ledger
// (a server's, or a local one), in ledger order.
func recordedOf(t *testing.T, db, release, kind string) []store.Evidence {
	t.Helper()
	st, err := sqlite.OpenReadOnly(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.Evidence(context.Background(), release)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Evidence
	for _, e := range evs {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// shipgate rollback against a server: the server finds the target in its
// ledger (GET /v1/releases/{id}/rollback-target, the same FindTarget as a
// local rollback), the steps run here on the real checkout, and the signed
// Rollback is recorded on the server. No target is a recorded failure and
// exit 1, as in local mode; verify --rollback-on-fail rolls back the same
// way.
func TestRemoteRollback(t *testing.T) {
	dir := runFixture(t)
	key, pub, keyID := verifySigningKey(t, dir)
	data := filepath.Join(dir, "data.yaml")
	sl := serve(t, "--data", data, "--trusted-key", pub)
	remote := sl.env(auth.RolePipeline)
	app := filepath.Join(dir, "app")
	arts := filepath.Join(dir, "artifacts")
	git := gitIn(t, app)
	must := func(what string, want int, env map[string]string, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runWith(env, args...)
		if code != want {
			t.Fatalf("%s: exit %d; want %d\nstdout: %s\nstderr: %s", what, code, want, out, errOut)
		}
		return out, errOut
	}
	// The build output is no change to the checkout.
	fixture := git("rev-parse", "HEAD")
	writeFile(t, filepath.Join(app, ".gitignore"), "deployed.txt\ndist/\n")
	git("commit", "-q", "--amend", "-a", "-m", "release 1")
	commit1 := git("rev-parse", "HEAD")
	for _, f := range []string{"plan", "incidents", "approval"} {
		b, err := os.ReadFile(filepath.Join(dir, f+".json"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, f+".json"), strings.ReplaceAll(string(b), fixture, commit1))
	}
	must("plan web-1", 0, remote, "evidence", "add", filepath.Join(dir, "plan.json"), filepath.Join(dir, "incidents.json"))

	// No release of web passed verify yet: the server answers 404, the
	// failed Rollback is recorded there, nothing runs, exit 1; a local
	// ledger in the same state prints the same.
	rb := []string{"rollback", "--release", "web-1", "--dir", app, "--signing-key", key, "--artifact-store", arts}
	out, errOut := must("rollback without target", 1, remote, rb...)
	if !strings.Contains(errOut, "no earlier release passed verify") || !strings.Contains(errOut, "server answered 404") {
		t.Errorf("rollback without target: stderr lacks the server's 404 and its reason:\n%s", errOut)
	}
	m := recordedRollback.FindStringSubmatch(errOut)
	if m == nil || m[1] != "failed" {
		t.Fatalf("rollback without target: stderr %s; want a recorded failed Rollback", errOut)
	}
	verifySigned(t, sl.db, m[3], pub, keyID)
	local := map[string]string{"SHIPGATE_STORE": filepath.Join(dir, "local.db"), "SHIPGATE_ACTOR": "dave"}
	must("local plan web-1", 0, local, "evidence", "add", filepath.Join(dir, "plan.json"))
	lout, lerr := must("local rollback without target", 1, local, append(rb, "--data", data)...)
	if n := func(s string) string { return timing.ReplaceAllString(s, "in T") }; n(lout) != n(out) {
		t.Errorf("rollback without target: remote output differs from local\nlocal:\n%s\nremote:\n%s", lout, out)
	}
	if !strings.Contains(lerr, "no earlier release passed verify") {
		t.Errorf("local rollback without target: %s", lerr)
	}
	if got := git("rev-parse", "HEAD"); got != commit1 {
		t.Fatalf("a failed rollback moved HEAD to %s", got)
	}

	// web-1 is built (its output kept as an artifact), approved, deployed
	// and verified through the server.
	build := "mkdir -p dist && echo v1 > dist/app.txt"
	must("build web-1", 0, remote, "run", "build", "--release", "web-1", "--dir", app, "--signing-key", key,
		"--artifact", "dist", "--artifact-store", arts, "--", "sh", "-c", build)
	sl.approve(t, "web-1")
	// The deploy hashes the same build output the build recorded: a
	// request without its digest would be denied (forbidden.hot-patch).
	must("deploy web-1", 0, remote, "run", "deploy", "--release", "web-1", "--dir", app, "--signing-key", key,
		"--artifact", "dist", "--", "sh", "-c", "echo deployed > deployed.txt")
	checks := exampleChecks(t, dir)
	verify := func(release string, app *fakeApp) []string {
		return []string{"verify", "--release", release, "--checks", checks, "--base", app.start(t), "--var", "password=s3cret", "--signing-key", key}
	}
	must("verify web-1", 0, remote, verify("web-1", &fakeApp{})...)

	// web-2: a new commit with other build output, deployed by hand.
	writeFile(t, filepath.Join(app, "app.js"), `console.log("web 2");`+"\n")
	git("commit", "-q", "-am", "release 2")
	commit2 := git("rev-parse", "HEAD")
	if err := os.WriteFile(filepath.Join(app, "dist", "app.txt"), []byte("v2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan2, err := os.ReadFile(filepath.Join(dir, "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "plan2.json"), strings.NewReplacer("web-1", "web-2", commit1, commit2).Replace(string(plan2)))
	must("plan web-2", 0, remote, "evidence", "add", filepath.Join(dir, "plan2.json"))
	os.Remove(filepath.Join(app, "deployed.txt"))

	// The rollback of web-2 goes back to web-1: its commit checked out,
	// its verified build output restored, the approved command run.
	rb2 := []string{"rollback", "--release", "web-2", "--dir", app, "--signing-key", key, "--artifact-store", arts, "--build", ""}
	out, errOut = must("rollback web-2", 0, remote, rb2...)
	if !strings.Contains(out, "rollback fast succeeded: web-2 in ") ||
		!strings.Contains(errOut, "back to release web-1 @ "+commit1[:12]) || !strings.Contains(errOut, "restoring its verified build output dist from sha256:") {
		t.Errorf("rollback web-2:\nstdout: %s\nstderr: %s", out, errOut)
	}
	if got := git("rev-parse", "HEAD"); got != commit1 {
		t.Errorf("after the rollback HEAD is %s; want web-1's %s", got, commit1)
	}
	if b, err := os.ReadFile(filepath.Join(app, "dist", "app.txt")); err != nil || string(b) != "v1\n" {
		t.Errorf("dist/app.txt = %q, %v; want web-1's verified v1", b, err)
	}
	if _, err := os.Stat(filepath.Join(app, "deployed.txt")); err != nil {
		t.Errorf("the approved restart command did not run: %v", err)
	}
	m = recordedRollback.FindStringSubmatch(errOut)
	if m == nil || m[1] != "succeeded" || m[2] != "web-2" {
		t.Fatalf("rollback web-2: stderr %s; want a recorded succeeded Rollback", errOut)
	}
	verifySigned(t, sl.db, m[3], pub, keyID)
	rbs := recordedOf(t, sl.db, "web-2", "Rollback")
	if len(rbs) != 1 || rbs[0].Digest != m[3] || rbs[0].Commit != commit2 ||
		!strings.Contains(string(rbs[0].Body), `"toCommit":"`+commit1+`"`) || !strings.Contains(string(rbs[0].Body), `"toRelease":"web-1"`) {
		t.Errorf("server Rollbacks of web-2: %d %+v; want the one printed, to web-1 @ %s", len(rbs), rbs, commit1)
	}

	// verify --rollback-on-fail with --server: a broken /api/me denies,
	// and the release goes back to web-1 again, recorded on the server.
	git("checkout", "-q", "main")
	out, errOut = must("verify --rollback-on-fail", 1, remote, append(verify("web-2", &fakeApp{me: "eve@example.com"}), "--rollback-on-fail",
		"--dir", app, "--artifact-store", arts, "--build", "")...)
	if !strings.Contains(out, "DENY verify gate") || !strings.Contains(errOut, "rolling back now (--rollback-on-fail)") {
		t.Errorf("verify --rollback-on-fail:\nstdout: %s\nstderr: %s", out, errOut)
	}
	if got := git("rev-parse", "HEAD"); got != commit1 {
		t.Errorf("after verify --rollback-on-fail HEAD is %s; want %s", got, commit1)
	}
	if rbs := recordedOf(t, sl.db, "web-2", "Rollback"); len(rbs) != 2 || !strings.Contains(string(rbs[1].Body), `"trigger":"verify-failed"`) {
		t.Errorf("server Rollbacks of web-2: %d; want 2, the second triggered by verify-failed", len(rbs))
	}

	// A server that is gone: the rollback runs nothing and exits 2 (its
	// failure cannot be recorded), never 0.
	git("checkout", "-q", "main")
	gone := map[string]string{"SHIPGATE_SERVER": "http://127.0.0.1:1", "SHIPGATE_TOKEN": sl.tokens[auth.RolePipeline], "SHIPGATE_ACTOR": "dave"}
	if code, _, errOut := runWith(gone, rb2...); code != 2 {
		t.Errorf("rollback with the server gone: exit %d %s; want 2", code, errOut)
	}
	if got := git("rev-parse", "HEAD"); got != commit2 {
		t.Errorf("a rollback without its server moved HEAD to %s", got)
	}
}

// gitIn runs git in the repository dir as Dave and returns its trimmed
// output; a failure fails the test.
func gitIn(t *testing.T, dir string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		c := exec.Command("git", append([]string{"-C", dir}, args...)...)
		c.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Dave", "GIT_AUTHOR_EMAIL=dave@example.com",
			"GIT_COMMITTER_NAME=Dave", "GIT_COMMITTER_EMAIL=dave@example.com")
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
}
