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
	Key      string
	Timeout  time.Duration
	Evidence options.Evidence
	Output   options.Output
}

func (o *auditReplayOptions) flags(c *cobra.Command, _ *options.Globals) {
	f := c.Flags()
	f.StringVar(&o.Key, "key", "", "PEM public key the pack's checkpoint must be signed with (default: the pack's own checkpoint.pub, reported as not pinned)")
	options.EvalTimeoutVar(f, &o.Timeout)
	o.Evidence.AddFlags(f)
	o.Output.AddFlags(f)
}

func (o *auditReplayOptions) run(ctx context.Context, s Streams, _ *options.Globals, args []string) error {
	pack := args[0]
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
	res, err := auditpack.CheckFile(ctx, pack, opts)
	if err != nil {
		return err
	}
	if err := console.Print(s.Out, o.Output.Format, res, func(w io.Writer) error { return res.WriteText(w, pack) }); err != nil {
		return err
	}
	if !res.OK {
		return &exitError{code: ExitDeny, silent: true, err: errors.New("the pack does not replay clean")}
	}
	return nil
}
