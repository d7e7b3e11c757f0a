package replay_test

import (
	"context"
	"io/fs"
	"maps"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/internal/policytest"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/replay"
	"github.com/localizevideos/shipgate/replay/replaytest"
)

// ReplayHead reuses the base's decisions where the head's changed rule
// files answer alike, and its results are exactly those of evaluating every
// decision with the head, for each kind of change: a rule file, the data
// one rule file reads, the freeze calendar, layout only, and the library
// (evaluated in full).
func TestReplayHeadMatchesEvaluation(t *testing.T) {
	ctx := context.Background()
	base := load(t, nil)
	db, steps := history(t, base, 90)
	if len(steps) < 200 {
		t.Fatalf("recorded %d decisions; want at least 200", len(steps))
	}
	h, err := replay.Load(ctx, db, replay.Options{Validator: validator(t)})
	if err != nil {
		t.Fatal(err)
	}
	full, err := replay.Load(ctx, db, replay.Options{Validator: validator(t), NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	baseRes, err := h.Replay(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	loadFS := func(fsys fs.FS, data map[string]any) *engine.Engine {
		e, err := engine.Load(ctx, engine.Options{Policies: fsys, Data: data, People: keys.People()})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	edit := func(file, old, new string) fs.FS {
		return policytest.Edited(t, map[string]func(string) string{file: policytest.Replace(t, old, new)})
	}
	start := replaytest.Start.AddDate(0, 0, 20).Add(9 * time.Hour)
	unfrozen := policytest.Data(t)
	unfrozen["freeze"].(map[string]any)["environments"] = []any{}
	smaller := smallerChanges(t)
	// Another decision library (a rule added to it, on both sides): Delta
	// knows nothing of it, and compares the rule files' whole answers.
	otherLib := func(more map[string]func(string) string) fs.FS {
		edits := map[string]func(string) string{"shipgate/lib/decision/decision.rego": func(s string) string { return s + "\nunused := true\n" }}
		maps.Copy(edits, more)
		return policytest.Edited(t, edits)
	}
	otherBase := loadFS(otherLib(nil), nil)
	for _, tc := range []struct {
		name string
		base *engine.Engine // nil: the recording policy set
		head *engine.Engine
		// all: every head answer is the base's; none: none is.
		all, none bool
	}{
		{name: "freeze calendar", head: load(t, freezeData(t, start, start.Add(99*time.Hour)))},
		{name: "frozen environments, read by one rule file", head: loadFS(policies.FS, unfrozen)},
		// Every release is over the new limit: the deploy decisions
		// change (a warning), and the others are reused, as the shipped
		// decision library does not read that rule file at their gates.
		{name: "change size limit", head: loadFS(policies.FS, smaller)},
		// With another library the rule file answers differently at every
		// gate: every decision is evaluated.
		{name: "change size limit, another decision library", none: true, base: otherBase, head: loadFS(otherLib(nil), smaller)},
		{name: "a rule file", head: loadFS(edit("shipgate/rules/freeze/freeze.rego",
			"frozen if input.release.environment in lib.config.freeze.environments",
			"frozen if {\n\tinput.release.environment in lib.config.freeze.environments\n\tinput.release.environment != \"production\"\n}"), nil)},
		{name: "layout only", all: true, head: loadFS(edit("shipgate/rules/freeze/freeze.rego",
			"frozen if input.release.environment in lib.config.freeze.environments",
			"# frozen: by environment\nfrozen if {\n\tinput.release.environment in lib.config.freeze.environments\n}"), nil)},
		{name: "library", none: true, head: loadFS(edit("shipgate/lib/evidence.rego", "substring(commit, 0, 12)", "substring(commit, 0, 10)"), nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, br := base, baseRes
			if tc.base != nil {
				b = tc.base
				var err error
				if br, err = h.Replay(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			got, err := h.ReplayHead(ctx, br, b, tc.head)
			if err != nil {
				t.Fatal(err)
			}
			want, err := full.Replay(ctx, tc.head)
			if err != nil {
				t.Fatal(err)
			}
			reused := 0
			for i := range got {
				if got[i].Reused {
					reused++
				}
				if diff := cmp.Diff(want[i], got[i], cmpopts.IgnoreFields(replay.Result{}, "Reused")); diff != "" {
					t.Errorf("decision %d (%s) differs from its evaluation (-evaluated +ReplayHead):\n%s", i, got[i].Recorded.ID, diff)
				}
			}
			rep := replay.Diff(br, got)
			t.Logf("%d decisions, %d reused, %d changed", len(got), reused, len(rep.Changes))
			switch {
			case tc.all && reused != len(steps), tc.none && reused != 0, !tc.all && !tc.none && (reused == 0 || reused == len(steps)):
				t.Errorf("reused %d of %d (all %t, none %t)", reused, len(steps), tc.all, tc.none)
			}
			if rep.Reused != reused {
				t.Errorf("Diff counts %d reused; want %d", rep.Reused, reused)
			}
		})
	}
}
