package console_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"

	"github.com/localizevideos/shipgate/api"
	"github.com/localizevideos/shipgate/collect/git"
	"github.com/localizevideos/shipgate/collect/pm2"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/reconcile"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/rollback"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/watch"
)

var due = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// render runs write on a builder and fails the test on its error.
func render(t *testing.T, write func(w *strings.Builder) error) string {
	t.Helper()
	var b strings.Builder
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func check(t *testing.T, name, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s =\n%s\nwant\n%s", name, got, want)
	}
}

// Cells are padded to the widest of their column or its width, with no
// trailing spaces, each line indented.
func TestTable(t *testing.T) {
	got := render(t, func(w *strings.Builder) error {
		return console.Table(w, "  ", []int{0, 6}, []table.Row{{"[x]", "plan", "done"}, {"[ ]", "verify", "missing (no Verification)"}})
	})
	check(t, "Table", got, "  [x] plan   done\n  [ ] verify missing (no Verification)\n")
	check(t, "Table(no rows)", render(t, func(w *strings.Builder) error { return console.Table(w, "", nil, nil) }), "")
}

func TestViolations(t *testing.T) {
	check(t, "Violations(none)", render(t, func(w *strings.Builder) error { return console.Violations(w, nil) }), "no violations\n")
	views := []api.ViolationView{
		{ID: "vio_1", Kind: "violation", Status: "open", Service: "app", Release: "lv-1", Gate: "deploy", Rules: []string{"a", "b"}, Due: due, Overdue: true},
		{ID: "vio_2", Kind: "obligation", Status: "closed", Service: "app", Release: "lv-2", Gate: "verify", Rules: []string{"c"}, Due: due},
	}
	check(t, "Violations", render(t, func(w *strings.Builder) error { return console.Violations(w, views) }),
		"vio_1                          violation  OVERDUE due 2026-11-28  app lv-1 deploy  a,b\n"+
			"vio_2                          obligation closed  due 2026-11-28  app lv-2 verify  c\n")
	vv := views[1]
	vv.Environment, vv.Decision, vv.Actor, vv.Message, vv.OpenedAt, vv.ClosedAt, vv.ClosedBy = "production", "dec_1", "ci", "unverified", due.Add(-time.Hour), "2026-11-27T10:00:00Z", "sha256:pm"
	check(t, "Violation", render(t, func(w *strings.Builder) error { return console.Violation(w, vv) }),
		"vio_2 (obligation) closed\n"+
			"release:   lv-2 (app/production), verify gate, decision dec_1\n"+
			"rules:     c\n"+
			"actor:     ci\n"+
			"opened:    2026-11-28T09:00:00Z\n"+
			"due:       2026-11-28T10:00:00Z\n"+
			"closed:    2026-11-27T10:00:00Z by postmortem sha256:pm\n"+
			"message:   unverified\n")
	closed := []store.Violation{{ID: "vio_1", Kind: "violation", ReleaseID: "lv-1", Gate: "deploy"}}
	check(t, "Closed", render(t, func(w *strings.Builder) error { return console.Closed(w, closed, "sha256:pm") }),
		"closed vio_1 (violation lv-1, deploy gate) by postmortem sha256:pm\n")
}

func TestEvidence(t *testing.T) {
	added := []release.Added{
		{Kind: "Plan", Digest: "sha256:1", Source: "plan.json", Release: "lv-1", Entry: 3, New: true, SignedBy: []string{"ci"}},
		{Kind: "Build", Digest: "sha256:2", Source: "build.json", Release: "lv-1"},
	}
	check(t, "EvidenceAdded", render(t, func(w *strings.Builder) error { return console.EvidenceAdded(w, added) }),
		"Plan            sha256:1 plan.json (release lv-1): recorded as entry 3, signed by ci\n"+
			"Build           sha256:2 build.json (release lv-1): already recorded\n")
	results := []release.Validated{
		{Source: "plan.json", Kind: "Plan", Digest: "sha256:1", Valid: true, Signed: []string{"ci"}},
		{Source: "build.json", Kind: "Build", Digest: "sha256:2", Valid: true},
		{Source: "bad.json", Errors: []evidence.ValidationError{{Source: "bad.json", Pointer: "/release", Message: "missing"}}},
		{Source: "gone", Error: "gone: no such file"},
	}
	bad := evidence.ValidationError{Source: "bad.json", Pointer: "/release", Message: "missing"}
	check(t, "Validation", render(t, func(w *strings.Builder) error { return console.Validation(w, results) }),
		"ok      Plan            sha256:1 plan.json (signed by ci)\n"+
			"ok      Build           sha256:2 build.json\n"+
			"invalid "+bad.Error()+"\n"+
			"invalid gone: no such file\n")
	d := &evidence.Document{Kind: "Plan", Digest: "sha256:1", ReleaseID: "lv-1", Service: "app", Environment: "production",
		Repository: "org/app", Commit: "abc", CollectedAt: due, Actor: "ci"}
	want := "kind:        Plan\ndigest:      sha256:1\nrelease:     lv-1 (app/production)\nsubject:     org/app @ abc\ncollected:   2026-11-28T10:00:00Z by ci\nsigned by:   %s\ndata:\n"
	check(t, "EvidenceHeader(bare)", render(t, func(w *strings.Builder) error { return console.EvidenceHeader(w, d) }),
		strings.Replace(want, "%s", "nobody (a bare document)", 1))
	d.SignedBy = []string{"ci", "carol"}
	check(t, "EvidenceHeader(signed)", render(t, func(w *strings.Builder) error { return console.EvidenceHeader(w, d) }),
		strings.Replace(want, "%s", "ci, carol (DSSE, verified)", 1))
}

func TestSwept(t *testing.T) {
	check(t, "Swept(none, done)", render(t, func(w *strings.Builder) error { return console.Swept(w, nil, true) }), "no skipped verification\n")
	check(t, "Swept(none, failed)", render(t, func(w *strings.Builder) error { return console.Swept(w, nil, false) }), "")
	k := gate.Skipped{Release: engine.Release{ID: "lv-1", Service: "app", Environment: "production"}, Decision: "dec_1", Violation: "vio_1", Message: "not verified"}
	k.FinishedAt, k.VerifyBy = due, due.Add(30*time.Minute)
	check(t, "Swept", render(t, func(w *strings.Builder) error { return console.Swept(w, []gate.Skipped{k}, true) }),
		"vio_1 opened: "+gate.RuleSkippedSmokeTests+" lv-1 (app/production), deployed 2026-11-28T10:00:00Z, not verified by 2026-11-28T10:30:00Z\n  not verified\n  recorded dec_1\n")
}

func TestStatus(t *testing.T) {
	st := &gate.ReleaseStatus{Release: "lv-2",
		Steps: []gate.Step{{Name: "plan", State: gate.Done}, {Name: "verify", State: gate.Failed, Detail: "denied"}},
		Open:  []store.Violation{{ID: "vio_1", Kind: "violation", Due: due, Rules: []string{"a", "b"}}, {ID: "vio_2", Kind: "obligation", Due: due.Add(48 * time.Hour), Rules: []string{"c"}}},
		Rollbacks: []gate.Rollback{
			{Strategy: "fast", Status: "succeeded", Trigger: "verify-failed", ToRelease: "lv-1", ToCommit: "f8a8732fa2671234", DurationSeconds: 0.4121, Steps: []string{"checkout", "restore", "restart"}},
			{Strategy: "emergency", Status: "failed", Flag: "new-store", DurationSeconds: 1},
		},
		Next: "shipgate postmortem new --release lv-2"}
	check(t, "Status", render(t, func(w *strings.Builder) error { return console.Status(w, st, due.Add(time.Hour)) }),
		"release lv-2\n"+
			"  [x] plan             done\n"+
			"  [!] verify           failed (denied)\n"+
			"  open violation vio_1, OVERDUE since 2026-11-28: a, b\n"+
			"  open obligation vio_2, due 2026-11-30: c\n"+
			"  rollback fast succeeded (verify-failed) to lv-1 @ f8a8732fa267 in 0.412s: checkout, restore, restart\n"+
			"  rollback emergency failed flag new-store off in 1.000s\n"+
			"next: shipgate postmortem new --release lv-2\n")
}

func TestSteps(t *testing.T) {
	h := &release.HoldResult{Digest: "sha256:h", By: "carol", SignedBy: []string{"carol"}}
	check(t, "Held", render(t, func(w *strings.Builder) error { return console.Held(w, h, "lv-1", false, "campaign") }),
		"held: carol holds lv-1 (campaign); a breach only alerts until the hold is lifted (sha256:h, signed by carol)\n")
	check(t, "Held(lift none)", render(t, func(w *strings.Builder) error { return console.Held(w, h, "lv-1", true, "") }),
		"lifted: lv-1 had no hold; recorded anyway (sha256:h, signed by carol)\n")
	h.SignedBy, h.Before = nil, &rollback.Hold{By: "dave"}
	check(t, "Held(lift, server)", render(t, func(w *strings.Builder) error { return console.Held(w, h, "lv-1", true, "") }),
		"lifted: carol lifted dave's hold on lv-1; automated rollback applies again (sha256:h, recorded by the server for carol)\n")

	o := &release.RollbackOutcome{Plan: rollback.Plan{Strategy: "fast"}, Deployed: " (deploy took 2.000s)",
		Result: rollback.Result{Status: "failed", Duration: 1500 * time.Millisecond, Notes: []string{"rebuilt"}, Err: errors.New("restart: exit 1")},
		Doc:    &evidence.Document{Digest: "sha256:r", SignedBy: []string{"ci"}}}
	var log, out strings.Builder
	if err := console.RolledBack(&log, &out, "lv-2", o); err != nil {
		t.Fatal(err)
	}
	check(t, "RolledBack(log)", log.String(), "shipgate: recorded Rollback failed (fast) for release lv-2: sha256:r\n"+
		"shipgate: signed by ci (DSSE envelope kept in the ledger)\nshipgate: rebuilt\nshipgate: rollback failed: restart: exit 1\n")
	check(t, "RolledBack(out)", out.String(), "rollback fast failed: lv-2 in 1.500s (deploy took 2.000s)\n")
}

func TestWatchDenied(t *testing.T) {
	breach := &watch.Result{Status: watch.Breach, Signals: []watch.SignalResult{{Name: "error-rate", Status: watch.Breach}, {Name: "latency", Status: watch.Healthy}}}
	for _, c := range []struct {
		name   string
		out    *release.Watched
		denied bool
		log    string
	}{
		{"breach", &release.Watched{Result: breach}, true, "shipgate: lv-1 breached (error-rate): rollback required\n"},
		{"rolled back", &release.Watched{Result: breach, Outcome: watch.Outcome{Rollback: watch.RollbackRan}}, true, "shipgate: lv-1 breached (error-rate): rolled back automatically\n"},
		{"held", &release.Watched{Result: breach, Outcome: watch.Outcome{Rollback: watch.RollbackHeld, Hold: &watch.Hold{By: "carol"}}}, true,
			"shipgate: lv-1 breached (error-rate): rollback required (held by carol: decide now)\n"},
		{"no data", &release.Watched{Result: &watch.Result{Status: watch.NoData}}, true,
			"shipgate: lv-1: no data for its safety signals, and no data is not healthy: the release is not complete\n"},
		{"denied", &release.Watched{Result: &watch.Result{Status: watch.Healthy}, Decision: &engine.Decision{}}, true, "shipgate: complete denied\n"},
		{"allowed", &release.Watched{Result: &watch.Result{Status: watch.Healthy}, Decision: &engine.Decision{Allow: true}}, false, ""},
	} {
		var log strings.Builder
		if got := console.WatchDenied(&log, "lv-1", c.out); got != c.denied || log.String() != c.log {
			t.Errorf("%s: WatchDenied = %t, %q; want %t, %q", c.name, got, log.String(), c.denied, c.log)
		}
	}
}

func TestReconciled(t *testing.T) {
	r := &release.PM2Reconciled{Dir: "/srv/app", Facts: git.Facts{Commit: "3f2c9a0e5b1d4c7a8e6f"},
		Process: pm2.Process{PID: 42, Restarts: 3, StartedAt: due},
		Record: &reconcile.Record{Decision: &engine.Decision{ID: "dec_r", Allow: true},
			Observed: reconcile.Observation{Explained: &reconcile.Event{Kind: "Deploy", Release: "lv-1", Evidence: "sha256:d"},
				Output: &reconcile.OutputState{Paths: []string{"dist"}, Tree: "sha256:t", Expected: "sha256:t"}}}}
	rel := engine.Release{Service: "app", Environment: "production"}
	check(t, "Reconciled(clean)", render(t, func(w *strings.Builder) error { return console.Reconciled(w, "app", rel, r) }),
		"reconcile pm2 app (app/production, pid 42, restarts 3, started 2026-11-28T10:00:00Z) at 3f2c9a0e5b1d in /srv/app: clean\n"+
			"  started during the Deploy of release lv-1 (sha256:d)\n"+
			"  build output dist is as deployed (tree sha256:t)\n"+
			"  recorded dec_r\n")
	r.Record.Decision = &engine.Decision{ID: "dec_r", Opened: []string{"vio_1", "vio_2"},
		Violations: []engine.Finding{{Rule: "forbidden.hot-patch", Message: "dist changed", Remediation: "redeploy"}}}
	r.Record.Observed = reconcile.Observation{}
	check(t, "Reconciled(drift)", render(t, func(w *strings.Builder) error { return console.Reconciled(w, "app", rel, r) }),
		"reconcile pm2 app (app/production, pid 42, restarts 3, started 2026-11-28T10:00:00Z) at 3f2c9a0e5b1d in /srv/app: DRIFT\n"+
			"  forbidden.hot-patch: dist changed\n    fix: redeploy\n"+
			"  recorded dec_r, opened violation vio_1, opened violation vio_2\n")
}
