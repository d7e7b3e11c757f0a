package cmd

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/internal/project"
)

// violationsSweepOptions are the flags of `shipgate violations sweep`.
type violationsSweepOptions struct {
	Service string
	Actor   string
	Policy  options.Policy
	Ev      options.Evidence
	Store   options.Store
	Output  options.Output
}

func (o *violationsSweepOptions) flags(c *cobra.Command, g *options.Globals) {
	f := c.Flags()
	f.StringVar(&o.Service, "service", "", "sweep only this service's deploys (default: every service)")
	f.StringVar(&o.Actor, "actor", "", "who sweeps, recorded on what it opens"+options.ActorHelp)
	o.Policy.AddFlags(f, g)
	o.Ev.AddFlags(f)
	o.Store.AddFlags(f, g)
	o.Output.AddFlags(f)
}

func (o *violationsSweepOptions) run(ctx context.Context, s Streams, g *options.Globals, _ []string) error {
	l, err := project.OpenLocal(ctx, &o.Store.Store, options.BackendOptions{Engine: o.Policy.Engine, Validator: o.Ev.Validator})
	if err != nil {
		return err
	}
	defer l.Close()
	found, err := l.Gate.Sweep(ctx, gate.SweepRequest{Service: o.Service, Actor: g.Actor(o.Actor), Now: g.Clock()})
	// What was recorded before an error is reported with it.
	if found == nil {
		found = []gate.Skipped{} // [] in JSON
	}
	if werr := console.Print(s.Out, o.Output.Format, found, func(w io.Writer) error { return console.Swept(w, found, err == nil) }); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	if len(found) > 0 {
		return errDenied
	}
	return nil
}
