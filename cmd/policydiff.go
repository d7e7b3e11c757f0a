package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/internal/timespec"
	"github.com/localizevideos/shipgate/replay"
)

// policyDiffOptions are the flags of `shipgate policy diff`.
type policyDiffOptions struct {
	Change  options.Change
	Since   timespec.Value
	Service string
	Output  string
	Accept  bool
	Timeout time.Duration
	NoCache bool
	Store   options.Store
}

func (o *policyDiffOptions) flags(c *cobra.Command, g *options.Globals) {
	f := c.Flags()
	o.Change.AddFlags(f, g)
	o.Store.AddFlags(f, g)
	timespec.Var(f, &o.Since, "since", "replay only decisions evaluated at or after this time (default: the whole ledger): "+timespec.Help)
	options.NameVar(f, &o.Service, "service", "", "replay only this service's decisions")
	f.StringVarP(&o.Output, "output", "o", "text", "output format: text, json or markdown (for a pull request)")
	f.BoolVar(&o.Accept, "accept", false, "exit 0 even when past allows become denials (the change is meant to tighten)")
	options.EvalTimeoutVar(f, &o.Timeout)
	f.BoolVar(&o.NoCache, "no-cache", false, "evaluate every decision on both sides: no recorded decision is reused, and the head does not reuse the base's")
}

func (o *policyDiffOptions) run(ctx context.Context, s Streams, _ *options.Globals, _ []string) error {
	switch o.Output {
	case "text", "json", "markdown":
	default:
		return fmt.Errorf("--output %q: want text, json or markdown", o.Output)
	}
	since, err := o.Since.Time(s.now())
	if err != nil {
		return err
	}
	sd, err := o.Change.Resolve()
	if err != nil {
		return err
	}
	var bar *progressbar.ProgressBar
	rep, err := project.PolicyDiff(ctx, sd, &o.Store.Store, o.Timeout, replay.Options{Since: since, Service: o.Service,
		GCPercent: replay.TunedGCPercent, NoCache: o.NoCache, Progress: func() { _ = bar.Add(1) }},
		func(total int) { bar = console.Progress(s.Err, total, "replaying decisions") })
	if err != nil {
		return err
	}
	_ = bar.Finish()
	if err := rep.Write(s.Out, o.Output); err != nil {
		return err
	}
	if n := len(rep.Blocking()); n > 0 && !o.Accept {
		return &exitError{code: ExitDeny, err: fmt.Errorf("%d past allowed decisions would be denied by %s; review them, or pass --accept", n, sd.HeadLabel)}
	}
	return nil
}

// policyReviewOptions are the flags of `shipgate policy review`.
type policyReviewOptions struct {
	Change options.Change
	Output options.Output
}

func (o *policyReviewOptions) flags(c *cobra.Command, g *options.Globals) {
	o.Change.AddFlags(c.Flags(), g)
	o.Output.AddFlags(c.Flags())
}

func (o *policyReviewOptions) run(_ context.Context, s Streams, _ *options.Globals, _ []string) error {
	sd, err := o.Change.Resolve()
	if err != nil {
		return err
	}
	switch {
	case sd.Repo == nil:
		return fmt.Errorf("--base %s: review needs a git revision, not a directory", o.Change.Base)
	case sd.Docs == "":
		return errors.New("no release document: set docs: in shipgate.yaml, or give --docs")
	}
	doc, err := sd.Ownership()
	if err != nil {
		return err
	}
	if err := console.Print(s.Out, o.Output.Format, doc, func(w io.Writer) error { return doc.WriteText(w, sd.Rev) }); err != nil {
		return err
	}
	if doc.Missing() {
		return &exitError{code: ExitDeny, err: fmt.Errorf("rollout data changed since %s without %s", sd.Rev, sd.Docs)}
	}
	return nil
}
