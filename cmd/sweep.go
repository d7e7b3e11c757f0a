package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/gate"
)

// violationsSweepOptions are the flags of `shipgate violations sweep`.
type violationsSweepOptions struct {
	Service string
	Actor   string
	Policy  PolicyOptions
	Ev      EvidenceOptions
	Store   StoreOptions
	Output  OutputOptions
}

func newViolationsSweepCmd(s Streams, g *globals) *cobra.Command {
	o := &violationsSweepOptions{}
	c := &cobra.Command{
		Use:   "sweep",
		Short: "Open forbidden.skipped-smoke-tests for every succeeded deploy whose smoke tests no verify gate judged in time",
		Long: `Find every succeeded Deploy (evidence kind Deploy, data.status succeeded)
whose smoke tests no verify gate of its release judged between the Deploy's
finishedAt and verification.deadline later (policy data; 30m by default),
once that deadline is past; and record, for each, a decision of the
pseudo-gate "sweep" that opens a hard violation of
forbidden.skipped-smoke-tests. Until a postmortem closes it, every deploy
gate of the service denies.

A verify gate judged them when it allowed, or when its policies denied
(the checks ran and failed: that denial is a violation of its own). Dry
runs, and denials before any policy ran (no Verification, invalid
evidence, a fault), do not count.

A Deploy is swept once: its violation's id derives from the Deploy's
digest, so a second sweep (or one running at the same time elsewhere)
opens nothing more, whether the first violation is open or closed. What
is opened is recorded before it is printed. Every gate also sweeps its
release's service before deciding, and shipgate serve sweeps periodically
(--sweep-interval).

Exit codes, as a linter's: 0 nothing new was found; 1 this sweep opened a
violation (listed); 2 an error (bad policy, store down).`,
		Example: `  shipgate violations sweep
  shipgate violations sweep --service localizevideos-app -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return violationsSweepRun(c.Context(), s, g, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Service, "service", "", "sweep only this service's deploys (default: every service)")
	f.StringVar(&o.Actor, "actor", "", "who sweeps, recorded on what it opens (default: $SHIPGATE_ACTOR, $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER)")
	o.Policy.AddFlags(f, g)
	o.Ev.AddFlags(f)
	o.Store.AddFlags(f, g)
	o.Output.AddFlags(f)
	return c
}

func violationsSweepRun(ctx context.Context, s Streams, g *globals, o *violationsSweepOptions) error {
	if err := o.Output.validate(); err != nil {
		return err
	}
	gt, db, err := openGate(ctx, &o.Policy, &o.Ev, &o.Store)
	if err != nil {
		return err
	}
	defer db.Close()
	found, err := gt.Sweep(ctx, gate.SweepRequest{Service: o.Service, Actor: actor(o.Actor, g), Now: g.clock()})
	// What was recorded before an error is reported with it.
	if o.Output.Format == "json" {
		if found == nil {
			found = []gate.Skipped{}
		}
		if werr := writeJSON(s.Out, found); werr != nil && err == nil {
			err = werr
		}
	} else if werr := console.Swept(s.Out, found, err == nil); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	if len(found) > 0 {
		return &exitError{code: ExitDeny, err: errDenied, silent: true}
	}
	return nil
}
