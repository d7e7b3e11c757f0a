package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/internal/project"
)

type evidenceSignOptions struct {
	Path string
	Ev   options.Evidence
	Sign options.Signing
}

func newEvidenceSignCmd(s Streams) *cobra.Command {
	o := &evidenceSignOptions{}
	c := &cobra.Command{
		Use:  "sign FILE",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.Path = args[0]
			return evidenceSignRun(c.Context(), s, o)
		},
	}
	o.Ev.AddFlags(c.Flags())
	o.Sign.AddFlags(c.Flags())
	return c
}

func evidenceSignRun(ctx context.Context, s Streams, o *evidenceSignOptions) error {
	v, signer, err := o.Ev.ValidatorSigning(&o.Sign, s.Err)
	if err != nil {
		return err
	}
	env, err := project.SignFile(ctx, v, signer, o.Path)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.Out, "%s\n", env)
	return err
}
