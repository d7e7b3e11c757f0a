package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	// A commit that makes /api/me answer with another user.
	sessionOld = "if (!flags.enabled('new-session-store')) return session.email;"
	sessionNew = "if (flags.enabled('legacy-session-store')) return session.email;"
	// A commit that breaks logout: it answers 200, but the session and its
	// cookie outlive it.
	logoutOld = "if (s) sessions.delete(s.id);\n      return send(res, 200, { ok: true }, {\n        'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`,\n      });"
	logoutNew = "return send(res, 200, { ok: true }); // sessions now expire on their own"
	// A commit that makes logout clear the cookie only: the session it
	// answers 200 for stays valid on the server.
	endSession      = "if (s) sessions.delete(s.id);"
	clearCookieOnly = "if (s) { /* sessions now expire on their own: only the cookie goes */ }"
)

// The allowed release: planned, built, approved, deployed with the approved
// command, verified; every step recorded.
func TestHappyPath(t *testing.T) {
	t.Parallel()
	r := newRig(t, "")
	c1 := r.commit("public/index.html", "Videos in every language.", "Your videos, in every language.", "Home: new tagline")
	before, err := r.proc()
	must(t, err)
	r.release("lv-e2e.1", c1, r.first)

	if got := r.running(); got != c1 {
		t.Errorf("the app runs %s; want the released %s", got, c1)
	}
	after, err := r.proc()
	must(t, err)
	if after.Restarts != before.Restarts+1 || after.PID == before.PID || after.Status != "online" {
		t.Errorf("pm2 before %+v, after %+v: want one restart to a new, online process", before, after)
	}
	if diff := cmp.Diff([]string{"restart localizevideos-app --update-env"}, r.pm2Calls()); diff != "" {
		t.Errorf("pm2 calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"deploy:allow", "verify:allow"}, r.decisions("lv-e2e.1")); diff != "" {
		t.Errorf("decisions (-want +got):\n%s", diff)
	}
	deploys := r.docs("lv-e2e.1", "Deploy")
	if len(deploys) != 2 || deploys[0]["status"] != "requested" || deploys[1]["status"] != "succeeded" {
		t.Errorf("Deploy evidence = %v; want requested then succeeded", deploys)
	}
	if src := deploys[1]["source"].(map[string]any); src["clean"] != true || src["onMain"] != true || src["branch"] != "main" {
		t.Errorf("Deploy source = %v; want a clean main checkout", src)
	}
	builds := r.docs("lv-e2e.1", "Build")
	if len(builds) != 1 || builds[0]["status"] != "passed" {
		t.Fatalf("Build evidence = %v; want one passed", builds)
	}
	if src, _ := builds[0]["source"].(map[string]any); src["clean"] != true {
		t.Errorf("Build source = %v; want a clean checkout", src)
	}
	// What was deployed is what was built: the same tree digest of dist/.
	built, _ := builds[0]["artifact"].(map[string]any)
	for _, d := range deploys {
		found, _ := d["artifact"].(map[string]any)
		if tree, _ := built["tree"].(string); !strings.HasPrefix(tree, "sha256:") || found["tree"] != tree {
			t.Errorf("Deploy %s artifact %v; want the Build's tree %v", d["status"], found, built["tree"])
		}
	}
	ver := r.docs("lv-e2e.1", "Verification")
	if len(ver) != 1 {
		t.Fatalf("Verification evidence = %v; want one", ver)
	}
	var checks []string
	for _, c := range ver[0]["checks"].([]any) {
		m := c.(map[string]any)
		checks = append(checks, m["name"].(string)+":"+m["status"].(string))
	}
	if diff := cmp.Diff([]string{"home:passed", "login:passed", "api-me:passed", "logout:passed", "error-spike:passed"}, checks); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	if vs := r.violations("lv-e2e.1"); len(vs) != 0 {
		t.Errorf("violations = %v; want none", vs)
	}
	r.want(0, "audit", "verify")
}

// Each forbidden deploy is denied before pm2 is called, recorded, and
// opens a violation.
func TestForbiddenDeploys(t *testing.T) {
	t.Parallel()
	r := newRig(t, "")
	c1 := r.commit("public/index.html", "Videos in every language.", "Your videos, in every language.", "Home: new tagline")
	pm2Before, err := r.proc()
	must(t, err)
	sev1 := map[string]string{"id": "INC-77", "severity": "SEV-1", "status": "open", "title": "Checkout errors"}

	tests := []struct {
		name    string
		release string
		setup   func(rel string)
		command []string
		rule    string
	}{
		{"wrong command", "lv-wrong.1", func(rel string) { r.prepare(rel, c1, r.first, true) },
			[]string{"pm2", "reload", appName}, "deploy.approved-command"},
		{"during SEV-1", "lv-sev1.1", func(rel string) {
			r.prepare(rel, c1, r.first, true)
			r.incidents(rel, c1, sev1)
		}, nil, "forbidden.deploy-during-incident"},
		{"unapproved", "lv-unapproved.1", func(rel string) { r.prepare(rel, c1, r.first, false) }, nil, "approval.required"},
		{"dirty tree", "lv-dirty.1", func(rel string) {
			r.prepare(rel, c1, r.first, true)
			must(t, os.WriteFile(filepath.Join(r.repo, "server.js"), append(readFile(t, filepath.Join(r.repo, "server.js")), "\n// hot fix\n"...), 0o644))
			t.Cleanup(func() { r.git("checkout", "-q", "--", "server.js") })
		}, nil, "forbidden.hot-patch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup(tt.release)
			res := r.deploy(1, tt.release, tt.command...)
			if !strings.Contains(res.stdout, tt.rule) {
				t.Errorf("the denial does not name %s:\n%s", tt.rule, res)
			}
			if !strings.Contains(res.stderr, "was not run") {
				t.Errorf("stderr does not say the command was not run:\n%s", res.stderr)
			}
			if calls := r.pm2Calls(); len(calls) != 0 {
				t.Errorf("pm2 was called: %q", calls)
			}
			if diff := cmp.Diff([]string{"deploy:deny"}, r.decisions(tt.release)); diff != "" {
				t.Errorf("decisions (-want +got):\n%s", diff)
			}
			vs := r.violations(tt.release)
			if len(vs) != 1 || vs[0].Status != "open" || !slices.Contains(vs[0].Rules, tt.rule) {
				t.Errorf("violations = %+v; want one open with %s", vs, tt.rule)
			}
			for _, d := range r.docs(tt.release, "Deploy") {
				if d["status"] != "requested" {
					t.Errorf("a Deploy outcome was recorded for a denied deploy: %v", d)
				}
			}
		})
	}
	pm2After, err := r.proc()
	must(t, err)
	if pm2After.PID != pm2Before.PID || pm2After.Restarts != pm2Before.Restarts {
		t.Errorf("the app restarted: before %+v, after %+v", pm2Before, pm2After)
	}
}

func readFile(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	must(t, err)
	return b
}

// The smoke checks catch /api/me answering the wrong user and a logout
// that keeps the session; rollback goes back to the last verified commit,
// measured, by hand and with verify --rollback-on-fail.
func TestVerifyAndRollback(t *testing.T) {
	t.Parallel()
	r := newRig(t, "")
	c1 := r.commit("public/index.html", "Videos in every language.", "Your videos, in every language.", "Home: new tagline")
	r.release("lv-rb.1", c1, r.first)
	verified := r.version()
	builds := r.docs("lv-rb.1", "Build")
	art, _ := builds[0]["artifact"].(map[string]any)
	digest, _ := art["digest"].(string)
	if !strings.HasPrefix(digest, "sha256:") || fmt.Sprint(art["paths"]) != "[dist]" {
		t.Fatalf("Build of lv-rb.1 records artifact %v; want dist/ with its digest", art)
	}
	if _, err := os.Stat(filepath.Join(r.work, ".shipgate", "artifacts", strings.TrimPrefix(digest, "sha256:")+".tar.gz")); err != nil {
		t.Errorf("the artifact of lv-rb.1 is not in the store: %v", err)
	}

	// Release 2 answers /api/me with the wrong user.
	c2 := r.commit("server.js", sessionOld, sessionNew, "Sessions: the new session store by default")
	r.prepare("lv-rb.2", c2, c1, true)
	deployStart := time.Now()
	r.deploy(0, "lv-rb.2")
	deployWall := time.Since(deployStart)
	res := r.verify(1, "lv-rb.2")
	if !strings.Contains(res.stderr, "check api-me failed") || !strings.Contains(res.stderr, "alice@localizevideos.com") {
		t.Errorf("verify does not report the wrong user:\n%s", res)
	}
	if !strings.Contains(res.stderr, "rollback required") {
		t.Errorf("verify does not ask for a rollback:\n%s", res.stderr)
	}
	rollbackStart := time.Now()
	res = r.want(0, "rollback", "--release", "lv-rb.2", "--dir", r.repo)
	rollbackWall := time.Since(rollbackStart)
	if !strings.Contains(res.stderr, "back to release lv-rb.1") || !strings.Contains(res.stderr, "restoring its verified build output dist from "+digest) {
		t.Errorf("rollback does not name its target and artifact:\n%s", res)
	}
	if got := r.git("rev-parse", "HEAD"); got != c1 {
		t.Errorf("after rollback the checkout is at %s; want %s", got, c1)
	}
	// The very build that was verified, not a rebuild of its commit.
	if got := r.version(); !cmp.Equal(got, verified) {
		t.Errorf("after rollback the app runs the build %v; want the verified build %v", got, verified)
	}
	rbs := r.docs("lv-rb.2", "Rollback")
	if len(rbs) != 1 {
		t.Fatalf("Rollback evidence = %v; want one", rbs)
	}
	rb := rbs[0]
	if rb["status"] != "succeeded" || rb["strategy"] != "fast" || rb["toCommit"] != c1 || rb["fromCommit"] != c2 || rb["toRelease"] != "lv-rb.1" {
		t.Errorf("Rollback = %v", rb)
	}
	var steps []string
	var sum float64
	for _, s := range rb["steps"].([]any) {
		m := s.(map[string]any)
		steps = append(steps, fmt.Sprintf("%s:%v", m["name"], m["exitCode"]))
		sum += m["durationSeconds"].(float64)
		if m["name"] == "restore" {
			if tail := fmt.Sprint(m["output"].(map[string]any)["tail"]); !strings.Contains(tail, digest) {
				t.Errorf("the restore step does not name the artifact %s: %s", digest, tail)
			}
		}
	}
	// No build step: the verified artifact was restored.
	if diff := cmp.Diff([]string{"checkout:0", "restore:0", "restart:0"}, steps); diff != "" {
		t.Errorf("rollback steps (-want +got):\n%s", diff)
	}
	// Each duration is rounded to the millisecond: the steps' sum may pass
	// the total by half a millisecond per step.
	total := rb["durationSeconds"].(float64)
	if total <= 0 || total < sum-0.0005*float64(len(steps)) {
		t.Errorf("rollback took %vs for steps of %vs in all: not measured", total, sum)
	}
	deploy := r.docs("lv-rb.2", "Deploy")
	deployed := deploy[len(deploy)-1]["durationSeconds"].(float64)
	built := r.docs("lv-rb.2", "Build")[0]["durationSeconds"].(float64)
	t.Logf("measured: deploy (pm2 restart) %.3fs, its build %.3fs, shipgate run deploy %.3fs wall; rollback (checkout, restore, restart) %.3fs (steps %.3fs), shipgate rollback %.3fs wall",
		deployed, built, deployWall.Seconds(), total, sum, rollbackWall.Seconds())
	// The release it undoes took a build and a deploy; the rollback takes
	// neither a build nor more than a restart's worth beyond the deploy.
	if total >= built+deployed {
		t.Errorf("rollback took %.3fs, not less than the build and deploy it undoes (%.3fs + %.3fs)", total, built, deployed)
	}

	// Release 3 breaks logout; verify rolls back by itself, to lv-rb.1
	// again: lv-rb.2 never passed verify. This time the stored artifact of
	// lv-rb.1 has been changed: the rollback must not restore it, and
	// rebuilds instead.
	r.git("checkout", "-q", "main")
	r.git("revert", "--no-edit", c2)
	c3 := r.commit("server.js", logoutOld, logoutNew, "Sessions: expire on their own")
	r.prepare("lv-rb.3", c3, c1, true)
	r.deploy(0, "lv-rb.3")
	stored := filepath.Join(r.work, ".shipgate", "artifacts", strings.TrimPrefix(digest, "sha256:")+".tar.gz")
	b := readFile(t, stored)
	b[len(b)/2] ^= 0xff
	must(t, os.WriteFile(stored, b, 0o644))
	res = r.verify(1, "lv-rb.3", "--rollback-on-fail")
	if !strings.Contains(res.stderr, "check logout failed") {
		t.Errorf("verify does not catch the broken logout:\n%s", res)
	}
	if !strings.Contains(res.stderr, "rollback fast succeeded") {
		t.Errorf("verify --rollback-on-fail did not roll back:\n%s", res)
	}
	if got := r.running(); got != c1 {
		t.Errorf("after the automatic rollback the app runs %s; want %s", got, c1)
	}
	if got := r.version(); cmp.Equal(got, verified) {
		t.Errorf("after the rollback with a changed artifact the app runs the stored build %v; want a rebuild", got)
	}
	rbs = r.docs("lv-rb.3", "Rollback")
	if len(rbs) != 1 || rbs[0]["trigger"] != "verify-failed" || rbs[0]["toCommit"] != c1 {
		t.Fatalf("Rollback of lv-rb.3 = %v; want one, triggered by the failed verify, to %s", rbs, c1)
	}
	steps = nil
	var restoreTail string
	for _, s := range rbs[0]["steps"].([]any) {
		m := s.(map[string]any)
		steps = append(steps, fmt.Sprintf("%s:%v", m["name"], m["exitCode"]))
		if m["name"] == "restore" {
			restoreTail = fmt.Sprint(m["output"].(map[string]any)["tail"])
		}
	}
	if diff := cmp.Diff([]string{"checkout:0", "restore:1", "build:0", "restart:0"}, steps); diff != "" {
		t.Errorf("rollback steps with a changed artifact (-want +got):\n%s", diff)
	}
	if !strings.Contains(restoreTail, "digest mismatch") || !strings.Contains(restoreTail, "falling back to the build") {
		t.Errorf("the restore step does not say why it rebuilt: %s", restoreTail)
	}
	if reason, _ := rbs[0]["reason"].(string); !strings.Contains(reason, "rebuilt: the artifact "+digest+" could not be restored") {
		t.Errorf("Rollback reason = %q; want the rebuild named", reason)
	}
	deploy = r.docs("lv-rb.3", "Deploy")
	t.Logf("measured: deploy (pm2 restart) %.3fs; rollback with a rebuild (checkout, restore refused, build, restart) %.3fs",
		deploy[len(deploy)-1]["durationSeconds"], rbs[0]["durationSeconds"])
	st := r.want(0, "status", "--release", "lv-rb.3")
	if !strings.Contains(st.stdout, "rollback fast succeeded (verify-failed) to lv-rb.1 @ "+c1[:12]) ||
		!strings.Contains(st.stdout, "checkout, restore (exit 1), build, restart") {
		t.Errorf("status does not list the rollback:\n%s", st.stdout)
	}
	if diff := cmp.Diff([]string{"deploy:allow", "verify:deny"}, r.decisions("lv-rb.3")); diff != "" {
		t.Errorf("decisions (-want +got):\n%s", diff)
	}
}

// A rollback with nowhere to go is recorded as failed and exits 1.
func TestRollbackWithoutTarget(t *testing.T) {
	t.Parallel()
	r := newRig(t, "")
	c1 := r.commit("server.js", sessionOld, sessionNew, "Sessions: the new session store by default")
	r.prepare("lv-first.1", c1, r.first, true)
	r.deploy(0, "lv-first.1")
	r.verify(1, "lv-first.1")
	res := r.want(1, "rollback", "--release", "lv-first.1", "--dir", r.repo)
	if !strings.Contains(res.stderr, "no earlier release passed verify") {
		t.Errorf("rollback does not say why it failed:\n%s", res)
	}
	rbs := r.docs("lv-first.1", "Rollback")
	if len(rbs) != 1 || rbs[0]["status"] != "failed" {
		t.Fatalf("Rollback = %v; want one, failed", rbs)
	}
	if got := r.git("rev-parse", "HEAD"); got != c1 {
		t.Errorf("a failed rollback moved the checkout to %s", got)
	}
}

// The emergency rollback turns the flag off and restarts.
func TestEmergencyRollback(t *testing.T) {
	t.Parallel()
	r := newRig(t, `{"new-session-store": true, "inject-errors": {"enabled": false, "rate": 0.5}}`)
	c1 := r.commit("public/index.html", "Videos in every language.", "Your videos, in every language.", "Home: new tagline")
	r.prepare("lv-flag.1", c1, r.first, true)
	r.deploy(0, "lv-flag.1")
	r.verify(1, "lv-flag.1")
	// Rollback is never gated: an open SEV-1 does not stop it.
	r.incidents("lv-flag.1", c1, map[string]string{"id": "INC-78", "severity": "SEV-1", "status": "open", "title": "Wrong user on /api/me"})
	before, err := r.proc()
	must(t, err)
	r.want(0, "rollback", "--release", "lv-flag.1", "--dir", r.repo, "--emergency", "--flag", "new-session-store")
	var flags map[string]any
	must(t, json.Unmarshal(readFile(t, filepath.Join(r.repo, "flags.json")), &flags))
	if flags["new-session-store"] != false {
		t.Errorf("flags.json after the rollback = %v; want new-session-store false", flags)
	}
	after, err := r.proc()
	must(t, err)
	if after.Restarts != before.Restarts+1 {
		t.Errorf("pm2 restarts %d -> %d; want one restart", before.Restarts, after.Restarts)
	}
	rbs := r.docs("lv-flag.1", "Rollback")
	if len(rbs) != 1 || rbs[0]["strategy"] != "emergency" || rbs[0]["flag"] != "new-session-store" || rbs[0]["status"] != "succeeded" {
		t.Errorf("Rollback = %v", rbs)
	}
	// The app, restarted without the flag, passes verify again.
	r.verify(0, "lv-flag.1")

	// An unknown flag is a failed rollback, recorded.
	res := r.want(1, "rollback", "--release", "lv-flag.1", "--dir", r.repo, "--emergency", "--flag", "no-such-flag")
	if !strings.Contains(res.stderr, `no flag "no-such-flag"`) {
		t.Errorf("rollback does not name the missing flag:\n%s", res)
	}
	if rbs := r.docs("lv-flag.1", "Rollback"); len(rbs) != 2 || rbs[1]["status"] != "failed" {
		t.Errorf("Rollback evidence = %v; want a second one, failed", rbs)
	}
}

// reconcile finds a hand-edited file and a hand restart, records them as
// violations, and never calls an unreachable pm2 clean.
func TestReconcile(t *testing.T) {
	t.Parallel()
	r := newRig(t, "")
	c1 := r.commit("public/index.html", "Videos in every language.", "Your videos, in every language.", "Home: new tagline")
	r.release("lv-rec.1", c1, r.first)
	deployed := time.Now()
	reconcile := []string{"reconcile", "pm2", "--app", appName}

	res := r.want(0, reconcile...)
	if !strings.Contains(res.stdout, "clean") || !strings.Contains(res.stdout, "started during the Deploy of release lv-rec.1") {
		t.Errorf("reconcile after the deploy:\n%s", res)
	}

	p := filepath.Join(r.repo, "server.js")
	must(t, os.WriteFile(p, append(readFile(t, p), "\n// hot fix\n"...), 0o644))
	res = r.want(1, reconcile...)
	if !strings.Contains(res.stdout, "forbidden.hot-patch") {
		t.Errorf("reconcile misses the edited file:\n%s", res)
	}
	r.git("checkout", "-q", "--", "server.js")

	// dist/ edited in place: git ignores it, reconcile does not.
	page := filepath.Join(r.repo, "dist", "index.html")
	orig := readFile(t, page)
	must(t, os.WriteFile(page, append(append([]byte(nil), orig...), "<!-- hot fix -->\n"...), 0o644))
	res = r.want(1, reconcile...)
	if !strings.Contains(res.stdout, "forbidden.hot-patch: the build output dist") || !strings.Contains(res.stdout, "changed after the deploy") {
		t.Errorf("reconcile misses the edited dist/index.html:\n%s", res)
	}
	must(t, os.WriteFile(page, orig, 0o644))

	// A restart by hand, past the deploy's tolerance window (2s), as a
	// later one would be: within it, the start is the deploy's.
	if wait := 2500*time.Millisecond - time.Since(deployed); wait > 0 {
		time.Sleep(wait)
	}
	r.sh(r.repo, "pm2", "restart", appName)
	res = r.want(1, reconcile...)
	if !strings.Contains(res.stdout, "forbidden.direct-push") || !strings.Contains(res.stdout, "no allowed deploy or rollback") {
		t.Errorf("reconcile misses the hand restart:\n%s", res)
	}

	var rules []string
	for _, v := range r.violations("lv-rec.1") {
		if v.Gate == "reconcile" && v.Status == "open" {
			rules = append(rules, v.Rules...)
		}
	}
	if diff := cmp.Diff([]string{"forbidden.hot-patch", "forbidden.hot-patch", "forbidden.direct-push"}, rules); diff != "" {
		t.Errorf("open reconcile violations (-want +got):\n%s", diff)
	}
	res = r.want(0, "violations", "list", "--open", "-o", "json")
	if !strings.Contains(res.stdout, "forbidden.hot-patch") || !strings.Contains(res.stdout, "forbidden.direct-push") {
		t.Errorf("violations list does not show the reconcile findings:\n%s", res.stdout)
	}
	// The recorded observation keeps allow-listed fields only.
	ds, err := r.ledger().Decisions(t.Context(), "lv-rec.1")
	must(t, err)
	for _, d := range ds {
		if strings.Contains(string(d.Body), "PM2_HOME") || strings.Contains(string(d.Body), "SHIPGATE_ACTOR") {
			t.Errorf("decision %s keeps pm2's environment: %s", d.ID, d.Body)
		}
	}
	r.want(0, "audit", "verify")

	// pm2 gone: an error, never clean.
	app, err := r.proc()
	must(t, err)
	r.sh(r.repo, "pm2", "kill")
	for i := 0; syscall.Kill(app.PID, 0) == nil; i++ {
		if i > 100 {
			t.Fatalf("the app (pid %d) outlived pm2 kill", app.PID)
		}
		time.Sleep(50 * time.Millisecond)
	}
	res = r.want(2, reconcile...)
	if !strings.Contains(res.stderr, "pm2 daemon not running") {
		t.Errorf("reconcile without pm2:\n%s", res)
	}
}

// A logout that only clears the cookie leaves the session valid on the
// server: the browser-like jar drops the cookie and sees 401, but the
// smoke checks replay the session from before logout and catch it. verify
// runs right after the deploy, the checks' ready section waiting for the
// app; --rollback-on-fail then puts the verified release back. An app that
// never answers is an error that records nothing and rolls nothing back.
func TestClientOnlyLogout(t *testing.T) {
	t.Parallel()
	r := newRig(t, "")
	c1 := r.commit("public/index.html", "Videos in every language.", "Your videos, in every language.", "Home: new tagline")
	r.release("lv-lo.1", c1, r.first)
	c2 := r.commit("server.js", endSession, clearCookieOnly, "Logout: clear the cookie, let sessions expire")
	r.prepare("lv-lo.2", c2, c1, true)

	// Nothing listens: not ready within 2s, exit 2, nothing recorded.
	wait := filepath.Join(r.work, "smoke-wait.yaml")
	smoke := readFile(t, filepath.Join(r.work, "smoke.yaml"))
	if !strings.Contains(string(smoke), "  timeout: 30s\n") {
		t.Fatalf("smoke.yaml has no ready timeout of 30s:\n%s", smoke)
	}
	must(t, os.WriteFile(wait, []byte(strings.Replace(string(smoke), "  timeout: 30s\n", "  timeout: 2s\n", 1)), 0o644))
	down := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	res := r.want(2, "verify", "--release", "lv-lo.2", "--checks", wait, "--base", down,
		"--var", "password=smoke-password", "--dir", r.repo, "--rollback-on-fail")
	if want := "the app did not become ready at " + down + "/api/version within 2s: last error: dial tcp "; !strings.Contains(res.stderr, want) {
		t.Errorf("verify against a down app does not say it was not ready (%q):\n%s", want, res)
	}
	if strings.Contains(res.stderr, "rolling back") || strings.Contains(res.stderr, "recorded Verification") {
		t.Errorf("verify against a down app recorded or rolled back:\n%s", res)
	}
	if v, rb, d := r.docs("lv-lo.2", "Verification"), r.docs("lv-lo.2", "Rollback"), r.decisions("lv-lo.2"); len(v)+len(rb)+len(d) != 0 {
		t.Errorf("after not ready: Verifications %v, Rollbacks %v, decisions %v; want none", v, rb, d)
	}
	if got := r.git("rev-parse", "HEAD"); got != c2 {
		t.Errorf("after not ready the checkout is at %s; want %s untouched", got, c2)
	}

	r.deploy(0, "lv-lo.2")
	res = r.verify(1, "lv-lo.2", "--rollback-on-fail")
	if i := strings.Index(res.stderr, "shipgate: ready: "); i >= 0 {
		t.Logf("measured: %s", strings.SplitN(res.stderr[i:], "\n", 2)[0])
	}
	for _, want := range []string{
		"shipgate: ready: GET " + r.base + "/api/version → 200 at attempt ",
		`check logout failed: step "the session from before logout is refused": GET ` + r.base + "/api/me → 200: assertion status == 401 is false: status = 200",
		"rollback fast succeeded",
	} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("verify stderr lacks %q:\n%s", want, res)
		}
	}
	ver := r.docs("lv-lo.2", "Verification")
	if len(ver) != 1 {
		t.Fatalf("Verification evidence = %v; want one", ver)
	}
	var checks []string
	for _, c := range ver[0]["checks"].([]any) {
		m := c.(map[string]any)
		checks = append(checks, m["name"].(string)+":"+m["status"].(string))
	}
	if diff := cmp.Diff([]string{"home:passed", "login:passed", "api-me:passed", "logout:failed", "error-spike:passed"}, checks); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	if got := r.running(); got != c1 {
		t.Errorf("after the automatic rollback the app runs %s; want %s", got, c1)
	}
	rbs := r.docs("lv-lo.2", "Rollback")
	if len(rbs) != 1 || rbs[0]["trigger"] != "verify-failed" || rbs[0]["toCommit"] != c1 || rbs[0]["status"] != "succeeded" {
		t.Errorf("Rollback of lv-lo.2 = %v; want one, succeeded, triggered by the failed verify, to %s", rbs, c1)
	}
	if diff := cmp.Diff([]string{"deploy:allow", "verify:deny"}, r.decisions("lv-lo.2")); diff != "" {
		t.Errorf("decisions (-want +got):\n%s", diff)
	}
	// The restored release ends its sessions: verify passes again.
	r.verify(0, "lv-lo.1")
}
