package cmd

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/collect/pm2"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/reconcile"
	"github.com/localizevideos/shipgate/release"
)

// reconcileOptions are the flags of `shipgate reconcile pm2`.
type reconcileOptions struct {
	Release      options.Release
	App          string
	PM2          string
	PM2Home      string
	Dir          string
	MainBranches []string
	Tolerance    time.Duration
	Actor        string
	// Artifacts gives the configured build output (artifacts.paths).
	Artifacts options.Artifacts
	Policy    options.Policy
	Store     options.Store
	Output    options.Output
}

func (o *reconcileOptions) flags(c *cobra.Command, g *options.Globals) {
	o.Artifacts.Use(g)
	f := c.Flags()
	o.Release.AddFlags(f, g)
	f.Lookup("release").Usage = "release to hold findings against (default: the release of the last deploy or rollback)"
	f.StringVar(&o.App, "app", "", "the pm2 app name (default: the service)")
	f.StringVar(&o.PM2, "pm2", "pm2", "the pm2 executable, e.g. the app's node_modules/.bin/pm2")
	f.StringVar(&o.PM2Home, "pm2-home", "", "PM2_HOME of the daemon (default: $PM2_HOME, else ~/.pm2); its daemon must be running")
	f.StringVar(&o.Dir, "dir", "", "the directory whose git state and build output count (default: the process's working directory, from pm2)")
	options.MainBranchVar(f, &o.MainBranches)
	f.DurationVar(&o.Tolerance, "tolerance", reconcile.DefaultTolerance, "how far outside a recorded deploy or rollback a process start may fall")
	options.ActorVar(f, &o.Actor, "who reconciles")
	o.Policy.AddFlags(f, g)
	o.Store.AddFlags(f, g)
	o.Output.AddFlags(f)
}

func (o *reconcileOptions) run(ctx context.Context, s Streams, g *options.Globals, _ []string) error {
	rel, err := o.Release.Resolve()
	if err != nil {
		return err
	}
	if rel.Service == "" || rel.Environment == "" {
		return fmt.Errorf("reconcile: give --service and --environment (or set them in %s)", options.ConfigFile)
	}
	app := cmp.Or(o.App, rel.Service)
	eng, err := o.Policy.Engine(ctx)
	if err != nil {
		return err
	}
	output, err := o.Artifacts.OutputPaths()
	if err != nil {
		return err
	}
	r, err := release.ReconcilePM2(ctx, o.Store.Open, release.PM2Request{PM2: &pm2.Client{Bin: o.PM2, Home: release.PM2Home(o.PM2Home, g.Env)}, App: app, Dir: o.Dir, MainBranches: o.MainBranches,
		Request: reconcile.Request{Service: rel.Service, Environment: rel.Environment, Output: output, Release: rel.ID, Actor: g.Actor(o.Actor),
			Now: g.Clock(), Tolerance: o.Tolerance, PostmortemDue: eng.PostmortemDue(), NewID: g.NewID}})
	if err != nil {
		return err
	}
	if err := console.Print(s.Out, o.Output.Format, r.Record, func(w io.Writer) error { return console.Reconciled(w, app, rel, r) }); err != nil {
		return err
	}
	if !r.Record.Allow {
		return errDenied
	}
	return nil
}
