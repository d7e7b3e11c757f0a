package cmd

import (
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

func newStatusCmd(s Streams, g *options.Globals) *cobra.Command {
	o := &statusOptions{}
	c := &cobra.Command{
		Use:  "status --release ID",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			b, err := o.Ledger.Open(c.Context(), options.BackendOptions{Ev: &o.Ev, LocalEv: true, ReadOnly: true})
			if err != nil {
				return err
			}
			defer b.Close()
			st, err := b.Status(c.Context(), o.Release)
			if err != nil {
				return err
			}
			return console.Emit(s.Out, o.Output.Format, st, func(w io.Writer, st *gate.ReleaseStatus) error { return console.Status(w, st, s.now()) })
		},
	}
	options.NameVar(c.Flags(), &o.Release, "release", "", "release id (required)")
	_ = c.MarkFlagRequired("release")
	o.Ev.AddFlags(c.Flags())
	o.Ledger.AddFlags(c.Flags(), g)
	return c
}
