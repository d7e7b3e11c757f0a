package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/regotest"
)

type policyTestOptions struct {
	Policy      options.Policy
	Output      options.Output
	Verbose     bool
	MinCoverage float64
}

func (o *policyTestOptions) flags(c *cobra.Command, _ *options.Globals) {
	c.Flags().StringVar(&o.Policy.Dir, "policies", "", "policy directory (default: the embedded policy set)")
	c.Flags().StringVar(&o.Policy.DataFile, "data", "", "policy data file replacing data.shipgate.config")
	c.Flags().BoolVarP(&o.Verbose, "verbose", "v", false, "list every test")
	c.Flags().Float64Var(&o.MinCoverage, "min-coverage", 0, "fail below this coverage percentage of the policy modules")
	o.Output.AddCIFlags(c.Flags())
}

func (o *policyTestOptions) run(ctx context.Context, s Streams, _ *options.Globals, args []string) error {
	optionalDir(&o.Policy.Dir, args)
	data, files, err := o.Policy.Data()
	if err != nil {
		return err
	}
	rep, err := regotest.Run(ctx, regotest.Options{Policies: o.Policy.Source(), Data: data, DataFiles: files})
	if err != nil {
		return err
	}
	switch o.Output.Format {
	case "json":
		if err := console.JSON(s.Out, rep); err != nil {
			return err
		}
	case "junit", "sarif", "github":
		if err := writeTestReport(s, o.Output.Format, o.Policy.Dir, rep); err != nil {
			return err
		}
	default:
		if err := console.TestReport(s.Out, rep, o.Verbose); err != nil {
			return err
		}
	}
	return rep.Check(o.MinCoverage)
}

type policyCheckOptions struct {
	Policy options.Policy
}

func (o *policyCheckOptions) flags(c *cobra.Command, g *options.Globals) {
	o.Policy.AddFlags(c.Flags(), g)
}

func (o *policyCheckOptions) run(ctx context.Context, s Streams, _ *options.Globals, args []string) error {
	optionalDir(&o.Policy.Dir, args)
	eng, err := o.Policy.Engine(ctx)
	if err != nil {
		return err
	}
	src, rev := o.Policy.Describe(), eng.Revision()
	if b := eng.BundleRevision(); b != "" {
		rev += ", bundle revision " + b
	}
	_, err = fmt.Fprintf(s.Out, "ok %s: revision %s\n", src, rev)
	return err
}
