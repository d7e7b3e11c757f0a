package cmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/internal/timespec"
)

// Export formats: OPA's decision log events, and the auditor's replay pack.
const (
	FormatOPADecisionLog = "opa-decision-log"
	FormatPack           = "pack"
)

// auditExportOptions are the flags of `shipgate audit export`.
type auditExportOptions struct {
	Format  string
	Since   timespec.Value
	Release string
	Out     string
	Store   options.Store
	// Pack only: the policy sets decisions were made under, and the
	// checkpoint the pack is proved against.
	Policy      options.Policy
	WithBundles []string
	Checkpoint  string
	PublicKey   string
	Key         string
	TrustedKeys []string
}

func (o *auditExportOptions) flags(c *cobra.Command, g *options.Globals) {
	f := c.Flags()
	f.StringVar(&o.Format, "format", "", "export format: "+FormatOPADecisionLog+" or "+FormatPack+" (required)")
	timespec.Var(f, &o.Since, "since", "only decisions evaluated at or after this time: "+timespec.Help)
	options.NameVar(f, &o.Release, "release", "", "only the decisions about this release")
	f.StringVar(&o.Out, "out", "", "write to FILE instead of stdout (required for a pack)")
	required(c, "format")
	o.Store.AddFlags(f, g)
	o.Policy.AddFlags(f, g)
	f.StringArrayVar(&o.WithBundles, "with-bundle", nil, "pack: an OPA bundle of an older policy set some decisions were made under (repeatable; checked with --verify-key when given)")
	f.StringVar(&o.Checkpoint, "checkpoint", "", "pack: a signed checkpoint (shipgate audit checkpoint) to prove the pack against, instead of signing one now")
	f.StringVar(&o.PublicKey, "public-key", "", "pack: the --checkpoint's public key (default: the config's, or "+project.CheckpointPublicKey+")")
	f.StringVar(&o.Key, "key", "", "pack: private key to sign a checkpoint of the ledger's head with (default: the config's, or "+project.CheckpointKey+")")
	f.StringSliceVar(&o.TrustedKeys, "trusted-key", nil, "pack: PEM ed25519 public key trusted to sign evidence, as the gate trusted it; the pack carries the key of each signer of its evidence (or a directory of them; repeatable; default: every *.pub in "+project.KeyDir+")")
}

func (o *auditExportOptions) run(ctx context.Context, s Streams, _ *options.Globals, _ []string) error {
	if o.Format != FormatOPADecisionLog && o.Format != FormatPack {
		return fmt.Errorf("--format %q: want %s or %s", o.Format, FormatOPADecisionLog, FormatPack)
	}
	since, err := o.Since.Time(s.now())
	if err != nil {
		return err
	}
	if o.Format == FormatPack {
		return auditPackRun(ctx, s, o, since)
	}
	db, err := o.Store.OpenReadOnly(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	ds, err := db.Decisions(ctx, o.Release)
	if err != nil {
		return err
	}
	var n int
	return writeOut(s, o.Out, func(w io.Writer) (err error) {
		n, err = auditpack.WriteDecisionLog(w, ds, since, Version)
		return err
	}, func() string { return fmt.Sprintf("%d decisions written to %s", n, o.Out) })
}

// auditPackRun writes the replay pack (project.AuditPack.Export) and says
// what it holds.
func auditPackRun(ctx context.Context, s Streams, o *auditExportOptions, since time.Time) error {
	if o.Out == "" {
		return fmt.Errorf("--format %s writes an archive: give --out PACK.tar.gz", FormatPack)
	}
	sum, cp, err := project.AuditPack{Out: o.Out, Release: o.Release, Since: since, Created: s.now(), Policy: &o.Policy.Policy, WithBundles: o.WithBundles,
		CheckpointFile: o.Checkpoint, PublicKey: o.PublicKey, Key: o.Key, TrustedKeys: o.TrustedKeys, Store: &o.Store.Store}.Export(ctx)
	if err != nil {
		return ledgerExit(err)
	}
	return sum.WriteText(s.Out, s.Err, o.Out, cp.KeyID)
}
