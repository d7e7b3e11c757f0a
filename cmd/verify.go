package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/rollback"
)

// verifyOptions are the flags of `shipgate verify`.
type verifyOptions struct {
	options.Step
	Checks options.Checks
	Output options.Output
	// RollbackOnFail runs the fast rollback (Rollback) when the gate denies.
	RollbackOnFail bool
	Rollback       options.Rollback
}

func (o *verifyOptions) flags(c *cobra.Command, g *options.Globals) {
	f := c.Flags()
	o.Step.AddFlags(f, g, "who verifies")
	o.Checks.AddFlags(f)
	required(c, "release", "checks")
	o.Output.AddCIFlags(f)
	f.BoolVar(&o.RollbackOnFail, "rollback-on-fail", false, "when the verify gate denies, roll back to the last verified release at once (see shipgate rollback)")
	o.Rollback.AddFlags(f, g)
}

func (o *verifyOptions) run(ctx context.Context, s Streams, g *options.Globals, _ []string) error {
	suite, err := o.Checks.Load()
	if err != nil {
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
	env := stepEnvelope(rel, g.Actor(o.Actor))
	out, err := release.Verify(ctx, b, release.VerifyRequest{Release: rel, Env: env, Signer: signer, Suite: suite, Log: s.Err, Now: s.now})
	if out == nil {
		return err
	}
	d := out.Decision
	if werr := writeDecisionOutput(ctx, s, o.Output.Format, d, b); werr != nil {
		return werr
	}
	switch {
	case o.RollbackOnFail && (err != nil || !d.Allow):
		// A verify that could not allow is not a verified release either:
		// restore the last verified one first, then report.
		fmt.Fprintf(s.Err, "shipgate: verify did not allow: rolling back now (--rollback-on-fail)\n")
		o.Rollback.Trigger = rollback.TriggerVerifyFailed
		o.Rollback.Reason = "verify gate did not allow"
		if d != nil {
			o.Rollback.Reason = fmt.Sprintf("verify gate denied in %s", d.ID)
		}
		// stdout holds the decision in the chosen format: the rollback
		// reports on stderr.
		se := s
		se.Out = s.Err
		rerr := doRollback(ctx, se, b, signer, rel, &o.Rollback, env.Actor)
		switch {
		case err != nil:
			return fmt.Errorf("verify gate: %w; rolled back: %v", err, rerr == nil)
		case rerr != nil && ExitCode(rerr) == ExitDeny:
			return &exitError{code: ExitError, err: fmt.Errorf("verify denied and the rollback failed: %w", rerr)}
		case rerr != nil:
			return rerr
		}
		return errDenied
	case err != nil:
		return fmt.Errorf("verify gate: %w; rollback required until it allows", err)
	case !d.Allow:
		fmt.Fprintf(s.Err, "shipgate: verify denied: rollback required\n")
		return errDenied
	}
	return nil
}
