package cmd

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/rollback"
)

// rollbackOptions are the flags of `shipgate rollback`.
type rollbackOptions struct {
	options.Step
	Rollback options.Rollback
}

func (o *rollbackOptions) flags(c *cobra.Command, g *options.Globals) {
	f := c.Flags()
	o.Step.AddFlags(f, g, "who rolls back")
	required(c, "release")
	o.Rollback.AddFlags(f, g)
	f.BoolVar(&o.Rollback.Emergency, "emergency", false, "emergency rollback: turn --flag off and restart, instead of going back to the last verified commit")
	f.StringVar(&o.Rollback.Flag, "flag", "", "the feature flag an emergency rollback turns off")
	f.StringVar(&o.Rollback.FlagsFile, "flags-file", "", "the app's JSON flags file (default: DIR/flags.json)")
	f.StringVar(&o.Rollback.Trigger, "trigger", rollback.TriggerManual, "what asked for the rollback: manual, verify-failed or watch")
	f.StringVar(&o.Rollback.Reason, "reason", "", "why, in a sentence (recorded)")
}

func (o *rollbackOptions) run(ctx context.Context, s Streams, g *options.Globals, _ []string) error {
	if err := o.Rollback.Validate(); err != nil {
		return err
	}
	rel, err := o.Release.Resolve()
	if err != nil {
		return err
	}
	b, signer, rel, err := o.Open(ctx, s.Err, rel)
	if err != nil {
		return err
	}
	defer b.Close()
	return doRollback(ctx, s, b, signer, rel, &o.Rollback, g.Actor(o.Actor))
}

// doRollback rolls rel back as o says and records it in b, signed by
// signer when it is not nil (release.Rollback), and reports it.
func doRollback(ctx context.Context, s Streams, b release.Backend, signer *evidence.Signer, rel engine.Release, o *options.Rollback, who string) error {
	out, err := release.Rollback(ctx, b, release.RollbackRequest{Release: rel, Emergency: o.Emergency, Flag: o.Flag, FlagsFile: o.FlagsFile,
		Trigger: o.Trigger, Reason: o.Reason, Build: strings.Fields(o.Build), Dir: o.Dir, MainBranches: o.MainBranches,
		Artifacts: o.Artifacts.Store, Rebuild: o.Artifacts.Off, OutputPaths: o.Artifacts.OutputPaths,
		Env: envelope(who), Signer: signer, Log: s.Err, Now: s.now})
	if err != nil {
		return err // exit 2: nothing ran, or what ran could not be recorded
	}
	// The exit code stays the rollback's, even if the output fails.
	_ = console.RolledBack(s.Err, s.Out, rel.ID, out)
	if out.Result.Err == nil {
		return nil
	}
	return &exitError{code: ExitDeny, err: out.Result.Err, silent: true}
}
