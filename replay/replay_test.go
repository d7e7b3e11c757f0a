package replay_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/internal/cputime"
	"github.com/localizevideos/shipgate/internal/policytest"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/replay"
	"github.com/localizevideos/shipgate/replay/replaytest"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store/sqlite"
)

func validator(tb testing.TB) *evidence.Validator {
	tb.Helper()
	reg, err := schemas.Compile()
	if err != nil {
		tb.Fatal(err)
	}
	// The recorded example documents are signed with the EXAMPLE keys.
	return evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring())
}

func load(tb testing.TB, data map[string]any) *engine.Engine {
	tb.Helper()
	e, err := engine.Load(context.Background(), engine.Options{Policies: policies.FS, Data: data, People: keys.People()})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// history records n releases through a real gate into a fresh SQLite ledger.
func history(tb testing.TB, eng *engine.Engine, n int) (*sqlite.DB, []replaytest.Step) {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "ledger.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	g := &gate.Gate{Engine: eng, Validator: validator(tb), Store: db}
	return db, replaytest.Record(tb, g, n)
}

// Replaying through the policies that decided reproduces every decision:
// verdict, reason, violations, warnings, obligations, the evidence that
// counted and did not, the policy revision and the input digest.
func TestReplaySamePoliciesReproducesDecisions(t *testing.T) {
	ctx := context.Background()
	eng := load(t, nil)
	db, steps := history(t, eng, 90)
	if len(steps) < 200 {
		t.Fatalf("recorded %d decisions; want at least 200", len(steps))
	}
	// NoCache: the recorded decisions must be reproduced by evaluation,
	// not read back.
	res, err := replay.Replay(ctx, db, eng, replay.Options{Validator: validator(t), NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(steps) {
		t.Fatalf("Replay() = %d results; want %d", len(res), len(steps))
	}
	var allowed, denied, dry int
	for i, r := range res {
		if r.Cached {
			t.Fatalf("result %d answered from the ledger with NoCache", i)
		}
		if r.Skipped != "" || r.Fault != "" {
			t.Fatalf("result %d: skipped %q, fault %q", i, r.Skipped, r.Fault)
		}
		want := steps[i].Decision
		if r.Recorded.ID != want.ID {
			t.Fatalf("result %d is %s; want %s (ledger order)", i, r.Recorded.ID, want.ID)
		}
		if diff := cmp.Diff(want, r.Decision, cmpopts.IgnoreFields(engine.Decision{}, "Opened")); diff != "" {
			t.Errorf("replay of %s %s %s (-recorded +replayed):\n%s", want.ID, want.Gate, want.Release.ID, diff)
		}
		switch {
		case r.DryRun:
			dry++
		case want.Allow:
			allowed++
		default:
			denied++
		}
	}
	if allowed == 0 || denied == 0 || dry == 0 {
		t.Errorf("history has %d allowed, %d denied, %d dry runs; want some of each", allowed, denied, dry)
	}
}

// A replay through the policy set that recorded the decisions answers them
// from the ledger (same revision, same input digest), and those answers are
// exactly what evaluating gives; a policy set of another revision evaluates
// every decision.
func TestReplayCacheMatchesEvaluation(t *testing.T) {
	ctx := context.Background()
	eng := load(t, nil)
	db, steps := history(t, eng, 90)
	if len(steps) < 200 {
		t.Fatalf("recorded %d decisions; want at least 200", len(steps))
	}
	cachedH, err := replay.Load(ctx, db, replay.Options{Validator: validator(t)})
	if err != nil {
		t.Fatal(err)
	}
	evalH, err := replay.Load(ctx, db, replay.Options{Validator: validator(t), NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	cached, err := cachedH.Replay(ctx, eng)
	if err != nil {
		t.Fatal(err)
	}
	evaluated, err := evalH.Replay(ctx, eng)
	if err != nil {
		t.Fatal(err)
	}
	if len(cached) != len(steps) || len(evaluated) != len(steps) {
		t.Fatalf("%d cached and %d evaluated results; want %d", len(cached), len(evaluated), len(steps))
	}
	for i := range cached {
		c, e := cached[i], evaluated[i]
		if !c.Cached || e.Cached {
			t.Fatalf("decision %d: cached %t with the cache, %t without; want true, false", i, c.Cached, e.Cached)
		}
		if diff := cmp.Diff(e, c, cmpopts.IgnoreFields(replay.Result{}, "Cached")); diff != "" {
			t.Errorf("decision %d (%s) answered from the ledger differs from its evaluation (-evaluated +cached):\n%s", i, c.Recorded.ID, diff)
		}
	}
	if rep := replay.Diff(cached, cached); rep.Cached != 2*len(steps) || rep.Evaluated != 0 {
		t.Errorf("Diff counts %d cached, %d evaluated; want %d, 0", rep.Cached, rep.Evaluated, 2*len(steps))
	}

	other := load(t, freezeData(t, replaytest.Start.AddDate(1, 0, 0), replaytest.Start.AddDate(1, 0, 1)))
	res, err := cachedH.Replay(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Cached || r.Decision == nil || r.Decision.Policy.Revision != other.Revision() {
			t.Fatalf("decision %d through another revision: cached %t, decision %+v; want evaluated", i, r.Cached, r.Decision)
		}
	}
	if rep := replay.Diff(cached, res); rep.Cached != len(steps) || rep.Evaluated != len(steps) {
		t.Errorf("Diff counts %d cached, %d evaluated; want %d each", rep.Cached, rep.Evaluated, len(steps))
	}
}

// freezeData is the default data with a one-off hard-freeze window added.
func freezeData(tb testing.TB, start, end time.Time) map[string]any {
	tb.Helper()
	data := policytest.Data(tb)
	fr := data["freeze"].(map[string]any)
	fr["calendar"] = append(fr["calendar"].([]any), map[string]any{"id": "migration", "name": "Database migration",
		"reason": "schema migration", "start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339)})
	return data
}

func TestDiffFreezeTightening(t *testing.T) {
	ctx := context.Background()
	base := load(t, nil)
	db, steps := history(t, base, 90)
	if len(steps) < 200 {
		t.Fatalf("recorded %d decisions; want at least 200", len(steps))
	}
	start := replaytest.Start.AddDate(0, 0, 20).Add(9 * time.Hour)
	end := start.Add(4*24*time.Hour + 3*time.Hour)
	head := load(t, freezeData(t, start, end))

	// Expected from the window and the recorded times alone.
	want := []string{}
	var allowedDeploys int
	for _, s := range steps {
		if s.Gate == "deploy" && s.Decision.Allow {
			allowedDeploys++
			if !s.Now.Before(start) && s.Now.Before(end) {
				want = append(want, s.Decision.ID)
			}
		}
	}
	if len(want) == 0 || len(want) == allowedDeploys {
		t.Fatalf("the window covers %d of %d allowed deploys; want some, not all", len(want), allowedDeploys)
	}
	t.Logf("%d decisions, %d allowed deploys, %d in the window", len(steps), allowedDeploys, len(want))

	h, err := replay.Load(ctx, db, replay.Options{Validator: validator(t)})
	if err != nil {
		t.Fatal(err)
	}
	var first replay.Report
	for run := range 2 {
		b, err := h.Replay(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		hd, err := h.Replay(ctx, head)
		if err != nil {
			t.Fatal(err)
		}
		rep := replay.Diff(b, hd)
		got := []string{}
		for _, c := range rep.Changes {
			switch c.Kind {
			case replay.Denied:
				got = append(got, c.Decision)
				if c.Gate != "deploy" || len(c.Added) != 1 || c.Added[0].Rule != "freeze.hard-window" || len(c.Removed) != 0 {
					t.Errorf("change %+v; want deploy gaining freeze.hard-window", c)
				}
			case replay.Allowed:
				t.Errorf("tightening allowed %s", c.Decision)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("allow → deny decisions (-want +got):\n%s", diff)
		}
		if rep.Replayed != len(steps) || rep.BaseRevision == rep.HeadRevision {
			t.Errorf("replayed %d of %d; revisions %s, %s", rep.Replayed, len(steps), rep.BaseRevision, rep.HeadRevision)
		}
		if run == 0 {
			first = rep
		} else if diff := cmp.Diff(first, rep); diff != "" {
			t.Errorf("second run differs:\n%s", diff)
		}
	}
}

func TestDiffSamePolicies(t *testing.T) {
	ctx := context.Background()
	eng := load(t, nil)
	db, steps := history(t, eng, 10)
	res, err := replay.Replay(ctx, db, eng, replay.Options{Validator: validator(t), Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	rep := replay.Diff(res, res)
	if len(rep.Changes) != 0 || rep.Replayed != len(steps) {
		t.Errorf("Diff(same) = %d changes, %d replayed; want 0, %d", len(rep.Changes), rep.Replayed, len(steps))
	}
}

func TestLoadSelects(t *testing.T) {
	ctx := context.Background()
	eng := load(t, nil)
	db, steps := history(t, eng, 10)
	since := steps[len(steps)/2].Now
	tests := []struct {
		name string
		opts replay.Options
		want int
	}{
		{"all", replay.Options{}, len(steps)},
		{"since", replay.Options{Since: since}, len(steps) - len(steps)/2},
		{"service", replay.Options{Service: "localizevideos-app"}, len(steps)},
		{"other service", replay.Options{Service: "billing"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Validator = validator(t)
			h, err := replay.Load(ctx, db, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := h.Len(); got != tt.want {
				t.Errorf("Load(%s).Len() = %d; want %d", tt.name, got, tt.want)
			}
		})
	}
}

// A decision the gate made without the policies (no Plan names the
// release) or that faulted is skipped and counted, not replayed.
func TestReplaySkips(t *testing.T) {
	ctx := context.Background()
	eng := load(t, nil)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g := &gate.Gate{Engine: eng, Validator: validator(t), Store: db}
	at := time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)
	if _, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: engine.Release{ID: "no-plan"}, Now: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: engine.Release{ID: "bad"}, Now: at,
		EvidencePaths: []string{"testdata/invalid.json"}}); err == nil {
		t.Fatal("Decide(invalid evidence) = nil error")
	}
	res, err := replay.Replay(ctx, db, eng, replay.Options{Validator: validator(t)})
	if err != nil {
		t.Fatal(err)
	}
	rep := replay.Diff(res, res)
	want := map[string]int{replay.SkipNotEvaluated: 1, replay.SkipInvalidEvidence: 1}
	if diff := cmp.Diff(want, rep.Skipped); diff != "" || rep.Replayed != 0 {
		t.Errorf("Skipped (-want +got):\n%s; replayed %d", diff, rep.Replayed)
	}
}

func TestRolloutChanges(t *testing.T) {
	base := map[string]any{
		"approvers": []any{"alice"},
		"services": map[string]any{"app": map[string]any{"capabilities": map[string]any{},
			"deploy_commands": []any{"pm2"}}},
		"deploy": map[string]any{"allowed_triggers": []any{"pipeline"}, "main_branches": []any{"main"}},
		"flags":  map[string]any{"gated_strategies": []any{"canary"}},
		"freeze": map[string]any{"environments": []any{"production"}},
	}
	with := func(edit func(m map[string]any)) map[string]any {
		m := clone(base).(map[string]any)
		edit(m)
		return m
	}
	tests := []struct {
		name string
		head map[string]any
		want []string
	}{
		{"same", clone(base).(map[string]any), nil},
		{"approvers and commands are not rollout data", with(func(m map[string]any) {
			m["approvers"] = []any{"bob"}
			m["services"].(map[string]any)["app"].(map[string]any)["deploy_commands"] = []any{}
			m["deploy"].(map[string]any)["main_branches"] = []any{"trunk"}
		}), nil},
		{"canary capability", with(func(m map[string]any) {
			m["services"].(map[string]any)["app"].(map[string]any)["capabilities"] = map[string]any{
				"canary": map[string]any{"metrics": true}}
		}), []string{"services.app.capabilities.canary"}},
		{"new service with capabilities", with(func(m map[string]any) {
			m["services"].(map[string]any)["api"] = map[string]any{"capabilities": map[string]any{}}
		}), []string{"services.api.capabilities"}},
		{"pipeline trigger", with(func(m map[string]any) {
			m["deploy"].(map[string]any)["allowed_triggers"] = []any{"pipeline", "ci"}
		}), []string{"deploy.allowed_triggers"}},
		{"flags and freeze", with(func(m map[string]any) {
			m["flags"].(map[string]any)["gated_strategies"] = []any{}
			m["freeze"].(map[string]any)["calendar"] = []any{map[string]any{"id": "x"}}
		}), []string{"flags.gated_strategies", "freeze.calendar"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, replay.RolloutChanges(base, tt.head)); diff != "" {
				t.Errorf("RolloutChanges() (-want +got):\n%s", diff)
			}
		})
	}
}

func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			m[k] = clone(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = clone(e)
		}
		return s
	}
	return v
}

// BenchmarkReplay replays recorded histories of the default policy set
// through the same policies, evidence decoded and converted once (Load is
// outside the loop). It reports decisions replayed per second of wall time
// and per second of CPU time (user and system, all threads, garbage
// collection included): on a machine shared with other work the second is
// the steadier measure of the cost of a decision. Sub-benchmarks: history
// size (>= 200 and >= 5,000 decisions), workers (1, or one per core), and
// the collector at its default or at replay.TunedGCPercent.
func BenchmarkReplay(b *testing.B) {
	ctx := context.Background()
	eng := load(b, nil)
	for _, releases := range []int{90, 2300} {
		b.Run(fmt.Sprintf("releases=%d", releases), func(b *testing.B) {
			db, steps := history(b, eng, releases)
			b.Logf("%d releases, %d decisions", releases, len(steps))
			for _, workers := range []int{1, 0} {
				for _, gc := range []int{0, replay.TunedGCPercent} {
					name := fmt.Sprintf("workers=%d/gc=%d", workers, gc)
					if workers == 0 {
						name = fmt.Sprintf("workers=all/gc=%d", gc)
					}
					if gc == 0 {
						name = strings.TrimSuffix(name, "0") + "default"
					}
					b.Run(name, func(b *testing.B) {
						h, err := replay.Load(ctx, db, replay.Options{Validator: validator(b), Workers: workers, GCPercent: gc, NoCache: true})
						if err != nil {
							b.Fatal(err)
						}
						b.ReportAllocs()
						cpu := cputime.Process()
						for b.Loop() {
							if _, err := h.Replay(ctx, eng); err != nil {
								b.Fatal(err)
							}
						}
						reportRate(b, len(steps), cputime.Process()-cpu)
					})
				}
			}
			// cached: the policy set that recorded the history replays it,
			// every answer is the recorded decision (nothing is evaluated).
			b.Run("workers=all/gc=400/cached", func(b *testing.B) {
				h, err := replay.Load(ctx, db, replay.Options{Validator: validator(b), GCPercent: replay.TunedGCPercent})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				cpu := cputime.Process()
				for b.Loop() {
					if _, err := h.Replay(ctx, eng); err != nil {
						b.Fatal(err)
					}
				}
				reportRate(b, len(steps), cputime.Process()-cpu)
			})
			// diff is what `policy diff` does once the history is loaded:
			// the base (the recording policy set) and a head of another
			// revision replay every decision, then Diff; a decision is one
			// decision diffed (two answers). With the cache the base's
			// answers are the recorded ones, and the head's are the base's
			// wherever the changed rule files answer alike (ReplayHead);
			// without, both sides evaluate every decision.
			heads := []struct {
				name string
				eng  *engine.Engine
			}{
				{"calendar", load(b, freezeData(b, replaytest.Start.AddDate(0, 0, 20), replaytest.Start.AddDate(0, 0, 24)))},
				{"rule-file", loadEdited(b, "shipgate/rules/freeze/freeze.rego", frozenRule,
					"frozen if {\n\tinput.release.environment in lib.config.freeze.environments\n\tinput.release.environment != \"production\"\n}")},
				{"layout", loadEdited(b, "shipgate/rules/freeze/freeze.rego", frozenRule, "frozen if {\n\tinput.release.environment in lib.config.freeze.environments\n}")},
				// A smaller change-size limit: an advisory on every deploy.
				{"limit", load(b, smallerChanges(b))},
			}
			for _, noCache := range []bool{false, true} {
				for _, head := range heads {
					name := "diff/cache/head=" + head.name
					if noCache {
						if head.name != "calendar" {
							continue
						}
						name = "diff/no-cache/head=" + head.name
					}
					b.Run(name, func(b *testing.B) {
						h, err := replay.Load(ctx, db, replay.Options{Validator: validator(b), GCPercent: replay.TunedGCPercent, NoCache: noCache})
						if err != nil {
							b.Fatal(err)
						}
						b.ReportAllocs()
						cpu := cputime.Process()
						for b.Loop() {
							base, err := h.Replay(ctx, eng)
							if err != nil {
								b.Fatal(err)
							}
							hd, err := h.ReplayHead(ctx, base, eng, head.eng)
							if err != nil {
								b.Fatal(err)
							}
							if rep := replay.Diff(base, hd); rep.Replayed != len(steps) {
								b.Fatalf("diffed %d of %d decisions", rep.Replayed, len(steps))
							}
						}
						reportRate(b, len(steps), cputime.Process()-cpu)
					})
				}
			}
			b.Run("load+replay", func(b *testing.B) {
				cpu := cputime.Process()
				for b.Loop() {
					if _, err := replay.Replay(ctx, db, eng, replay.Options{Validator: validator(b), GCPercent: replay.TunedGCPercent, NoCache: true}); err != nil {
						b.Fatal(err)
					}
				}
				reportRate(b, len(steps), cputime.Process()-cpu)
			})
		})
	}
}

func reportRate(b *testing.B, decisions int, cpu time.Duration) {
	n := float64(decisions * b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "decisions/s")
	if cpu > 0 {
		b.ReportMetric(n/cpu.Seconds(), "decisions/cpu-s")
	}
	b.ReportMetric(0, "ns/op")
}

// A replay with GCPercent sets the collector's target while it runs and
// restores the previous one after, also when replays overlap, and decides
// exactly as a replay without it.
func TestReplayGCPercentIsScoped(t *testing.T) {
	ctx := context.Background()
	eng := load(t, nil)
	db, steps := history(t, eng, 6)
	prev := debug.SetGCPercent(150)
	defer debug.SetGCPercent(prev)

	plain, err := replay.Replay(ctx, db, eng, replay.Options{Validator: validator(t), NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	h, err := replay.Load(ctx, db, replay.Options{Validator: validator(t), GCPercent: replay.TunedGCPercent, NoCache: true,
		Progress: func() {
			if got := debug.SetGCPercent(replay.TunedGCPercent); got != replay.TunedGCPercent {
				t.Errorf("GC percent during the replay = %d; want %d", got, replay.TunedGCPercent)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([][]replay.Result, 3)
	for i := range results {
		wg.Go(func() {
			res, err := h.Replay(ctx, eng)
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("GC percent after the replays = %d; want 150 restored", got)
	}
	for i, res := range results {
		if len(res) != len(steps) {
			t.Fatalf("replay %d: %d results; want %d", i, len(res), len(steps))
		}
		for j := range res {
			if diff := cmp.Diff(plain[j].Decision, res[j].Decision); diff != "" {
				t.Errorf("replay %d, decision %d differs with GCPercent (-without +with):\n%s", i, j, diff)
			}
		}
	}
}

const frozenRule = "frozen if input.release.environment in lib.config.freeze.environments"

// loadEdited loads the default policy set with one replacement in file.
func loadEdited(tb testing.TB, file, old, new string) *engine.Engine {
	tb.Helper()
	e, err := engine.Load(context.Background(), engine.Options{Policies: policytest.Edited(tb, map[string]func(string) string{file: policytest.Replace(tb, old, new)}), People: keys.People()})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// smallerChanges is the default data with a change-size limit every
// recorded release is over.
func smallerChanges(tb testing.TB) map[string]any {
	data := policytest.Data(tb)
	data["change"].(map[string]any)["max_lines"] = 60
	return data
}
