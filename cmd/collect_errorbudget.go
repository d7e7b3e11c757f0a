package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/signals"
)

// errorBudgetOptions are the flags of `shipgate collect error-budget`.
type errorBudgetOptions struct {
	options.Record
	SLO   string
	Actor string
}

func (o *errorBudgetOptions) flags(c *cobra.Command, g *options.Globals) {
	o.Record.AddFlags(c.Flags(), g)
	f := c.Flags()
	f.StringVar(&o.SLO, "slo", "", "SLO file, YAML (required)")
	options.ActorVar(f, &o.Actor, "who measures")
	required(c, "release", "slo")
}

func (o *errorBudgetOptions) run(ctx context.Context, s Streams, g *options.Globals, _ []string) error {
	slo, err := project.Load(o.SLO, "SLO", signals.LoadSLO)
	if err != nil {
		return err
	}
	r, db, err := o.Open(ctx, s.Err, Version)
	if err != nil {
		return err
	}
	defer db.Close()
	budget, doc, err := r.ErrorBudget(ctx, slo, g.Actor(o.Actor))
	if err != nil {
		return err
	}
	if console.ErrorBudget(s.Out, s.Err, budget, doc) {
		return errDenied
	}
	return nil
}
