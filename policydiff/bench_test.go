package policydiff_test

import (
	"context"
	"testing"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/internal/cputime"
	"github.com/localizevideos/shipgate/internal/policytest"
	"github.com/localizevideos/shipgate/policydiff"
)

// BenchmarkDelta is a head's answer through a Delta where the changed rule
// file (freeze) answers alike: the base's decision is reused after the
// input is built and the file is evaluated on both sides. Beside it, the
// head evaluating the gate in full.
func BenchmarkDelta(b *testing.B) {
	ctx := context.Background()
	base := defaultEngine(b)
	const frozen = "frozen if input.release.environment in lib.config.freeze.environments"
	head, err := engine.Load(ctx, engine.Options{Policies: policytest.Edited(b, map[string]func(string) string{
		"shipgate/rules/freeze/freeze.rego": policytest.Replace(b, frozen, frozen+"\n\nfrozen if input.release.environment == \"staging\""),
	}), People: keys.People()})
	if err != nil {
		b.Fatal(err)
	}
	d, err := policydiff.Compare(ctx, base, head)
	if err != nil || d.Full() != "" {
		b.Fatalf("Compare() = %q, %v", d.Full(), err)
	}
	in := engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: benchCases(b)["allowed"]}
	bd, _ := base.Evaluate(ctx, in)
	b.Run("reused", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cputime.Process()
		for b.Loop() {
			if _, reused, err := d.Evaluate(ctx, in, bd); err != nil || !reused {
				b.Fatalf("Evaluate() = reused %t, %v", reused, err)
			}
		}
		cputime.Report(b, cputime.Process()-cpu)
	})
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cputime.Process()
		for b.Loop() {
			if _, err := head.Evaluate(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
		cputime.Report(b, cputime.Process()-cpu)
	})
}
