package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/signals"
)

// watchOptions are the flags of `shipgate watch`.
type watchOptions struct {
	options.Step
	Signals        string
	Window         time.Duration
	Interval       time.Duration
	BaselineOffset time.Duration
	BaselineFrom   string
	AutoRollback   bool
	RollbackArgs   []string
	Webhook        string
	Output         options.Output
}

func (o *watchOptions) flags(c *cobra.Command, g *options.Globals) {
	f := c.Flags()
	o.Step.AddFlags(f, g, "who watches")
	f.StringVar(&o.Signals, "signals", "", "signals file, YAML (required)")
	f.DurationVar(&o.Window, "window", 15*time.Minute, "how long to watch")
	f.DurationVar(&o.Interval, "interval", 15*time.Second, "how often to sample")
	f.DurationVar(&o.BaselineOffset, "baseline-offset", 15*time.Minute, "read the baseline this long before the watch starts (like PromQL offset); signals with a stored baseline use it instead")
	f.StringVar(&o.BaselineFrom, "baseline-from", "", "take the baselines from the Monitoring recorded for `RELEASE`, or for the service's last completed release with "+release.LastCompleted+", instead of reading them --baseline-offset before the watch")
	f.BoolVar(&o.AutoRollback, "auto-rollback", false, "on a breach, run shipgate rollback unless a human holds the release (the policy must allow it)")
	f.StringArrayVar(&o.RollbackArgs, "rollback-arg", nil, "an argument added to the automated shipgate rollback, e.g. --rollback-arg=--dir=/srv/app (repeatable)")
	f.StringVar(&o.Webhook, "webhook", "", "URL that receives alerts as JSON (default: the signals file's alerts.webhook)")
	required(c, "release", "signals")
	o.Output.AddCIFlags(f)
}

func (o *watchOptions) run(ctx context.Context, s Streams, g *options.Globals, _ []string) error {
	set, err := project.Load(o.Signals, "signals", signals.Load)
	if err != nil {
		return err
	}
	rel, err := o.Release.Resolve()
	if err != nil {
		return err
	}
	if o.Remote.On() && o.BaselineFrom != "" {
		return release.ErrBaselineFromRemote
	}
	be, signer, rel, err := o.Open(ctx, s.Err, rel)
	if err != nil {
		return err
	}
	defer be.Close()
	out, err := release.Watch(ctx, be, release.WatchRequest{Release: rel, Env: stepEnvelope(rel, g.Actor(o.Actor)), Signer: signer,
		Signals: set, Sources: &signals.Sources{Environ: os.Environ()}, Window: o.Window, Interval: o.Interval,
		BaselineOffset: o.BaselineOffset, BaselineFrom: o.BaselineFrom, AutoRollback: o.AutoRollback, Webhook: o.Webhook,
		Rollback: func(ctx context.Context) error { return runRollback(ctx, s, g, o, rel.ID) },
		Log:      s.Err, Live: console.IsTerminal(s.Err), Now: s.now})
	var refused *release.RefusedError
	switch {
	case errors.As(err, &refused):
		return &exitError{code: ExitDeny, err: err}
	case out == nil:
		return err
	case out.Interrupted != nil:
		return &exitError{code: ExitDeny, err: fmt.Errorf("watch interrupted (%v): recorded as no data, the release is not complete", out.Interrupted)}
	}
	if werr := writeDecisionOutput(ctx, s, o.Output.Format, out.Decision, be); werr != nil {
		return werr
	}
	if err != nil {
		return fmt.Errorf("complete gate: %w", err)
	}
	if console.WatchDenied(s.Err, rel.ID, out) {
		return errDenied
	}
	return nil
}

// runRollback runs `shipgate rollback` of the release as a subprocess
// (release.RollbackCommand) with this command's configuration, store,
// policy and key flags, or its server.
func runRollback(ctx context.Context, s Streams, g *options.Globals, o *watchOptions, releaseID string) error {
	rc := release.RollbackCommand{Config: g.ConfigPath, Release: releaseID, Store: o.Store.Path, Policies: o.Policy.Dir, Data: o.Policy.DataPaths(),
		Bundle: o.Policy.Bundle, VerifyKey: o.Policy.VerifyKey, SigningKey: o.Sign.Key, TrustedKeys: o.Ev.TrustedKeys, Extra: o.RollbackArgs}
	if o.Remote.On() {
		u, tok, err := o.Remote.Endpoint()
		if err != nil {
			return err
		}
		rc.Server, rc.Token, rc.Environ = u, tok, os.Environ()
	}
	return rc.Run(ctx, s.Err)
}
