package cmd

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/internal/project"
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
	res, err := project.ReplayPack(ctx, pack, o.Key, o.Timeout, &o.Evidence.Evidence)
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
