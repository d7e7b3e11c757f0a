package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/internal/project"
)

type initOptions struct{ project.InitOptions }

func (o *initOptions) flags(c *cobra.Command, _ *options.Globals) {
	options.NameVar(c.Flags(), &o.Service, "service", "", "the service this repository releases")
	options.NameVar(c.Flags(), &o.Environment, "environment", "production", "the environment it releases to")
	c.Flags().StringSliceVar(&o.Approvers, "approver", nil, "make a signing key for this approver and bind it to them in shipgate.yaml (repeatable)")
	c.Flags().BoolVar(&o.Force, "force", false, "overwrite an existing configuration and keys")
	c.Flags().StringVar(&o.KeyDir, "key-dir", "", "write the checkpoint key pair to DIR (default: "+project.KeyDir+"); shipgate.yaml names it")
}

// run writes the keys and shipgate.yaml, and makes the ledger.
func (o *initOptions) run(ctx context.Context, s Streams, g *options.Globals, _ []string) error {
	o.Config = g.ConfigPath
	done, err := project.Init(o.InitOptions)
	if err != nil {
		return err
	}
	var approvers string
	if len(o.Approvers) > 0 {
		approvers = fmt.Sprintf(", and a signing key for %s", strings.Join(o.Approvers, ", "))
	}
	if _, err := fmt.Fprintf(s.Out, "wrote %s, %s, %s and %s, the evidence signing key %s%s\n",
		done.Config, project.DefaultStore, done.CheckpointKey, done.CheckpointPublicKey, project.EvidenceKey, approvers); err != nil {
		return err
	}
	db, err := project.OpenStore(ctx, project.DefaultStore)
	if err != nil {
		return err
	}
	return db.Close()
}
