package reconcile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/artifact"
	"github.com/localizevideos/shipgate/collect/git"
	"github.com/localizevideos/shipgate/collect/pm2"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/reconcile"
	"github.com/localizevideos/shipgate/rollback"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/postgres"
	"github.com/localizevideos/shipgate/store/postgres/pgtest"
	"github.com/localizevideos/shipgate/store/sqlite"
)

const (
	svc = "localizevideos-app"
	c1  = "1111111111111111111111111111111111111111"
	c2  = "2222222222222222222222222222222222222222"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// db is the ledger as these tests use it: both stores provide it.
type db interface {
	reconcile.Store
	AddEvidence(ctx context.Context, now time.Time, docs []store.Evidence) ([]store.Evidence, error)
	Decision(ctx context.Context, id string) (store.Decision, error)
	Violations(ctx context.Context, f store.Filter) ([]store.Violation, error)
}

type ledger struct {
	t  *testing.T
	db db
	v  *evidence.Validator
	n  int
}

// forEachStore runs fn on SQLite, and on PostgreSQL when
// $SHIPGATE_TEST_POSTGRES names a server (a database per test).
func forEachStore(t *testing.T, fn func(t *testing.T, open func(*testing.T) db)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, func(t *testing.T) db {
			d, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			return d
		})
	})
	t.Run("postgres", func(t *testing.T) {
		pgtest.ServerURL(t)
		fn(t, func(t *testing.T) db { return pgtest.NewStore(t, postgres.Open) })
	})
}

func newLedger(t *testing.T, open func(*testing.T) db) *ledger {
	d := open(t)
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return &ledger{t: t, db: d, v: evidence.NewValidator(reg, evidence.DefaultLimits)}
}

func (l *ledger) id(prefix string, _ time.Time) string {
	l.n++
	return fmt.Sprintf("%s_%04d", prefix, l.n)
}

// allowDeploy records an allowed deploy decision for rel at at.
func (l *ledger) allowDeploy(rel, commit string, at time.Time) {
	d := &engine.Decision{ID: l.id("dec", at), Gate: "deploy", Release: engine.Release{ID: rel, Service: svc, Environment: "production", Commit: commit},
		Allow: true, Reason: engine.ReasonAllow, EvaluatedAt: at}
	body, _ := json.Marshal(gate.Record{Decision: d})
	if err := l.db.RecordDecision(context.Background(), at, store.Decision{ID: d.ID, ReleaseID: rel, Service: svc, Environment: "production",
		Gate: "deploy", Allow: true, Reason: d.Reason, EvaluatedAt: at, Body: body}, nil, nil); err != nil {
		l.t.Fatal(err)
	}
}

func (l *ledger) add(b []byte, err error) {
	l.t.Helper()
	if err != nil {
		l.t.Fatal(err)
	}
	doc, err := l.v.Decode("test", b)
	if err != nil {
		l.t.Fatal(err)
	}
	if _, err := l.db.AddEvidence(context.Background(), doc.CollectedAt, []store.Evidence{gate.StoreEvidence(doc)}); err != nil {
		l.t.Fatal(err)
	}
}

func env(rel, commit string) runner.Envelope {
	return runner.Envelope{ReleaseID: rel, Service: svc, Environment: "production", Repository: "localizevideos/app", Commit: commit, Actor: "dave"}
}

// deployed records the outcome of a deploy of rel that ran from start for d.
func (l *ledger) deployed(rel, commit string, start time.Time, d time.Duration) {
	res := runner.Result{Argv: []string{"pm2", "restart", svc, "--update-env"}, StartedAt: start, FinishedAt: start.Add(d), Duration: d}
	l.add(runner.Deploy(env(rel, commit), runner.DeployRequest{Command: res.Argv, Actor: "dave", Trigger: runner.TriggerShipgateRun, CI: runner.CI{Provider: runner.NoCI}}, start, &res))
}

func (l *ledger) rolledBack(rel, from, to string, start time.Time, d time.Duration) {
	l.add(rollback.Evidence(env(rel, from), rollback.Result{Plan: rollback.Plan{Strategy: rollback.Fast, FromCommit: from, Target: rollback.Target{ReleaseID: "r1", Commit: to}},
		Status: rollback.Succeeded, StartedAt: start, FinishedAt: start.Add(d), Duration: d}))
}

func clean(commit string) git.Facts {
	return git.Facts{Repository: "localizevideos/app", Commit: commit, Branch: "main", Clean: true, CommitKnown: true, OnMain: true}
}

func proc(started time.Time, restarts int) pm2.Process {
	return pm2.Process{Name: svc, PMID: 0, PID: 4242, Status: "online", Restarts: restarts, StartedAt: started, Cwd: "/srv/app"}
}

func (l *ledger) check(p pm2.Process, g git.Facts, now time.Time) *reconcile.Record {
	l.t.Helper()
	rec, err := reconcile.Check(context.Background(), l.db, reconcile.Request{Service: svc, Environment: "production",
		Process: p, Git: g, Actor: "ops", Now: now, PostmortemDue: 48 * time.Hour, NewID: l.id})
	if err != nil {
		l.t.Fatalf("Check: %v", err)
	}
	return rec
}

func rules(rec *reconcile.Record) []string {
	var out []string
	for _, f := range rec.Violations {
		out = append(out, f.Rule)
	}
	return out
}

func TestCheck(t *testing.T) {
	type setup func(l *ledger)
	deployR1 := func(l *ledger) {
		l.allowDeploy("r1", c1, t0)
		l.deployed("r1", c1, t0.Add(time.Second), 2*time.Second)
	}
	tests := []struct {
		name    string
		setup   setup
		proc    pm2.Process
		git     git.Facts
		want    []string
		message string
	}{
		{"started during an allowed deploy", deployR1, proc(t0.Add(2*time.Second), 1), clean(c1), nil, ""},
		{"started within the tolerance", deployR1, proc(t0.Add(4500*time.Millisecond), 1), clean(c1), nil, ""},
		{"started by hand later", deployR1, proc(t0.Add(time.Minute), 2), clean(c1),
			[]string{reconcile.RuleDirectPush}, "no allowed deploy or rollback"},
		{"a Deploy without an allowed decision explains nothing", func(l *ledger) {
			l.allowDeploy("r0", c1, t0.Add(-time.Hour))
			l.deployed("r1", c1, t0.Add(time.Second), 2*time.Second) // r1 was never allowed
		}, proc(t0.Add(2*time.Second), 1), clean(c1), []string{reconcile.RuleDirectPush}, "no allowed deploy"},
		{"a Deploy that ran before its allowed decision explains nothing", func(l *ledger) {
			l.deployed("r1", c1, t0.Add(time.Second), 2*time.Second)
			l.allowDeploy("r1", c1, t0.Add(time.Minute))
		}, proc(t0.Add(2*time.Second), 1), clean(c1), []string{reconcile.RuleDirectPush}, "no allowed deploy"},
		{"started during a rollback", func(l *ledger) {
			deployR1(l)
			l.allowDeploy("r2", c2, t0.Add(30*time.Minute))
			l.deployed("r2", c2, t0.Add(30*time.Minute+time.Second), 2*time.Second)
			l.rolledBack("r2", c2, c1, t0.Add(time.Hour), time.Second)
		}, proc(t0.Add(time.Hour+500*time.Millisecond), 2), clean(c1), nil, ""},
		{"hot patch", deployR1, proc(t0.Add(2*time.Second), 1), git.Facts{Commit: c1, Branch: "main", CommitKnown: true, OnMain: true},
			[]string{reconcile.RuleHotPatch}, "uncommitted changes"},
		{"commit off main", deployR1, proc(t0.Add(2*time.Second), 1), git.Facts{Commit: c1, Branch: "wip", Clean: true, CommitKnown: true},
			[]string{reconcile.RuleDirectPush}, "not reachable from a main branch"},
		{"another commit than the deploy left", deployR1, proc(t0.Add(2*time.Second), 1), clean(c2),
			[]string{reconcile.RuleDirectPush}, "the last deploy (release r1) left 111111111111"},
		{"no start time", deployR1, pm2.Process{Name: svc, Status: "stopped"}, clean(c1),
			[]string{reconcile.RuleDirectPush}, "no start time"},
	}
	forEachStore(t, func(t *testing.T, open func(*testing.T) db) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				l := newLedger(t, open)
				tt.setup(l)
				rec := l.check(tt.proc, tt.git, t0.Add(2*time.Hour))
				if diff := cmp.Diff(tt.want, rules(rec)); diff != "" {
					t.Fatalf("rules (-want +got):\n%s", diff)
				}
				if tt.message != "" && !strings.Contains(rec.Violations[0].Message, tt.message) {
					t.Errorf("message %q does not say %q", rec.Violations[0].Message, tt.message)
				}
				// Recorded before answering; a finding opens a violation.
				d, err := l.db.Decision(context.Background(), rec.ID)
				if err != nil {
					t.Fatalf("decision %s not recorded: %v", rec.ID, err)
				}
				if d.Gate != reconcile.Gate || d.Allow != (len(tt.want) == 0) {
					t.Errorf("recorded %+v", d)
				}
				vs, err := l.db.Violations(context.Background(), store.Filter{Status: store.StatusOpen, Service: svc})
				if err != nil {
					t.Fatal(err)
				}
				if len(tt.want) == 0 && len(vs) != 0 || len(tt.want) > 0 && (len(vs) != 1 || vs[0].DecisionID != rec.ID || vs[0].Gate != reconcile.Gate) {
					t.Errorf("open violations = %+v", vs)
				}
			})
		}
	})
}

func TestCheckCountsRestarts(t *testing.T) {
	forEachStore(t, testCheckCountsRestarts)
}

func testCheckCountsRestarts(t *testing.T, open func(*testing.T) db) {
	l := newLedger(t, open)
	l.allowDeploy("r1", c1, t0)
	l.deployed("r1", c1, t0.Add(time.Second), 2*time.Second)
	if rec := l.check(proc(t0.Add(2*time.Second), 1), clean(c1), t0.Add(time.Minute)); !rec.Allow {
		t.Fatalf("first reconcile = %v", rules(rec))
	}
	// A hand restart, then a proper deploy: the last start is explained,
	// the count is not.
	l.allowDeploy("r2", c1, t0.Add(time.Hour))
	l.deployed("r2", c1, t0.Add(time.Hour+time.Second), 2*time.Second)
	rec := l.check(proc(t0.Add(time.Hour+2*time.Second), 3), clean(c1), t0.Add(2*time.Hour))
	if diff := cmp.Diff([]string{reconcile.RuleDirectPush}, rules(rec)); diff != "" {
		t.Fatalf("rules (-want +got):\n%s", diff)
	}
	if !strings.Contains(rec.Violations[0].Message, "restarted 2 times since the reconcile") {
		t.Errorf("message: %s", rec.Violations[0].Message)
	}
}

func TestCheckNeedsARelease(t *testing.T) {
	l := newLedger(t, func(t *testing.T) db {
		d, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	})
	_, err := reconcile.Check(context.Background(), l.db, reconcile.Request{Service: svc, Environment: "production",
		Process: proc(t0, 0), Git: clean(c1), Now: t0})
	if err == nil || !strings.Contains(err.Error(), "give --release") {
		t.Fatalf("Check without any deploy or --release = %v; want an error", err)
	}
}

// TestCheckOneViolationPerDrift: reconciling again the same hand restart
// records the decision with the violation it opened, and opens no other; a
// new restart is a new violation.
func TestCheckOneViolationPerDrift(t *testing.T) {
	forEachStore(t, testCheckOneViolationPerDrift)
}

func testCheckOneViolationPerDrift(t *testing.T, open func(*testing.T) db) {
	l := newLedger(t, open)
	l.allowDeploy("r1", c1, t0)
	l.deployed("r1", c1, t0.Add(time.Second), 2*time.Second)
	byHand := proc(t0.Add(time.Hour), 1)
	first := l.check(byHand, clean(c1), t0.Add(2*time.Hour))
	if first.Allow || len(first.Opened) != 1 {
		t.Fatalf("first reconcile of a hand restart: allow %v, opened %v; want one violation", first.Allow, first.Opened)
	}
	for i := 0; i < 3; i++ {
		again := l.check(byHand, clean(c1), t0.Add(time.Duration(3+i)*time.Hour))
		if again.Allow || len(again.Opened) != 0 || again.Recurs != first.Opened[0] {
			t.Fatalf("reconcile %d of the same restart: allow %v, opened %v, recurs %q; want it recorded with %s",
				i+2, again.Allow, again.Opened, again.Recurs, first.Opened[0])
		}
	}
	another := proc(t0.Add(6*time.Hour), 2)
	next := l.check(another, clean(c1), t0.Add(7*time.Hour))
	if next.Allow || len(next.Opened) != 1 || next.Recurs != "" {
		t.Fatalf("reconcile of another hand restart: allow %v, opened %v, recurs %q; want a new violation", next.Allow, next.Opened, next.Recurs)
	}
	open2, err := l.db.Violations(context.Background(), store.Filter{Status: store.StatusOpen})
	if err != nil {
		t.Fatal(err)
	}
	if len(open2) != 2 {
		t.Errorf("open violations = %d; want 2, one per restart", len(open2))
	}
}

// deployedOutput records an allowed deploy of rel whose request found the
// build output out.
func (l *ledger) deployedOutput(rel string, start time.Time, out *runner.Artifact) {
	l.allowDeploy(rel, c1, start.Add(-time.Second))
	res := runner.Result{Argv: []string{"pm2", "restart", svc, "--update-env"}, StartedAt: start, FinishedAt: start.Add(2 * time.Second), Duration: 2 * time.Second}
	l.add(runner.Deploy(env(rel, c1), runner.DeployRequest{Command: res.Argv, Actor: "dave", Trigger: runner.TriggerShipgateRun,
		CI: runner.CI{Provider: runner.NoCI}, Artifact: out}, start, &res))
}

func (l *ledger) rolledBackOutput(rel string, strategy string, start time.Time, out *runner.Artifact) {
	p := rollback.Plan{Strategy: strategy, FromCommit: c1, Target: rollback.Target{ReleaseID: "r0", Commit: c1}, Flag: "new-editor"}
	l.add(rollback.Evidence(env(rel, c1), rollback.Result{Plan: p, Status: rollback.Succeeded,
		StartedAt: start, FinishedAt: start.Add(time.Second), Duration: time.Second, Artifact: out}))
}

// The running build output (dist/, which git ignores) must be what the
// last deploy or fast rollback left there.
func TestCheckOutput(t *testing.T) {
	dist := []string{"dist"}
	build := func(t *testing.T, dir, content string) *runner.Artifact {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, "dist"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "dist", "index.html"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		tree, err := artifact.Tree(dir, dist)
		if err != nil {
			t.Fatal(err)
		}
		return &runner.Artifact{Tree: tree, Paths: dist}
	}
	tests := []struct {
		name       string
		setup      func(t *testing.T, l *ledger, dir string) (started time.Time)
		configured []string
		want       []string
		message    string
	}{
		{"as deployed", func(t *testing.T, l *ledger, dir string) time.Time {
			l.deployedOutput("r1", t0, build(t, dir, "v1"))
			return t0.Add(time.Second)
		}, dist, nil, ""},
		{"edited after the deploy", func(t *testing.T, l *ledger, dir string) time.Time {
			l.deployedOutput("r1", t0, build(t, dir, "v1"))
			build(t, dir, "v1 + a hot fix")
			return t0.Add(time.Second)
		}, dist, []string{reconcile.RuleHotPatch}, "was changed after the deploy, outside git"},
		{"removed", func(t *testing.T, l *ledger, dir string) time.Time {
			l.deployedOutput("r1", t0, build(t, dir, "v1"))
			if err := os.RemoveAll(filepath.Join(dir, "dist")); err != nil {
				t.Fatal(err)
			}
			return t0.Add(time.Second)
		}, dist, []string{reconcile.RuleHotPatch}, "cannot be read"},
		{"none recorded, output configured", func(t *testing.T, l *ledger, dir string) time.Time {
			build(t, dir, "v1")
			l.deployedOutput("r1", t0, nil)
			return t0.Add(time.Second)
		}, dist, []string{reconcile.RuleHotPatch}, "the last deploy (release r1) recorded no digest of the build output dist"},
		{"none recorded, none configured", func(t *testing.T, l *ledger, dir string) time.Time {
			build(t, dir, "v1")
			l.deployedOutput("r1", t0, nil)
			return t0.Add(time.Second)
		}, nil, nil, ""},
		{"restored by a fast rollback", func(t *testing.T, l *ledger, dir string) time.Time {
			v1 := build(t, dir, "v1")
			l.deployedOutput("r2", t0, build(t, dir, "v2"))
			build(t, dir, "v1")
			l.rolledBackOutput("r2", rollback.Fast, t0.Add(time.Hour), v1)
			return t0.Add(time.Hour + 500*time.Millisecond)
		}, dist, nil, ""},
		{"edited after a fast rollback", func(t *testing.T, l *ledger, dir string) time.Time {
			v1 := build(t, dir, "v1")
			l.deployedOutput("r2", t0, build(t, dir, "v2"))
			l.rolledBackOutput("r2", rollback.Fast, t0.Add(time.Hour), v1)
			return t0.Add(time.Hour + 500*time.Millisecond)
		}, dist, []string{reconcile.RuleHotPatch}, "but the last fast rollback (release r2) left"},
		{"an emergency rollback leaves the deploy's output", func(t *testing.T, l *ledger, dir string) time.Time {
			l.deployedOutput("r1", t0, build(t, dir, "v1"))
			l.rolledBackOutput("r1", rollback.Emergency, t0.Add(time.Hour), nil)
			return t0.Add(time.Hour + 500*time.Millisecond)
		}, dist, nil, ""},
	}
	forEachStore(t, func(t *testing.T, open func(*testing.T) db) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				l := newLedger(t, open)
				dir := t.TempDir()
				started := tt.setup(t, l, dir)
				rec, err := reconcile.Check(context.Background(), l.db, reconcile.Request{Service: svc, Environment: "production",
					Process: proc(started, 1), Git: clean(c1), Dir: dir, Output: tt.configured, Actor: "ops", Now: t0.Add(2 * time.Hour),
					PostmortemDue: 48 * time.Hour, NewID: l.id})
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				if diff := cmp.Diff(tt.want, rules(rec)); diff != "" {
					t.Fatalf("rules (-want +got):\n%s", diff)
				}
				if tt.message != "" && !strings.Contains(rec.Violations[0].Message, tt.message) {
					t.Errorf("message %q does not say %q", rec.Violations[0].Message, tt.message)
				}
				// What it found is recorded with the decision.
				if o := rec.Observed.Output; tt.configured != nil && (o == nil || !cmp.Equal(o.Paths, dist)) {
					t.Errorf("observed output = %+v; want dist", o)
				}
			})
		}
	})
}
