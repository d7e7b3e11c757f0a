package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/internal/project"
)

type evidenceSignOptions struct {
	Ev   options.Evidence
	Sign options.Signing
}

func (o *evidenceSignOptions) flags(c *cobra.Command, _ *options.Globals) {
	o.Ev.AddFlags(c.Flags())
	o.Sign.AddFlags(c.Flags())
}

func (o *evidenceSignOptions) run(ctx context.Context, s Streams, _ *options.Globals, args []string) error {
	v, signer, err := o.Ev.ValidatorSigning(&o.Sign.Signing, s.Err)
	if err != nil {
		return err
	}
	env, err := project.SignFile(ctx, v, signer, args[0])
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.Out, "%s\n", env)
	return err
}
