package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/gate"
)

// gateOptions are the flags of `shipgate gate`.
type gateOptions struct {
	Gate     string
	Release  engine.Release
	Evidence []string
	Now      string
	DryRun   bool
	PrintIn  bool
	Policy   PolicyOptions
	Ev       EvidenceOptions
	Output   OutputOptions
}

func newGateCmd(s Streams) *cobra.Command {
	o := &gateOptions{}
	c := &cobra.Command{
		Use:   "gate GATE --release ID --evidence DIR|FILE...",
		Short: "Evaluate a gate (deploy, verify, complete, flag): exit 0 allow, 1 deny, 2 error",
		Long: `Evaluate a gate for one release from its evidence.

The release's service, environment and commit come from its Plan evidence
unless given with --service, --environment and --commit. Evidence bound to
another release or commit, or older than its freshness limit, does not count
and is listed in the decision.

Exit codes: 0 allow, 1 deny, 2 error (invalid evidence, bad policy).`,
		Example: `  shipgate gate deploy --release lv-2026-11-26.1 --evidence examples/localizevideos/evidence/allowed
  shipgate gate deploy --release lv-2026-11-26.1 --evidence ./evidence --output json`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.Gate = args[0]
			return gateRun(c.Context(), s, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Release.ID, "release", "", "release id (required)")
	f.StringVar(&o.Release.Service, "service", "", "service (default: from the release's Plan)")
	f.StringVar(&o.Release.Environment, "environment", "", "environment (default: from the release's Plan)")
	f.StringVar(&o.Release.Commit, "commit", "", "commit (default: from the release's Plan)")
	f.StringSliceVar(&o.Evidence, "evidence", nil, "evidence file or directory (repeatable)")
	f.StringVar(&o.Now, "now", "", "evaluation time, RFC 3339 (default: now)")
	f.BoolVar(&o.DryRun, "dry-run", false, "mark the decision as a dry run")
	f.BoolVar(&o.PrintIn, "print-input", false, "print the Rego input document (for opa eval -i) instead of deciding")
	_ = c.MarkFlagRequired("release")
	o.Policy.AddFlags(f)
	o.Ev.AddFlags(f)
	o.Output.AddFlags(f)
	return c
}

func gateRun(ctx context.Context, s Streams, o *gateOptions) error {
	if err := o.Output.validate(); err != nil {
		return err
	}
	now := time.Now()
	if o.Now != "" {
		t, err := time.Parse(time.RFC3339, o.Now)
		if err != nil {
			return fmt.Errorf("--now: want RFC 3339 such as 2026-11-26T10:05:00Z: %w", err)
		}
		now = t
	}
	if len(o.Evidence) == 0 {
		return errors.New("no evidence: give --evidence DIR|FILE")
	}
	eng, err := o.Policy.Engine(ctx)
	if err != nil {
		return err
	}
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	g := &gate.Gate{Engine: eng, Validator: v}
	req := gate.Request{Gate: o.Gate, Release: o.Release, EvidencePaths: o.Evidence, Now: now, DryRun: o.DryRun}
	if o.PrintIn {
		b, err := g.Input(req)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(s.Out, "%s\n", b)
		return err
	}
	d, err := g.Decide(ctx, req)
	if d != nil {
		if werr := writeDecision(s.Out, o.Output.Format, d); werr != nil {
			return werr
		}
	}
	switch {
	case err != nil:
		return err
	case d.Allow:
		return nil
	}
	return &exitError{code: ExitDeny, err: errDenied, silent: true}
}
