package cmd

import (
	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/format/console"
)

type statusOptions struct {
	Release string
	Ev      EvidenceOptions
	Store   StoreOptions
	Remote  RemoteOptions
	Output  OutputOptions
}

func newStatusCmd(s Streams, g *globals) *cobra.Command {
	o := &statusOptions{}
	c := &cobra.Command{
		Use:   "status --release ID",
		Short: "The release's checklist: each step done, missing or failed, open violations, and the next command",
		Example: `  shipgate status --release lv-2026-11-26.1
  shipgate status --release lv-2026-11-26.1 -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.Output.validate(); err != nil {
				return err
			}
			b, err := o.Remote.backend(c.Context(), &o.Store, backendOptions{Ev: &o.Ev, LocalEv: true, ReadOnly: true})
			if err != nil {
				return err
			}
			defer b.Close()
			st, err := b.Status(c.Context(), o.Release)
			if err != nil {
				return err
			}
			if o.Output.Format == "json" {
				return writeJSON(s.Out, st)
			}
			return console.Status(s.Out, st, s.now())
		},
	}
	nameVar(c.Flags(), &o.Release, "release", "", "release id (required)")
	_ = c.MarkFlagRequired("release")
	o.Ev.AddFlags(c.Flags())
	o.Store.AddFlags(c.Flags(), g)
	o.Remote.AddFlags(c.Flags(), g)
	o.Output.AddFlags(c.Flags())
	return c
}
