package cmd

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/sample"
)

type exampleOptions struct {
	Dir         string
	Release     string
	Service     string
	Environment string
	Force       bool
}

func (o *exampleOptions) flags(c *cobra.Command, _ *options.Globals) {
	c.Flags().StringVar(&o.Release, "release", sample.Default.ID, "the sample release's id")
	c.Flags().StringVar(&o.Service, "service", "", "the service (default: the config's, or "+sample.Default.Service+")")
	c.Flags().StringVar(&o.Environment, "environment", "", "the environment (default: the config's, or "+sample.Default.Environment+")")
	c.Flags().BoolVar(&o.Force, "force", false, "overwrite the files of an earlier sample")
}

func (o *exampleOptions) run(ctx context.Context, s Streams, g *options.Globals, args []string) error {
	o.Dir = "sample"
	optionalDir(&o.Dir, args)
	cfg, err := g.Config()
	if err != nil {
		return err
	}
	r := sample.Default
	r.ID = o.Release
	r.Service = cmp.Or(o.Service, cfg.Service, r.Service)
	r.Environment = cmp.Or(o.Environment, cfg.Environment, r.Environment)
	names, docs, err := sample.Files(r, s.now())
	if err != nil {
		return err
	}
	signed := "unsigned, as written outside a project (shipgate init): the Build, the deploy request and the approval do not count until signed"
	if g.HasConfig() {
		signer, err := (&options.Signing{}).Signer(s.Err)
		if err != nil {
			return err
		}
		if signed, err = project.SignSample(ctx, signer, cfg.People, docs); err != nil {
			return err
		}
	}
	if err := sample.Write(o.Dir, names, docs, o.Force); err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.Out, "wrote release %s (%s/%s), dated now, to %s: %s\n%s\n",
		r.ID, r.Service, r.Environment, o.Dir, strings.Join(names, " "), signed)
	return err
}
