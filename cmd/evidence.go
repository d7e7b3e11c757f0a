package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/release"
)

func newEvidenceCmd(s Streams, g *options.Globals) *cobra.Command {
	return group("evidence", newEvidenceAddCmd(s, g), newEvidenceValidateCmd(s), newEvidenceShowCmd(s), newEvidenceSignCmd(s))
}

type evidenceValidateOptions struct {
	Paths  []string
	Ev     options.Evidence
	Output options.Output
}

func newEvidenceValidateCmd(s Streams) *cobra.Command {
	o := &evidenceValidateOptions{}
	c := &cobra.Command{
		Use:  "validate FILE|DIR...",
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.Paths = args
			return evidenceValidateRun(s, o)
		},
	}
	o.Ev.AddFlags(c.Flags())
	o.Output.AddFlags(c.Flags())
	return c
}

func evidenceValidateRun(s Streams, o *evidenceValidateOptions) error {
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	results, bad := release.Validate(v, o.Paths)
	if err := console.Emit(s.Out, o.Output.Format, results, console.Validation); err != nil {
		return err
	}
	if bad > 0 {
		return &exitError{code: ExitError, err: fmt.Errorf("%d of %d evidence files or paths invalid", bad, len(results)), silent: o.Output.Format == "json"}
	}
	return nil
}

type evidenceShowOptions struct {
	Path   string
	Ev     options.Evidence
	Output options.Output
}

func newEvidenceShowCmd(s Streams) *cobra.Command {
	o := &evidenceShowOptions{}
	c := &cobra.Command{
		Use:  "show FILE",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.Path = args[0]
			return evidenceShowRun(s, o)
		},
	}
	o.Ev.AddFlags(c.Flags())
	o.Output.AddFlags(c.Flags())
	return c
}

func evidenceShowRun(s Streams, o *evidenceShowOptions) error {
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	d, err := v.LoadFile(o.Path)
	if err != nil {
		return err
	}
	return console.Evidence(s.Out, o.Output.Format, d)
}
