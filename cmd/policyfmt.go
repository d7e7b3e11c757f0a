package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/policyset"
)

type policyFmtOptions struct {
	Dir   string
	Check bool
	g     *options.Globals
}

func newPolicyFmtCmd(s Streams, g *options.Globals) *cobra.Command {
	o := &policyFmtOptions{g: g}
	c := &cobra.Command{
		Use:  "fmt [DIR] [--check]",
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Dir = args[0]
			}
			return policyFmtRun(s, o)
		},
	}
	c.Flags().BoolVar(&o.Check, "check", false, "write nothing; list the files that need formatting and exit 1 if any")
	return c
}

func policyFmtRun(s Streams, o *policyFmtOptions) error {
	dir := o.Dir
	if dir == "" {
		cfg, err := o.g.Config()
		if err != nil {
			return err
		}
		if dir = cfg.Policies; dir == "" {
			dir = "policies"
		}
	}
	changed, err := policyset.Format(dir, o.Check)
	if err != nil {
		return err
	}
	for _, p := range changed {
		if _, err := fmt.Fprintln(s.Out, p); err != nil {
			return err
		}
	}
	if o.Check && len(changed) > 0 {
		return &exitError{code: ExitDeny, err: fmt.Errorf("%d policy files need formatting: run shipgate policy fmt %s", len(changed), dir)}
	}
	return nil
}
