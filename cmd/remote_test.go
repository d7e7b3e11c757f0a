package cmd_test

import (
	"bytes"
	"context"
	"database/sql"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/cmd"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/server"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// remoteEnv is a real server (real SQLite ledger, loopback HTTP) at the
// time the example release's deploy gate allows.
type remoteEnv struct {
	url    string
	path   string
	tokens map[string]string
}

func newRemoteEnv(t *testing.T) *remoteEnv {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "server.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	eng, err := engine.Load(ctx, engine.Options{Policies: policies.FS})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)
	srv, err := server.New(server.Config{Store: db, Engine: eng, Validator: evidence.NewValidator(reg, evidence.DefaultLimits),
		Clock: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &remoteEnv{url: hs.URL, path: path, tokens: map[string]string{}}
	for _, role := range []string{auth.RolePipeline, auth.RoleAuditor} {
		secret, _, err := auth.New(db).Create(ctx, "ci-bot", role, "test")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[role] = secret
	}
	return e
}

// run runs shipgate with env and returns the exit code, stdout and stderr.
func runWith(env map[string]string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := cmd.Execute(context.Background(), args, cmd.Streams{In: strings.NewReader(""), Out: &out, Err: &errb,
		Getenv: func(k string) string { return env[k] }})
	return code, out.String(), errb.String()
}

var (
	idPattern = regexp.MustCompile(`(dec|vio|obl)_[0-9a-z]{26}`)
	// The input digest covers the open violations, whose ids and times
	// differ between the two ledgers.
	inputDigest = regexp.MustCompile(`(input sha256:|"input": \{\s*"digest": "sha256:|input\.digest" value="sha256:)[0-9a-f]+`)
)

func normalize(s string) string {
	return inputDigest.ReplaceAllString(idPattern.ReplaceAllString(s, "${1}_ID"), "${1}DIGEST")
}

// The remote mode of evidence add, gate, status, violations and
// postmortem prints what the local mode prints and exits with the same
// codes; the server records what it did.
func TestRemoteModeMatchesLocal(t *testing.T) {
	e := newRemoteEnv(t)
	a := filepath.Join("..", "examples", "localizevideos", "evidence", "allowed")
	local := map[string]string{"SHIPGATE_STORE": filepath.Join(t.TempDir(), "local.db"), "SHIPGATE_ACTOR": "ci-bot"}
	remote := map[string]string{"SHIPGATE_SERVER": e.url, "SHIPGATE_TOKEN": e.tokens[auth.RolePipeline]}
	auditor := map[string]string{"SHIPGATE_SERVER": e.url, "SHIPGATE_TOKEN": e.tokens[auth.RoleAuditor]}
	now := []string{"--now", "2026-11-26T10:05:00Z"}

	steps := []struct {
		name       string
		args       []string
		localOnly  []string // flags the local run needs (the server has its own clock)
		remoteEnv  map[string]string
		wantCode   int
		wantOutput string // in stdout
	}{
		{"evidence add", []string{"evidence", "add", filepath.Join(a, "plan.json"), filepath.Join(a, "incidents.json"), filepath.Join(a, "build.json")}, nil, remote, 0, "recorded as entry 3"},
		{"evidence add json", []string{"evidence", "add", "-o", "json", filepath.Join(a, "plan.json"), filepath.Join(a, "deploy-requested.json")}, nil, remote, 0, `"new": false`},
		{"gate denies", []string{"gate", "deploy", "--release", "lv-2026-11-26.1"}, now, remote, 1, "x approval.required"},
		{"gate denies json", []string{"gate", "deploy", "--release", "lv-2026-11-26.1", "-o", "json"}, now, remote, 1, `"allow": false`},
		{"gate allows", []string{"gate", "deploy", "--release", "lv-2026-11-26.1", "--evidence", filepath.Join(a, "approval.json")}, now, remote, 0, "ALLOW deploy gate"},
		{"gate junit", []string{"gate", "deploy", "--release", "lv-2026-11-26.1", "-o", "junit"}, now, remote, 0, "<testsuite"},
		{"status", []string{"status", "--release", "lv-2026-11-26.1"}, nil, remote, 0, "[x] deploy gate"},
		{"violations list", []string{"violations", "list", "--open"}, nil, auditor, 0, "violation"},
		{"violations list json", []string{"violations", "list", "-o", "json", "--release", "lv-2026-11-26.1"}, nil, auditor, 0, `"actor": "ci-bot"`},
		{"violations show unknown", []string{"violations", "show", "vio_none"}, nil, auditor, 2, ""},
	}
	for _, st := range steps {
		lc, lout, lerr := runWith(local, append(st.args, st.localOnly...)...)
		rc, rout, rerr := runWith(st.remoteEnv, st.args...)
		if lc != st.wantCode || rc != st.wantCode {
			t.Errorf("%s: exit local %d, remote %d; want %d\nlocal stderr: %s\nremote stderr: %s", st.name, lc, rc, st.wantCode, lerr, rerr)
		}
		if normalize(lout) != normalize(rout) {
			t.Errorf("%s: remote output differs from local\nlocal:\n%s\nremote:\n%s", st.name, lout, rout)
		}
		if !strings.Contains(rout, st.wantOutput) {
			t.Errorf("%s: remote output lacks %q:\n%s", st.name, st.wantOutput, rout)
		}
	}

	// A postmortem closes the open violation on either side.
	for name, env := range map[string]map[string]string{"local": local, "remote": remote} {
		list := auditor
		if name == "local" {
			list = local
		}
		_, out, _ := runWith(list, "violations", "list", "--open", "-o", "json")
		id := regexp.MustCompile(`vio_[0-9a-z]{26}`).FindString(out)
		if id == "" {
			t.Fatalf("%s: no open violation in %s", name, out)
		}
		pm := filepath.Join(t.TempDir(), "pm.json")
		writePostmortem(t, pm, id)
		code, out, errOut := runWith(env, "postmortem", "add", pm)
		if code != 0 || !strings.Contains(out, "closed "+id) {
			t.Errorf("%s postmortem add = %d %s %s", name, code, out, errOut)
		}
	}
}

func writePostmortem(t *testing.T, path, id string) {
	t.Helper()
	doc := `{"apiVersion": "shipgate.dev/v1", "kind": "Postmortem",
 "release": {"id": "lv-2026-11-26.1", "service": "localizevideos-app", "environment": "production"},
 "subject": {"repository": "localizevideos/app", "commit": "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"},
 "collectedAt": "2026-11-26T12:00:00Z", "collector": {"name": "hand", "actor": "carol"},
 "data": {"violations": ["` + id + `"], "summary": "deploy asked before approval", "author": "carol", "completedAt": "2026-11-26T12:00:00Z"}}`
	writeFile(t, path, doc)
}

// Remote mode fails closed: a bad token, a server that cannot record, a
// server that is gone, or flags that only mean something locally, all
// exit 2, never 0.
func TestRemoteModeFailsClosed(t *testing.T) {
	e := newRemoteEnv(t)
	a := filepath.Join("..", "examples", "localizevideos", "evidence", "allowed")
	remote := map[string]string{"SHIPGATE_SERVER": e.url, "SHIPGATE_TOKEN": e.tokens[auth.RolePipeline]}
	if code, out, errOut := runWith(remote, "evidence", "add", filepath.Join(a, "plan.json"), filepath.Join(a, "incidents.json"),
		filepath.Join(a, "build.json"), filepath.Join(a, "deploy-requested.json"), filepath.Join(a, "approval.json")); code != 0 {
		t.Fatalf("evidence add = %d %s %s", code, out, errOut)
	}
	gateArgs := []string{"gate", "deploy", "--release", "lv-2026-11-26.1"}
	if code, out, errOut := runWith(remote, gateArgs...); code != 0 {
		t.Fatalf("gate = %d %s %s; want allow", code, out, errOut)
	}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"wrong token", map[string]string{"SHIPGATE_SERVER": e.url, "SHIPGATE_TOKEN": "sgt_wrong"}, gateArgs, "401 unauthenticated"},
		{"no token", map[string]string{"SHIPGATE_SERVER": e.url}, gateArgs, "no token"},
		{"wrong role", map[string]string{"SHIPGATE_SERVER": e.url, "SHIPGATE_TOKEN": e.tokens[auth.RoleAuditor]}, gateArgs, "403 forbidden"},
		{"no server", map[string]string{"SHIPGATE_SERVER": "http://127.0.0.1:1", "SHIPGATE_TOKEN": "x"}, gateArgs, "connect"},
		{"--now", remote, append(gateArgs, "--now", "2026-11-26T10:05:00Z"), "the server decides at its own time"},
		{"--store", remote, append(gateArgs, "--store", "x.db"), "--store and --server"},
	}
	for _, c := range cases {
		code, out, errOut := runWith(c.env, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q (stdout %s)", c.name, code, errOut, c.want, out)
		}
	}
	// A server whose ledger cannot be written: the decision it sends back
	// denies, and the exit code is 2.
	raw, err := sql.Open("sqlite", "file:"+e.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TRIGGER full BEFORE INSERT ON entries BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runWith(remote, gateArgs...)
	if code != 2 || !strings.Contains(out, "DENY") || !strings.Contains(errOut, "503 store_unavailable") {
		t.Errorf("unwritable server: exit %d\n%s\n%s; want 2 with the denying decision printed", code, out, errOut)
	}
}
