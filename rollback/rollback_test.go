package rollback_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/artifact"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/rollback"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/sqlite"
)

func TestDisableFlag(t *testing.T) {
	tests := []struct {
		name, in, flag string
		want           map[string]any
		wantErr        string
	}{
		{"boolean", `{"new-session-store": true, "other": true}`, "new-session-store",
			map[string]any{"new-session-store": false, "other": true}, ""},
		{"object keeps its other fields", `{"inject-errors": {"enabled": true, "rate": 0.5}}`, "inject-errors",
			map[string]any{"inject-errors": map[string]any{"enabled": false, "rate": 0.5}}, ""},
		{"already off", `{"x": false}`, "x", map[string]any{"x": false}, ""},
		{"unknown flag", `{"x": true}`, "y", nil, `no flag "y" (it has x)`},
		{"not an object", `[true]`, "x", nil, "want a JSON object"},
		{"flag of another type", `{"x": 1}`, "x", nil, "want true, false or an object"},
		{"not JSON", `{"x": tru`, "x", nil, "want a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "flags.json")
			if err := os.WriteFile(p, []byte(tt.in), 0o640); err != nil {
				t.Fatal(err)
			}
			err := rollback.DisableFlag(p, tt.flag)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("DisableFlag(%s, %q) = %v; want an error with %q", tt.in, tt.flag, err, tt.wantErr)
				}
				if b, _ := os.ReadFile(p); string(b) != tt.in {
					t.Errorf("a failed DisableFlag changed the file to %s", b)
				}
				return
			}
			if err != nil {
				t.Fatalf("DisableFlag: %v", err)
			}
			var got map[string]any
			b, _ := os.ReadFile(p)
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("flags (-want +got):\n%s", diff)
			}
			if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
				t.Errorf("mode %v; want 0640 kept", fi.Mode().Perm())
			}
		})
	}
	if err := rollback.DisableFlag(filepath.Join(t.TempDir(), "none.json"), "x"); err == nil {
		t.Error("DisableFlag of a missing file = nil")
	}
}

const (
	c1 = "1111111111111111111111111111111111111111"
	c2 = "2222222222222222222222222222222222222222"
	c3 = "3333333333333333333333333333333333333333"
)

var at = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

type ledger struct {
	t  *testing.T
	db *sqlite.DB
	v  *evidence.Validator
	n  int
}

func newLedger(t *testing.T) *ledger {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return &ledger{t: t, db: db, v: evidence.NewValidator(reg, evidence.DefaultLimits)}
}

// decide records a decision of gate about rel at commit.
func (l *ledger) decide(g, rel, svc, commit string, allow, dryRun bool) string {
	l.n++
	now := at.Add(time.Duration(l.n) * time.Minute)
	d := &engine.Decision{ID: gate.NewID("dec", now), Gate: g, Release: engine.Release{ID: rel, Service: svc, Environment: "production", Commit: commit},
		Allow: allow, Reason: engine.ReasonAllow, DryRun: dryRun, EvaluatedAt: now}
	if !allow {
		d.Reason = engine.ReasonDeny
	}
	body, err := json.Marshal(gate.Record{Decision: d})
	if err != nil {
		l.t.Fatal(err)
	}
	err = l.db.RecordDecision(context.Background(), now, store.Decision{ID: d.ID, ReleaseID: rel, Service: svc, Environment: "production",
		Gate: g, Allow: allow, DryRun: dryRun, Reason: d.Reason, EvaluatedAt: now, Body: body}, nil, nil)
	if err != nil {
		l.t.Fatal(err)
	}
	return d.ID
}

// rolledBack records a Rollback of rel with status.
func (l *ledger) rolledBack(rel, commit, status string) {
	env := runner.Envelope{ReleaseID: rel, Service: "app", Environment: "production", Repository: "lv/app", Commit: commit, Actor: "dave"}
	b, err := rollback.Evidence(env, rollback.Result{Plan: rollback.Plan{Strategy: rollback.Emergency, Flag: "x", Restart: []string{"true"}},
		Status: status, StartedAt: at, FinishedAt: at})
	if err != nil {
		l.t.Fatal(err)
	}
	doc, err := l.v.Decode("test", b)
	if err != nil {
		l.t.Fatal(err)
	}
	if _, err := l.db.AddEvidence(context.Background(), at, []store.Evidence{gate.StoreEvidence(doc)}); err != nil {
		l.t.Fatal(err)
	}
}

func TestFindTarget(t *testing.T) {
	ctx := context.Background()
	rel := engine.Release{ID: "r3", Service: "app", Environment: "production", Commit: c3}

	l := newLedger(t)
	if _, err := rollback.FindTarget(ctx, l.db, rel); !errors.Is(err, rollback.ErrNoTarget) {
		t.Fatalf("FindTarget on an empty ledger = %v; want ErrNoTarget", err)
	}
	want := l.decide("verify", "r1", "app", c1, true, false)
	l.decide("verify", "r2", "app", c2, false, false)      // denied
	l.decide("verify", "r2", "app", c2, true, true)        // a dry run
	l.decide("deploy", "r2", "app", c2, true, false)       // another gate
	l.decide("verify", "other", "web", c2, true, false)    // another service
	l.decide("verify", "r3", "app", c3, true, false)       // the release itself
	l.decide("verify", "r3-again", "app", c3, true, false) // the same commit
	got, err := rollback.FindTarget(ctx, l.db, rel)
	if err != nil {
		t.Fatalf("FindTarget: %v", err)
	}
	if got.ReleaseID != "r1" || got.Commit != c1 || got.Decision != want {
		t.Errorf("FindTarget = %+v; want r1 @ %s by %s", got, c1, want)
	}

	// A newer verified release wins, unless it was rolled back since.
	l.decide("verify", "r2", "app", c2, true, false)
	if got, _ := rollback.FindTarget(ctx, l.db, rel); got.ReleaseID != "r2" {
		t.Errorf("FindTarget = %+v; want the newer r2", got)
	}
	l.rolledBack("r2", c2, rollback.Failed)
	if got, _ := rollback.FindTarget(ctx, l.db, rel); got.ReleaseID != "r2" {
		t.Errorf("FindTarget = %+v; a failed rollback of r2 does not disqualify it", got)
	}
	l.rolledBack("r2", c2, rollback.Succeeded)
	if got, _ := rollback.FindTarget(ctx, l.db, rel); got.ReleaseID != "r1" {
		t.Errorf("FindTarget = %+v; want r1: r2 was rolled back", got)
	}
}

// gitRepo makes a repository with two commits and returns them.
func gitRepo(t *testing.T) (dir, first, second string) {
	dir = t.TempDir()
	run := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(dir, "app.js"), []byte("v1\n"), 0o644)
	run("add", "-A")
	run("commit", "-q", "-m", "v1")
	first = run("rev-parse", "HEAD")
	os.WriteFile(filepath.Join(dir, "app.js"), []byte("v2\n"), 0o644)
	run("commit", "-q", "-am", "v2")
	second = run("rev-parse", "HEAD")
	return dir, first, second
}

func head(dir string) (string, bool, error) {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return "", false, err
	}
	st, err := exec.Command("git", "-C", dir, "status", "--porcelain").Output()
	return strings.TrimSpace(string(out)), len(st) == 0, err
}

func TestDo(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	ctx := context.Background()
	restart := func(dir string) []string { return []string{"sh", "-c", "cat app.js > restarted"} }

	t.Run("fast", func(t *testing.T) {
		dir, first, second := gitRepo(t)
		// What the build and the restart write is not the code.
		os.WriteFile(filepath.Join(dir, ".git", "info", "exclude"), []byte("restarted\nbuilt\n"), 0o644)
		rb := &rollback.Rollbacker{Run: &runner.Runner{Dir: dir}, Check: head}
		res := rb.Do(ctx, rollback.Plan{Strategy: rollback.Fast, FromCommit: second, Target: rollback.Target{ReleaseID: "r1", Commit: first},
			Build: []string{"sh", "-c", "touch built"}, Restart: restart(dir), Output: []string{"dist"}})
		if res.Err != nil || res.Status != rollback.Succeeded {
			t.Fatalf("Do = %s, %v", res.Status, res.Err)
		}
		// A build output that is not there is no failure, and no digest.
		if notes := strings.Join(res.Notes, "\n"); res.Artifact != nil || !strings.Contains(notes, "no digest of the build output recorded: tree digest: build output dist") {
			t.Errorf("Artifact %+v, notes %q; want none, and a note why", res.Artifact, res.Notes)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "restarted")); string(b) != "v1\n" {
			t.Errorf("the restart saw app.js %q; want the target's v1", b)
		}
		var names []string
		for _, s := range res.Steps {
			names = append(names, s.Name)
		}
		if diff := cmp.Diff([]string{"checkout", "build", "restart"}, names); diff != "" {
			t.Errorf("steps (-want +got):\n%s", diff)
		}
		if res.Duration <= 0 || res.FinishedAt.Before(res.StartedAt) {
			t.Errorf("duration %v from %v to %v", res.Duration, res.StartedAt, res.FinishedAt)
		}
	})
	t.Run("fast with a dirty tree fails before the restart", func(t *testing.T) {
		dir, first, second := gitRepo(t)
		os.WriteFile(filepath.Join(dir, "patch.js"), []byte("hot\n"), 0o644)
		rb := &rollback.Rollbacker{Run: &runner.Runner{Dir: dir}, Check: head}
		res := rb.Do(ctx, rollback.Plan{Strategy: rollback.Fast, FromCommit: second, Target: rollback.Target{Commit: first}, Restart: restart(dir)})
		if res.Status != rollback.Failed || res.Err == nil || !strings.Contains(res.Err.Error(), "uncommitted changes") {
			t.Fatalf("Do = %s, %v; want failed for uncommitted changes", res.Status, res.Err)
		}
		if _, err := os.Stat(filepath.Join(dir, "restarted")); err == nil {
			t.Error("restarted despite the failed check")
		}
	})
	t.Run("failing restart", func(t *testing.T) {
		dir, first, second := gitRepo(t)
		rb := &rollback.Rollbacker{Run: &runner.Runner{Dir: dir}, Check: head}
		res := rb.Do(ctx, rollback.Plan{Strategy: rollback.Fast, FromCommit: second, Target: rollback.Target{Commit: first}, Restart: []string{"false"}})
		if res.Status != rollback.Failed || len(res.Steps) != 2 || res.Steps[1].Result.ExitCode != 1 {
			t.Fatalf("Do = %s, %v, steps %+v; want failed at the restart", res.Status, res.Err, res.Steps)
		}
	})
	t.Run("no target", func(t *testing.T) {
		rb := &rollback.Rollbacker{Run: &runner.Runner{Dir: t.TempDir()}}
		res := rb.Do(ctx, rollback.Plan{Strategy: rollback.Fast, TargetErr: rollback.ErrNoTarget, Restart: []string{"true"}})
		if res.Status != rollback.Failed || !errors.Is(res.Err, rollback.ErrNoTarget) || len(res.Steps) != 0 {
			t.Fatalf("Do = %s, %v, %d steps; want failed, no step run", res.Status, res.Err, len(res.Steps))
		}
	})
	t.Run("no approved command", func(t *testing.T) {
		dir, first, _ := gitRepo(t)
		rb := &rollback.Rollbacker{Run: &runner.Runner{Dir: dir}, Check: head}
		res := rb.Do(ctx, rollback.Plan{Strategy: rollback.Fast, Target: rollback.Target{Commit: first}})
		if res.Status != rollback.Failed || len(res.Steps) != 0 {
			t.Fatalf("Do = %s, %v; want failed before any step", res.Status, res.Err)
		}
	})
	t.Run("emergency", func(t *testing.T) {
		dir := t.TempDir()
		flags := filepath.Join(dir, "flags.json")
		os.WriteFile(flags, []byte(`{"new-session-store": true}`), 0o644)
		rb := &rollback.Rollbacker{Run: &runner.Runner{Dir: dir}}
		res := rb.Do(ctx, rollback.Plan{Strategy: rollback.Emergency, Flag: "new-session-store", FlagsFile: flags,
			Restart: []string{"sh", "-c", "cat flags.json > restarted"}})
		if res.Err != nil {
			t.Fatalf("Do: %v", res.Err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "restarted")); !strings.Contains(string(b), `"new-session-store": false`) {
			t.Errorf("the restart saw flags %s", b)
		}
		if len(res.Steps) != 2 || res.Steps[0].File != flags || res.Steps[0].Name != "disable-flag" {
			t.Errorf("steps = %+v", res.Steps)
		}
	})
}

// Every result, failed ones included, makes a Rollback the schema accepts.
func TestEvidence(t *testing.T) {
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	v := evidence.NewValidator(reg, evidence.DefaultLimits)
	env := runner.Envelope{ReleaseID: "lv-1", Service: "app", Environment: "production", Repository: "lv/app", Commit: c2, Actor: "dave"}
	step := rollback.Step{Name: "restart", Command: []string{"pm2", "restart", "app"}, Result: runner.Result{ExitCode: 1, Duration: 1500 * time.Millisecond}}
	for name, res := range map[string]rollback.Result{
		"fast succeeded": {Plan: rollback.Plan{Strategy: rollback.Fast, FromCommit: c2, Target: rollback.Target{ReleaseID: "lv-0", Commit: c1}, Trigger: rollback.TriggerWatch},
			Status: rollback.Succeeded, StartedAt: at, FinishedAt: at.Add(2 * time.Second), Duration: 2 * time.Second},
		"fast without target": {Plan: rollback.Plan{Strategy: rollback.Fast}, Status: rollback.Failed, StartedAt: at, FinishedAt: at, Err: rollback.ErrNoTarget},
		"emergency failed": {Plan: rollback.Plan{Strategy: rollback.Emergency, Flag: "x", FlagsFile: "/srv/flags.json"}, Status: rollback.Failed,
			StartedAt: at, FinishedAt: at, Steps: []rollback.Step{{Name: "disable-flag", File: "/srv/flags.json"}, step}, Err: errors.New("restart: exited 1")},
	} {
		b, err := rollback.Evidence(env, res)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		doc, err := v.Decode(name, b)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, b)
		}
		data := doc.Value["data"].(map[string]any)
		if data["status"] != res.Status || data["fromCommit"] == "" {
			t.Errorf("%s: data = %v", name, data)
		}
		if res.Err != nil && !strings.Contains(data["reason"].(string), res.Err.Error()) {
			t.Errorf("%s: reason %q does not say why", name, data["reason"])
		}
	}
	if _, err := rollback.Evidence(runner.Envelope{ReleaseID: "x"}, rollback.Result{}); err == nil {
		t.Error("Evidence without service = nil error")
	}
}

// build records a Build of rel at commit, added to the ledger at when.
func (l *ledger) build(rel, commit, status string, art *runner.Artifact, when time.Time) string {
	env := runner.Envelope{ReleaseID: rel, Service: "app", Environment: "production", Repository: "lv/app", Commit: commit, Actor: "dave"}
	code := 0
	if status != runner.BuildPassed {
		code = 1
	}
	b, err := runner.BuildArtifact(env, runner.Result{Argv: []string{"npm", "run", "build"}, ExitCode: code, StartedAt: when, FinishedAt: when}, runner.CI{Provider: "none"}, nil, art)
	if err != nil {
		l.t.Fatal(err)
	}
	doc, err := l.v.Decode("test", b)
	if err != nil {
		l.t.Fatal(err)
	}
	if _, err := l.db.AddEvidence(context.Background(), when, []store.Evidence{gate.StoreEvidence(doc)}); err != nil {
		l.t.Fatal(err)
	}
	return doc.Digest
}

func TestVerifiedArtifact(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	d1 := "sha256:" + strings.Repeat("d1", 32)
	target := rollback.Target{ReleaseID: "r1", Commit: c1, VerifiedAt: at.Add(30 * time.Minute)}
	if _, err := rollback.VerifiedArtifact(ctx, l.db, target); !errors.Is(err, rollback.ErrNoArtifact) {
		t.Fatalf("VerifiedArtifact without a Build = %v; want ErrNoArtifact", err)
	}
	l.build("r1", c1, runner.BuildPassed, nil, at)
	if _, err := rollback.VerifiedArtifact(ctx, l.db, target); !errors.Is(err, rollback.ErrNoArtifact) || !strings.Contains(err.Error(), "kept no build output") {
		t.Fatalf("VerifiedArtifact of a Build without artifact = %v; want ErrNoArtifact", err)
	}
	want := l.build("r1", c1, runner.BuildPassed, &runner.Artifact{Digest: d1, Paths: []string{"dist"}, SizeBytes: 10}, at.Add(time.Minute))
	// Not the verified build: a failed one, one of another commit, one
	// recorded after the verify decision.
	l.build("r1", c1, runner.BuildFailed, &runner.Artifact{Digest: "sha256:" + strings.Repeat("f0", 32), Paths: []string{"dist"}}, at.Add(2*time.Minute))
	l.build("r1", c2, runner.BuildPassed, &runner.Artifact{Digest: "sha256:" + strings.Repeat("c2", 32), Paths: []string{"dist"}}, at.Add(3*time.Minute))
	l.build("r1", c1, runner.BuildPassed, &runner.Artifact{Digest: "sha256:" + strings.Repeat("1a", 32), Paths: []string{"dist"}}, at.Add(time.Hour))
	got, err := rollback.VerifiedArtifact(ctx, l.db, target)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rollback.Artifact{Digest: d1, Paths: []string{"dist"}, Build: want}, got); diff != "" {
		t.Errorf("VerifiedArtifact (-want +got):\n%s", diff)
	}
}

func TestDoRestoresArtifact(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	ctx := context.Background()
	// setup returns a checkout at its second commit whose dist/ is the
	// second build, and the stored artifact of the first build.
	setup := func(t *testing.T) (string, string, string, *artifact.Store, artifact.Artifact) {
		dir, first, second := gitRepo(t)
		os.WriteFile(filepath.Join(dir, ".git", "info", "exclude"), []byte("dist/\nrestarted\nbuilt\n"), 0o644)
		os.Mkdir(filepath.Join(dir, "dist"), 0o755)
		os.WriteFile(filepath.Join(dir, "dist", "app.min.js"), []byte("build of v1\n"), 0o644)
		st := &artifact.Store{Dir: filepath.Join(t.TempDir(), "artifacts")}
		a, err := st.Put(dir, []string{"dist"})
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "dist", "app.min.js"), []byte("build of v2\n"), 0o644)
		return dir, first, second, st, a
	}
	restart := []string{"sh", "-c", "cat dist/app.min.js > restarted"}
	build := []string{"sh", "-c", "echo rebuilt > dist/app.min.js && touch built"}
	names := func(res rollback.Result) (out []string) {
		for _, s := range res.Steps {
			out = append(out, fmt.Sprintf("%s:%d", s.Name, s.Result.ExitCode))
		}
		return out
	}

	t.Run("restored, not rebuilt", func(t *testing.T) {
		dir, first, second, st, a := setup(t)
		rb := &rollback.Rollbacker{Run: &runner.Runner{Dir: dir}, Check: head, Artifacts: st}
		res := rb.Do(ctx, rollback.Plan{Strategy: rollback.Fast, FromCommit: second, Target: rollback.Target{ReleaseID: "r1", Commit: first},
			Artifact: rollback.Artifact{Digest: a.Digest, Paths: a.Paths, Build: "sha256:b"}, Build: build, Restart: restart, Output: a.Paths})
		if res.Err != nil {
			t.Fatalf("Do: %v", res.Err)
		}
		// What it left is what was built: the tree digest Put took.
		want := &runner.Artifact{Digest: a.Digest, Tree: a.Tree, Paths: []string{"dist"}}
		if diff := cmp.Diff(want, res.Artifact); diff != "" {
			t.Errorf("Artifact (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"checkout:0", "restore:0", "restart:0"}, names(res)); diff != "" {
			t.Errorf("steps (-want +got):\n%s", diff)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "restarted")); string(b) != "build of v1\n" {
			t.Errorf("the restart saw dist/app.min.js %q; want the verified build of v1", b)
		}
		if _, err := os.Stat(filepath.Join(dir, "built")); err == nil {
			t.Error("the build ran though the artifact was restored")
		}
		if s := res.Steps[1]; s.File != a.File || !strings.Contains(strings.Join(s.Result.Tail, "\n"), a.Digest) {
			t.Errorf("restore step = %+v; want the artifact's file and digest", s)
		}
	})
	t.Run("changed artifact: rebuilt, and the steps say so", func(t *testing.T) {
		dir, first, second, st, a := setup(t)
		b, _ := os.ReadFile(a.File)
		b[len(b)-1] ^= 0xff
		os.WriteFile(a.File, b, 0o644)
		rb := &rollback.Rollbacker{Run: &runner.Runner{Dir: dir}, Check: head, Artifacts: st}
		res := rb.Do(ctx, rollback.Plan{Strategy: rollback.Fast, FromCommit: second, Target: rollback.Target{ReleaseID: "r1", Commit: first},
			Artifact: rollback.Artifact{Digest: a.Digest, Paths: a.Paths}, Build: build, Restart: restart})
		if res.Err != nil {
			t.Fatalf("Do: %v", res.Err)
		}
		if diff := cmp.Diff([]string{"checkout:0", "restore:1", "build:0", "restart:0"}, names(res)); diff != "" {
			t.Errorf("steps (-want +got):\n%s", diff)
		}
		if tail := strings.Join(res.Steps[1].Result.Tail, "\n"); !strings.Contains(tail, "digest mismatch") || !strings.Contains(tail, "falling back to the build") {
			t.Errorf("restore step tail = %q", tail)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, "restarted")); string(got) != "rebuilt\n" {
			t.Errorf("the restart saw %q; want the rebuild", got)
		}
		checkEvidence(t, res, "rebuilt: the artifact")
	})
	t.Run("missing artifact and no build command: failed, not restarted", func(t *testing.T) {
		dir, first, second, st, a := setup(t)
		os.Remove(a.File)
		rb := &rollback.Rollbacker{Run: &runner.Runner{Dir: dir}, Check: head, Artifacts: st}
		res := rb.Do(ctx, rollback.Plan{Strategy: rollback.Fast, FromCommit: second, Target: rollback.Target{ReleaseID: "r1", Commit: first},
			Artifact: rollback.Artifact{Digest: a.Digest, Paths: a.Paths}, Restart: restart})
		if res.Status != rollback.Failed || !errors.Is(res.Err, artifact.ErrMissing) {
			t.Fatalf("Do = %s, %v; want failed for the missing artifact", res.Status, res.Err)
		}
		if diff := cmp.Diff([]string{"checkout:0", "restore:1"}, names(res)); diff != "" {
			t.Errorf("steps (-want +got):\n%s", diff)
		}
		if _, err := os.Stat(filepath.Join(dir, "restarted")); err == nil {
			t.Error("restarted on an unverified build output")
		}
	})
	t.Run("no artifact recorded: rebuilt", func(t *testing.T) {
		dir, first, second, st, a := setup(t)
		rb := &rollback.Rollbacker{Run: &runner.Runner{Dir: dir}, Check: head, Artifacts: st}
		res := rb.Do(ctx, rollback.Plan{Strategy: rollback.Fast, FromCommit: second, Target: rollback.Target{ReleaseID: "r1", Commit: first},
			ArtifactErr: fmt.Errorf("%w: old build", rollback.ErrNoArtifact), Build: build, Restart: restart, Output: []string{"dist"}})
		if res.Err != nil {
			t.Fatalf("Do: %v", res.Err)
		}
		// The rebuild's output, not the one it replaced, is recorded.
		tree, err := artifact.Tree(dir, []string{"dist"})
		if err != nil {
			t.Fatal(err)
		}
		if want := (&runner.Artifact{Tree: tree, Paths: []string{"dist"}}); !cmp.Equal(want, res.Artifact) || tree == a.Tree {
			t.Errorf("Artifact = %+v; want %+v, not the stored %s", res.Artifact, want, a.Tree)
		}
		if diff := cmp.Diff([]string{"checkout:0", "build:0", "restart:0"}, names(res)); diff != "" {
			t.Errorf("steps (-want +got):\n%s", diff)
		}
		checkEvidence(t, res, "rebuilt: no artifact recorded: old build")
	})
}

// checkEvidence validates res's Rollback and looks for reason in it.
func checkEvidence(t *testing.T, res rollback.Result, reason string) {
	t.Helper()
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	env := runner.Envelope{ReleaseID: "r2", Service: "app", Environment: "production", Repository: "lv/app", Commit: c2, Actor: "dave"}
	b, err := rollback.Evidence(env, res)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := evidence.NewValidator(reg, evidence.DefaultLimits).Decode("test", b)
	if err != nil {
		t.Fatalf("Rollback evidence: %v\n%s", err, b)
	}
	if got, _ := doc.Value["data"].(map[string]any)["reason"].(string); !strings.Contains(got, reason) {
		t.Errorf("reason = %q; want it to say %q", got, reason)
	}
}
