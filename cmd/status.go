package cmd

import (
	"fmt"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/gate"
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
			fmt.Fprintf(s.Out, "release %s\n", st.Release)
			rows := make([]table.Row, len(st.Steps))
			for i, step := range st.Steps {
				mark := map[string]string{gate.Done: "[x]", gate.Missing: "[ ]", gate.Failed: "[!]", gate.Ignored: "[~]"}[step.State]
				detail := ""
				if step.Detail != "" {
					detail = " (" + step.Detail + ")"
				}
				rows[i] = table.Row{mark, step.Name, step.State + detail}
			}
			if err := writeTable(s.Out, "  ", []int{0, 16}, rows); err != nil {
				return err
			}
			now := s.now()
			for _, v := range st.Open {
				due := "due " + v.Due.UTC().Format("2006-01-02")
				if now.After(v.Due) {
					due = "OVERDUE since " + v.Due.UTC().Format("2006-01-02")
				}
				fmt.Fprintf(s.Out, "  open %s %s, %s: %s\n", v.Kind, v.ID, due, strings.Join(v.Rules, ", "))
			}
			for _, rb := range st.Rollbacks {
				fmt.Fprintf(s.Out, "  rollback %s\n", rollbackLine(rb))
			}
			_, err = fmt.Fprintf(s.Out, "next: %s\n", st.Next)
			return err
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

// rollbackLine is one recorded rollback: "fast succeeded (verify-failed)
// to lv-1 @ f8a8732fa267 in 0.412s: checkout, restore, restart".
func rollbackLine(rb gate.Rollback) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", rb.Strategy, rb.Status)
	if rb.Trigger != "" {
		fmt.Fprintf(&b, " (%s)", rb.Trigger)
	}
	switch {
	case rb.ToRelease != "":
		fmt.Fprintf(&b, " to %s @ %s", rb.ToRelease, shortHex(rb.ToCommit))
	case rb.Flag != "":
		fmt.Fprintf(&b, " flag %s off", rb.Flag)
	}
	fmt.Fprintf(&b, " in %.3fs", rb.DurationSeconds)
	if len(rb.Steps) > 0 {
		fmt.Fprintf(&b, ": %s", strings.Join(rb.Steps, ", "))
	}
	return b.String()
}
