package replay_test

import (
	"context"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/replay"
)

func TestZZSameAsOld(t *testing.T) {
	ctx := context.Background()
	old, err := engine.Load(ctx, engine.Options{Policies: os.DirFS("/tmp/oldpol/policies")})
	if err != nil {
		t.Fatal(err)
	}
	eng := load(t, nil)
	if old.Revision() == eng.Revision() {
		t.Fatal("same revision")
	}
	for _, n := range []int{90, 300} {
		db, steps := history(t, old, n)
		res, err := replay.Replay(ctx, db, eng, replay.Options{Validator: validator(t), NoCache: true})
		if err != nil {
			t.Fatal(err)
		}
		nobl := 0
		for i, r := range res {
			if len(steps[i].Decision.Obligations) > 0 {
				nobl++
			}
			if diff := cmp.Diff(steps[i].Decision, r.Decision, cmpopts.IgnoreFields(engine.Decision{}, "Opened", "Policy")); diff != "" {
				t.Errorf("%d: %s", i, diff)
			}
		}
		t.Logf("%d decisions identical, %d with obligations", len(res), nobl)
	}
}
