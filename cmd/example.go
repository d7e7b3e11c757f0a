package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/sample"
)

// exampleOptions are the flags of `shipgate example`.
type exampleOptions struct{ project.Sample }

func (o *exampleOptions) flags(c *cobra.Command, _ *options.Globals) {
	c.Flags().StringVar(&o.Release, "release", sample.Default.ID, "the sample release's id")
	c.Flags().StringVar(&o.Service, "service", "", "the service (default: the config's, or "+sample.Default.Service+")")
	c.Flags().StringVar(&o.Environment, "environment", "", "the environment (default: the config's, or "+sample.Default.Environment+")")
	c.Flags().BoolVar(&o.Force, "force", false, "overwrite the files of an earlier sample")
}

func (o *exampleOptions) run(ctx context.Context, s Streams, g *options.Globals, args []string) error {
	o.Dir, o.Settings = "sample", g
	optionalDir(&o.Dir, args)
	r, names, signed, err := o.Write(ctx, s.now(), s.Err)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.Out, "wrote release %s (%s/%s), dated now, to %s: %s\n%s\n",
		r.ID, r.Service, r.Environment, o.Dir, strings.Join(names, " "), signed)
	return err
}
