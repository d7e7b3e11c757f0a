package cmd_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/cmd"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policyset"
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
	// keys is the EXAMPLE keys' directory the example evidence is signed
	// with (--trusted-key); data the server's data overlay, the example's
	// with the server's key (--data +data gives a local run the same
	// policy set).
	keys, data string
}

// exampleKeys is the directory of the EXAMPLE keys.
var exampleKeys = filepath.Join("..", "examples", "localizevideos", "keys")

// serverSigner is the key the test servers sign what they record with.
func serverSigner() *evidence.Signer {
	return evidence.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize)))
}

// approve records alice's approval of the example release on the server,
// with her approver token: the way an approval reaches a server.
func (e *remoteEnv) approve(t *testing.T) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.url+"/v1/releases/lv-2026-11-26.1/approvals", strings.NewReader(`{"note": "CHG-1042 reviewed"}`))
	req.Header.Set("Authorization", "Bearer "+e.tokens[auth.RoleApprover])
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

func newRemoteEnv(t *testing.T) *remoteEnv {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "server.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The example data overlay, and the server's key: one policy set for
	// the server and for local runs.
	serverID, _ := serverSigner().KeyID()
	over := keys.Overlay()
	over["signing"].(map[string]any)["servers"] = map[string]any{serverID: "test server"}
	overlay, err := json.Marshal(over)
	if err != nil {
		t.Fatal(err)
	}
	dataPath := filepath.Join(t.TempDir(), "data.json")
	writeFile(t, dataPath, string(overlay))
	raw, err := fs.ReadFile(policies.FS, "shipgate/config/data.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base, err := policyset.ReadData("data.yaml", raw)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Load(ctx, engine.Options{Policies: policies.FS, Data: policyset.MergeData(base, over)})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)
	srv, err := server.New(server.Config{Store: db, Engine: eng, Validator: evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring()),
		Signer: serverSigner(), Clock: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &remoteEnv{url: hs.URL, path: path, tokens: map[string]string{}, keys: exampleKeys, data: dataPath}
	for _, role := range []string{auth.RolePipeline, auth.RoleAuditor} {
		secret, _, err := auth.New(db).Create(ctx, "ci-bot", role, "test")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[role] = secret
	}
	secret, _, err := auth.New(db).Create(ctx, "alice", auth.RoleApprover, "test")
	if err != nil {
		t.Fatal(err)
	}
	e.tokens[auth.RoleApprover] = secret
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

// approvalRef is an Approval the junit output names: alice's own signed
// one in a local run, the one the server recorded from her token remotely.
var approvalRef = regexp.MustCompile(`(?m)^.*<property name="evidence" value="Approval .*\n`)

// policyRef is the policy revision: a server's names its own signing key
// (signing.servers), which a local run's does not.
var policyRef = regexp.MustCompile(`(policy sha256:|"revision": "sha256:|policy\.revision" value="sha256:)[0-9a-f]+`)

func normalize(s string) string {
	s = approvalRef.ReplaceAllString(s, "")
	s = policyRef.ReplaceAllString(s, "${1}REVISION")
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

	tk := []string{"--trusted-key", e.keys}
	localGate := append(slices.Clone(now), "--trusted-key", e.keys, "--data", "+"+e.data)
	steps := []struct {
		name         string
		args         []string
		localOnly    []string // flags the local run needs (the server has its own clock and policies)
		remoteEnv    map[string]string
		remoteBefore func() // what happens on the server only (an approver approves there)
		wantCode     int
		wantOutput   string // in stdout
	}{
		{"evidence add", append([]string{"evidence", "add", filepath.Join(a, "plan.json"), filepath.Join(a, "incidents.json"), filepath.Join(a, "build.json")}, tk...), nil, remote, nil, 0, "recorded as entry 3"},
		{"evidence add json", append([]string{"evidence", "add", "-o", "json", filepath.Join(a, "plan.json"), filepath.Join(a, "deploy-requested.json")}, tk...), nil, remote, nil, 0, `"new": false`},
		{"gate denies", []string{"gate", "deploy", "--release", "lv-2026-11-26.1"}, localGate, remote, nil, 1, "x approval.required"},
		{"gate denies json", []string{"gate", "deploy", "--release", "lv-2026-11-26.1", "-o", "json"}, localGate, remote, nil, 1, `"allow": false`},
		// alice approves: locally with her signed approval, on the server
		// with her approver token (a pipeline cannot send one: 403).
		{"gate allows", []string{"gate", "deploy", "--release", "lv-2026-11-26.1"}, append(slices.Clone(localGate), "--evidence", filepath.Join(a, "approval.json")), remote, func() { e.approve(t) }, 0, "ALLOW deploy gate"},
		{"gate junit", []string{"gate", "deploy", "--release", "lv-2026-11-26.1", "-o", "junit"}, localGate, remote, nil, 0, "<testsuite"},
		{"status", append([]string{"status", "--release", "lv-2026-11-26.1"}, tk...), nil, remote, nil, 0, "[x] deploy gate"},
		{"violations list", []string{"violations", "list", "--open"}, nil, auditor, nil, 0, "violation"},
		{"violations list json", []string{"violations", "list", "-o", "json", "--release", "lv-2026-11-26.1"}, nil, auditor, nil, 0, `"actor": "ci-bot"`},
		{"violations show unknown", []string{"violations", "show", "vio_none"}, nil, auditor, nil, 2, ""},
	}
	for _, st := range steps {
		lc, lout, lerr := runWith(local, append(st.args, st.localOnly...)...)
		if st.remoteBefore != nil {
			st.remoteBefore()
		}
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
	if code, out, errOut := runWith(remote, "evidence", "add", "--trusted-key", e.keys, filepath.Join(a, "plan.json"), filepath.Join(a, "incidents.json"),
		filepath.Join(a, "build.json"), filepath.Join(a, "deploy-requested.json")); code != 0 {
		t.Fatalf("evidence add = %d %s %s", code, out, errOut)
	}
	// A pipeline cannot send alice's approval, even signed by her: 403,
	// exit 2. alice approves with her own token.
	if code, out, errOut := runWith(remote, "evidence", "add", "--trusted-key", e.keys, filepath.Join(a, "approval.json")); code != 2 || !strings.Contains(errOut, "403 forbidden") {
		t.Fatalf("evidence add approval.json = %d %s %s; want 2, 403", code, out, errOut)
	}
	e.approve(t)
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
