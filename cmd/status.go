package cmd

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/gate"
)

type statusOptions struct {
	options.Ledger
	Release string
	Ev      options.Evidence
}

func (o *statusOptions) flags(c *cobra.Command, g *options.Globals) {
	options.NameVar(c.Flags(), &o.Release, "release", "", "release id (required)")
	required(c, "release")
	o.Ev.AddFlags(c.Flags())
	o.Ledger.AddFlags(c.Flags(), g)
}

func (o *statusOptions) run(ctx context.Context, s Streams, _ *options.Globals, _ []string) error {
	b, err := o.Ledger.Open(ctx, options.BackendOptions{Validator: o.Ev.Validator, LocalEv: true, ReadOnly: true})
	if err != nil {
		return err
	}
	defer b.Close()
	st, err := b.Status(ctx, o.Release)
	if err != nil {
		return err
	}
	return console.Emit(s.Out, o.Output.Format, st, func(w io.Writer, st *gate.ReleaseStatus) error { return console.Status(w, st, s.now()) })
}
