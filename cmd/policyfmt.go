package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/policyset"
)

type policyFmtOptions struct {
	Dir   string
	Check bool
}

func (o *policyFmtOptions) flags(c *cobra.Command, _ *options.Globals) {
	c.Flags().BoolVar(&o.Check, "check", false, "write nothing; list the files that need formatting and exit 1 if any")
}

func (o *policyFmtOptions) run(_ context.Context, s Streams, g *options.Globals, args []string) error {
	optionalDir(&o.Dir, args)
	dir, err := g.PolicyDir(o.Dir)
	if err != nil {
		return err
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
