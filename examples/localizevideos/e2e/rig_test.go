package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// Set by TestMain.
var (
	root     string // the module root
	appSrc   string // examples/localizevideos/app
	shipgate string // the binary, built once
	skipWhy  string // why every test skips, when it does
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	root = filepath.Join(wd, "..", "..", "..")
	appSrc = filepath.Join(root, "examples", "localizevideos", "app")
	for _, tool := range []string{"node", "npm", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipWhy = fmt.Sprintf("end-to-end tests need %s on PATH (apt-get install nodejs npm git): %v", tool, err)
			return m.Run()
		}
	}
	// The app's packages, pm2 included, are installed locally, once.
	if _, err := os.Stat(filepath.Join(appSrc, "node_modules", ".bin", "pm2")); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir, cmd.Stdout, cmd.Stderr = appSrc, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "npm ci in %s: %v\n", appSrc, err)
			return 2
		}
	}
	bin, err := os.MkdirTemp("", "shipgate-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(bin)
	shipgate = filepath.Join(bin, "shipgate")
	// Built as make build builds it: statically linked.
	build := exec.Command("go", "build", "-o", shipgate, ".")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "go build shipgate: %v\n", err)
		return 2
	}
	return m.Run()
}

// rig is one production host: a git checkout of the app run by its own PM2
// daemon, a ledger, and shipgate configured for them.
type rig struct {
	t      *testing.T
	work   string // short: PM2's socket paths must stay under ~108 bytes
	repo   string
	home   string // PM2_HOME
	port   int
	marker string // every pm2 call appends its argv here
	env    []string
	base   string
	first  string // the first commit, started before any release
}

const appName = "localizevideos-app"

// newRig starts the app under PM2 at its first commit. flags, when not
// empty, is written to the app's flags.json before the first start.
func newRig(t *testing.T, flags string) *rig {
	t.Helper()
	if skipWhy != "" {
		t.Skip(skipWhy)
	}
	work, err := os.MkdirTemp("/tmp", "lve-")
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, work: work, repo: filepath.Join(work, "app"), home: filepath.Join(work, "pm2"), marker: filepath.Join(work, "pm2-calls")}
	r.port = freePort(t)
	r.base = fmt.Sprintf("http://127.0.0.1:%d", r.port)
	t.Cleanup(r.stop)

	// pm2 on PATH is a wrapper that records each call, then runs the app's
	// own pm2: a denied deploy must leave no line.
	bin := filepath.Join(work, "bin")
	must(t, os.MkdirAll(bin, 0o755))
	wrapper := fmt.Sprintf("#!/bin/sh\necho \"$*\" >> %q\nexec %q \"$@\"\n", r.marker, filepath.Join(appSrc, "node_modules", ".bin", "pm2"))
	must(t, os.WriteFile(filepath.Join(bin, "pm2"), []byte(wrapper), 0o755))
	r.env = append(os.Environ(), "PM2_HOME="+r.home, "PORT="+strconv.Itoa(r.port), "SHIPGATE_ACTOR=dave",
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "SHIPGATE_STORE=", "CI=", "GITHUB_ACTIONS=", "GITLAB_CI=")

	must(t, copyApp(appSrc, r.repo))
	must(t, os.Symlink(filepath.Join(appSrc, "node_modules"), filepath.Join(r.repo, "node_modules")))
	if flags != "" {
		must(t, os.WriteFile(filepath.Join(r.repo, "flags.json"), []byte(flags), 0o644))
	}
	r.git("init", "-q", "-b", "main")
	r.git("remote", "add", "origin", "https://github.com/localizevideos/app.git")
	r.git("add", "-A")
	r.git("commit", "-q", "-m", "LocalizeVideos app")
	r.first = r.git("rev-parse", "HEAD")
	r.sh(r.repo, "npm", "run", "-s", "build")
	r.sh(r.repo, "pm2", "ping")
	r.sh(r.repo, "pm2", "start", "ecosystem.config.js")
	r.waitUp()
	must(t, os.Remove(r.marker))

	data, err := os.ReadFile(filepath.Join(root, "policies", "shipgate", "config", "data.yaml"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(work, "data.yaml"), withoutCalendar(data), 0o644))
	// A passed build keeps dist/ in work/.shipgate/artifacts (the default
	// store, beside shipgate's working directory) for rollback.
	// alice approves with a key of her own, bound to her in the config:
	// an approval counts only signed by its approver.
	priv, pub, err := ledger.GenerateKey()
	must(t, err)
	must(t, os.MkdirAll(filepath.Join(work, ".shipgate", "keys"), 0o700))
	must(t, os.WriteFile(filepath.Join(work, ".shipgate", "keys", "alice.key"), priv, 0o600))
	must(t, os.WriteFile(filepath.Join(work, ".shipgate", "keys", "alice.pub"), pub, 0o644))
	cfg := fmt.Sprintf("service: %s\nenvironment: production\nstore: %s\ndata: %s\nartifacts:\n  paths: [dist]\npeople:\n  alice: [.shipgate/keys/alice.pub]\n",
		appName, filepath.Join(work, "ledger.db"), filepath.Join(work, "data.yaml"))
	must(t, os.WriteFile(filepath.Join(work, "shipgate.yaml"), []byte(cfg), 0o644))
	checks, err := os.ReadFile(filepath.Join(appSrc, "smoke.yaml"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(work, "smoke.yaml"), bytes.Replace(checks, []byte("interval: 2s"), []byte("interval: 400ms"), 1), 0o644))
	return r
}

// withoutCalendar drops the freeze calendar (weekends, year end) from the
// default policy data, so that the tests pass on any day.
func withoutCalendar(data []byte) []byte {
	re := regexp.MustCompile(`(?m)^  calendar:\n(?:    .*\n|\s*\n)*`)
	return re.ReplaceAll(data, []byte("  calendar: []\n"))
}

// stop kills the PM2 daemon and checks that no process it ran is left.
func (r *rig) stop() {
	t := r.t
	defer os.RemoveAll(r.work)
	daemon := 0
	if b, err := os.ReadFile(filepath.Join(r.home, "pm2.pid")); err == nil {
		daemon, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if daemon <= 0 || syscall.Kill(daemon, 0) != nil {
		return // already killed (pm2 jlist or kill now would start a daemon)
	}
	pids := []int{daemon}
	if p, err := r.proc(); err == nil && p.PID > 0 {
		pids = append(pids, p.PID)
	}
	cmd := exec.Command(filepath.Join(appSrc, "node_modules", ".bin", "pm2"), "kill")
	cmd.Env = r.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("pm2 kill: %v\n%s", err, out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for syscall.Kill(pid, 0) == nil {
			if time.Now().After(deadline) {
				t.Errorf("process %d still runs after pm2 kill", pid)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func copyApp(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		switch rel {
		case "node_modules", "dist", "flags.json":
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// sh runs a command that must succeed and returns its trimmed stdout.
func (r *rig) sh(dir string, argv ...string) string {
	r.t.Helper()
	name := argv[0]
	if name == "pm2" {
		name = filepath.Join(r.work, "bin", "pm2") // the wrapper on the rig's PATH
	}
	cmd := exec.Command(name, argv[1:]...)
	cmd.Dir, cmd.Env = dir, r.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		r.t.Fatalf("%s: %v\n%s%s", strings.Join(argv, " "), err, out.String(), errb.String())
	}
	return strings.TrimSpace(out.String())
}

func (r *rig) git(args ...string) string {
	r.t.Helper()
	return r.sh(r.repo, append([]string{"git", "-c", "user.name=LocalizeVideos Dev", "-c", "user.email=dev@localizevideos.com"}, args...)...)
}

// commit applies edit (old -> new in file) and commits it.
func (r *rig) commit(file, old, new, msg string) string {
	r.t.Helper()
	p := filepath.Join(r.repo, file)
	b, err := os.ReadFile(p)
	must(r.t, err)
	if !bytes.Contains(b, []byte(old)) {
		r.t.Fatalf("%s does not contain %q", file, old)
	}
	must(r.t, os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644))
	r.git("commit", "-q", "-am", msg)
	return r.git("rev-parse", "HEAD")
}

// result is one shipgate run.
type result struct {
	code           int
	stdout, stderr string
}

func (res result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
}

// sg runs shipgate from the scratch directory with its config.
func (r *rig) sg(args ...string) result {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, shipgate, append([]string{"--config", filepath.Join(r.work, "shipgate.yaml")}, args...)...)
	cmd.Dir, cmd.Env = r.work, r.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		r.t.Fatalf("shipgate %v: %v", args, err)
	}
	return res
}

// want runs shipgate and requires the exit code.
func (r *rig) want(code int, args ...string) result {
	r.t.Helper()
	res := r.sg(args...)
	if res.code != code {
		r.t.Fatalf("shipgate %s: %s; want exit %d", strings.Join(args, " "), res, code)
	}
	return res
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// evidence records a hand-written document.
func (r *rig) evidence(kind, rel, commit, actor string, data any) {
	r.t.Helper()
	r.want(0, "evidence", "add", r.document(kind, rel, commit, actor, data))
}

// document writes a hand-written document to a file of its own.
func (r *rig) document(kind, rel, commit, actor string, data any) string {
	r.t.Helper()
	doc := map[string]any{
		"apiVersion":  "shipgate.dev/v1",
		"kind":        kind,
		"release":     map[string]string{"id": rel, "service": appName, "environment": "production"},
		"subject":     map[string]string{"repository": "localizevideos/app", "commit": commit},
		"collectedAt": stamp(time.Now()),
		"collector":   map[string]string{"name": "manual", "actor": actor},
		"data":        data,
	}
	b, err := json.Marshal(doc)
	must(r.t, err)
	f, err := os.CreateTemp(r.work, kind+"-*.json")
	must(r.t, err)
	_, err = f.Write(b)
	must(r.t, err)
	must(r.t, f.Close())
	return f.Name()
}

func (r *rig) plan(rel, commit, previous string) {
	now := time.Now()
	r.evidence("Plan", rel, commit, "dave", map[string]any{
		"changeTicket": "CHG-" + rel,
		"window":       map[string]string{"start": stamp(now.Add(-time.Hour)), "end": stamp(now.Add(2 * time.Hour))},
		"documentation": map[string]any{
			"runbook":      map[string]string{"url": "https://wiki.localizevideos.com/runbooks/app-release", "reviewer": "carol", "reviewedAt": stamp(now.Add(-48 * time.Hour))},
			"releaseNotes": map[string]string{"url": "https://github.com/localizevideos/app/releases/tag/" + rel},
		},
		"rollbackPlan": map[string]any{"previousCommit": previous, "command": []string{"shipgate", "rollback", "--release", rel}},
		"errorBudget":  map[string]any{"remaining": 0.62, "slo": "99.5% successful requests over 28 days", "measuredAt": stamp(now)},
		"ci":           map[string]string{"status": "passed", "provider": "generic"},
		"changeSize":   map[string]int{"filesChanged": 1, "linesAdded": 2, "linesDeleted": 1},
	})
}

func (r *rig) incidents(rel, commit string, incidents ...map[string]string) {
	list := []map[string]string{}
	list = append(list, incidents...)
	r.evidence("IncidentStatus", rel, commit, "shipgate", map[string]any{"source": "https://status.localizevideos.com/api/incidents", "incidents": list})
}

// approve records alice's approval, signed with her key.
func (r *rig) approve(rel, commit string) {
	r.t.Helper()
	doc := r.document("Approval", rel, commit, "alice", map[string]string{"approver": "alice", "decision": "approved", "gate": "deploy", "approvedAt": stamp(time.Now())})
	env := r.want(0, "evidence", "sign", doc, "--signing-key", filepath.Join(r.work, ".shipgate", "keys", "alice.key"))
	must(r.t, os.WriteFile(doc, []byte(env.stdout), 0o644))
	r.want(0, "evidence", "add", doc)
}

// prepare records a release's plan, incident status and build, and its
// approval when approved.
func (r *rig) prepare(rel, commit, previous string, approved bool) {
	r.t.Helper()
	r.plan(rel, commit, previous)
	r.incidents(rel, commit)
	r.want(0, "run", "build", "--release", rel, "--dir", r.repo, "--", "npm", "run", "build")
	if approved {
		r.approve(rel, commit)
	}
}

var approvedDeploy = []string{"--", "pm2", "restart", appName, "--update-env"}

func (r *rig) deploy(code int, rel string, command ...string) result {
	r.t.Helper()
	if command == nil {
		command = approvedDeploy
	} else {
		command = append([]string{"--"}, command...)
	}
	return r.want(code, append([]string{"run", "deploy", "--release", rel, "--dir", r.repo}, command...)...)
}

// verify runs shipgate verify at once, as a pipeline does right after the
// deploy: the smoke checks' ready section waits for the app to listen.
func (r *rig) verify(code int, rel string, extra ...string) result {
	r.t.Helper()
	return r.want(code, append([]string{"verify", "--release", rel, "--checks", filepath.Join(r.work, "smoke.yaml"),
		"--base", r.base, "--var", "password=smoke-password", "--dir", r.repo}, extra...)...)
}

// release takes a commit through the whole allowed flow.
func (r *rig) release(rel, commit, previous string) {
	r.t.Helper()
	r.prepare(rel, commit, previous, true)
	r.deploy(0, rel)
	r.verify(0, rel)
}

// pm2Calls returns the pm2 calls since the rig started.
func (r *rig) pm2Calls() []string {
	b, err := os.ReadFile(r.marker)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	must(r.t, err)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

type proc struct {
	PID      int
	Restarts int
	Uptime   int64
	Status   string
}

func (r *rig) proc() (proc, error) {
	cmd := exec.Command(filepath.Join(appSrc, "node_modules", ".bin", "pm2"), "jlist")
	cmd.Env = r.env
	out, err := cmd.Output()
	if err != nil {
		return proc{}, err
	}
	i := bytes.Index(out, []byte("[{"))
	if i < 0 {
		return proc{}, fmt.Errorf("pm2 jlist: no app: %s", out)
	}
	var list []struct {
		Name  string `json:"name"`
		PID   int    `json:"pid"`
		PMEnv struct {
			Status      string `json:"status"`
			RestartTime int    `json:"restart_time"`
			PMUptime    int64  `json:"pm_uptime"`
		} `json:"pm2_env"`
	}
	if err := json.Unmarshal(out[i:], &list); err != nil {
		return proc{}, err
	}
	for _, p := range list {
		if p.Name == appName {
			return proc{PID: p.PID, Restarts: p.PMEnv.RestartTime, Uptime: p.PMEnv.PMUptime, Status: p.PMEnv.Status}, nil
		}
	}
	return proc{}, fmt.Errorf("pm2 runs no %s", appName)
}

// waitUp waits until the app answers: pm2 restart returns once the
// process is forked, before it listens.
func (r *rig) waitUp() {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(r.base + "/api/version")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("the app does not answer on %s: %v", r.base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// running returns the commit the app says it was built from.
func (r *rig) running() string {
	r.t.Helper()
	r.waitUp()
	resp, err := http.Get(r.base + "/api/version")
	must(r.t, err)
	defer resp.Body.Close()
	var v struct{ Commit string }
	must(r.t, json.NewDecoder(resp.Body).Decode(&v))
	return v.Commit
}

// version returns what the app says about its build (commit, builtAt):
// two builds of one commit differ in builtAt.
func (r *rig) version() map[string]any {
	r.t.Helper()
	r.waitUp()
	resp, err := http.Get(r.base + "/api/version")
	must(r.t, err)
	defer resp.Body.Close()
	var v map[string]any
	must(r.t, json.NewDecoder(resp.Body).Decode(&v))
	return v
}

// ledger opens the ledger read-only.
func (r *rig) ledger() *sqlite.DB {
	r.t.Helper()
	db, err := sqlite.OpenReadOnly(context.Background(), filepath.Join(r.work, "ledger.db"))
	must(r.t, err)
	r.t.Cleanup(func() { db.Close() })
	return db
}

// decisions lists gate:allow/deny of a release, in order.
func (r *rig) decisions(rel string) []string {
	r.t.Helper()
	ds, err := r.ledger().Decisions(context.Background(), rel)
	must(r.t, err)
	var out []string
	for _, d := range ds {
		v := "deny"
		if d.Allow {
			v = "allow"
		}
		out = append(out, d.Gate+":"+v)
	}
	return out
}

// docs returns the data of a release's evidence of one kind, in order.
func (r *rig) docs(rel, kind string) []map[string]any {
	r.t.Helper()
	evs, err := r.ledger().Evidence(context.Background(), rel)
	must(r.t, err)
	var out []map[string]any
	for _, e := range evs {
		if e.Kind != kind {
			continue
		}
		var doc struct{ Data map[string]any }
		must(r.t, json.Unmarshal(e.Body, &doc))
		out = append(out, doc.Data)
	}
	return out
}

func (r *rig) violations(rel string) []store.Violation {
	r.t.Helper()
	vs, err := r.ledger().Violations(context.Background(), store.Filter{ReleaseID: rel})
	must(r.t, err)
	return vs
}
