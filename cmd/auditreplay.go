package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/internal/inputfile"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/ledger"
)

// auditReplayOptions are the flags of `shipgate audit replay`.
type auditReplayOptions struct {
	Pack     string
	Key      string
	Timeout  time.Duration
	Evidence options.Evidence
	Output   options.Output
}

func newAuditReplayCmd(s Streams, _ *options.Globals) *cobra.Command {
	o := &auditReplayOptions{}
	c := &cobra.Command{
		Use:  "replay PACK.tar.gz [--key PUBKEY] [-o text|json]",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.Pack = args[0]
			return auditReplayRun(c.Context(), s, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Key, "key", "", "PEM public key the pack's checkpoint must be signed with (default: the pack's own checkpoint.pub, reported as not pinned)")
	options.EvalTimeoutVar(f, &o.Timeout)
	o.Evidence.AddFlags(f)
	o.Output.AddFlags(f)
	return c
}

func auditReplayRun(ctx context.Context, s Streams, o *auditReplayOptions) error {
	opts := auditpack.Options{Timeout: o.Timeout}
	if o.Key != "" {
		b, err := inputfile.Read(o.Key, options.MaxKeyBytes)
		if err != nil {
			return fmt.Errorf("read key: %w", err)
		}
		if opts.PublicKey, err = ledger.ParsePublicKey(b); err != nil {
			return fmt.Errorf("%s: %w", o.Key, err)
		}
	}
	v, err := o.Evidence.Validator()
	if err != nil {
		return err
	}
	opts.Validator = v
	// Keys given pin the evidence signers; without, the pack's own.
	if len(o.Evidence.TrustedKeys) > 0 {
		if opts.EvidenceKeys, err = project.Keyring(o.Evidence.TrustedKeys); err != nil {
			return err
		}
	}
	res, err := auditpack.CheckFile(ctx, o.Pack, opts)
	if err != nil {
		return err
	}
	if err := console.Print(s.Out, o.Output.Format, res, func(w io.Writer) error { return res.WriteText(w, o.Pack) }); err != nil {
		return err
	}
	if !res.OK {
		return &exitError{code: ExitDeny, silent: true, err: errors.New("the pack does not replay clean")}
	}
	return nil
}
