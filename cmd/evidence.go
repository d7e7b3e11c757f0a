package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/release"
)

// evidenceOptions are the flags of a command that reads evidence files
// and prints what it finds (evidence validate, evidence show).
type evidenceOptions struct {
	Ev     options.Evidence
	Output options.Output
}

func (o *evidenceOptions) flags(c *cobra.Command, _ *options.Globals) {
	o.Ev.AddFlags(c.Flags())
	o.Output.AddFlags(c.Flags())
}

type evidenceValidateOptions struct{ evidenceOptions }

func (o *evidenceValidateOptions) run(_ context.Context, s Streams, _ *options.Globals, paths []string) error {
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	results, bad := release.Validate(v, paths)
	if err := console.Emit(s.Out, o.Output.Format, results, console.Validation); err != nil {
		return err
	}
	if bad > 0 {
		return &exitError{code: ExitError, err: fmt.Errorf("%d of %d evidence files or paths invalid", bad, len(results)), silent: o.Output.Format == "json"}
	}
	return nil
}

type evidenceShowOptions struct{ evidenceOptions }

func (o *evidenceShowOptions) run(_ context.Context, s Streams, _ *options.Globals, args []string) error {
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	d, err := v.LoadFile(args[0])
	if err != nil {
		return err
	}
	return console.Evidence(s.Out, o.Output.Format, d)
}
