package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/internal/project"
)

type auditVerifyOptions struct {
	Checkpoint string
	PublicKey  string
	Store      options.Store
	Output     options.Output
}

func (o *auditVerifyOptions) flags(c *cobra.Command, g *options.Globals) {
	c.Flags().StringVar(&o.Checkpoint, "checkpoint", "", "signed checkpoint file to check the ledger against")
	c.Flags().StringVar(&o.PublicKey, "public-key", "", "checkpoint public key (default: the config's, or "+project.CheckpointPublicKey+")")
	o.Store.AddFlags(c.Flags(), g)
	o.Output.AddFlags(c.Flags())
}

func (o *auditVerifyOptions) run(ctx context.Context, s Streams, g *options.Globals, _ []string) error {
	cp, _, err := g.ReadCheckpoint(o.Checkpoint, o.PublicKey)
	if err != nil {
		return err
	}
	db, err := o.Store.OpenReadOnly(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := auditpack.VerifyLedger(ctx, db, cp)
	if werr := console.Print(s.Out, o.Output.Format, res, res.WriteText); werr != nil {
		return werr
	}
	return ledgerExit(err)
}

type auditCheckpointOptions struct {
	Out   string
	Key   string
	Store options.Store
}

func (o *auditCheckpointOptions) flags(c *cobra.Command, g *options.Globals) {
	c.Flags().StringVar(&o.Out, "out", "", "write the checkpoint to FILE instead of stdout")
	c.Flags().StringVar(&o.Key, "key", "", "private key (default: the config's, or "+project.CheckpointKey+")")
	o.Store.AddFlags(c.Flags(), g)
}

func (o *auditCheckpointOptions) run(ctx context.Context, s Streams, g *options.Globals, _ []string) error {
	key, err := g.CheckpointSigner(o.Key)
	if err != nil {
		return err
	}
	db, err := o.Store.OpenReadOnly(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	cp, err := o.Store.SignHead(ctx, db, key, "sign")
	if err != nil {
		return ledgerExit(err)
	}
	return writeJSON(s, o.Out, "checkpoint", cp, fmt.Sprintf("checkpoint of %d entries written to %s", cp.Size, o.Out))
}
