package cmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/internal/timespec"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/replay"
)

// ChangeOptions name the two sides of a policy change: a base (a directory
// or a git revision of the policy folder) and a head directory.
type ChangeOptions struct {
	Base string
	Head string
	Docs string
	g    *globals
}

// AddFlags binds the options to fs.
func (o *ChangeOptions) AddFlags(fs *pflag.FlagSet, g *globals) {
	o.g = g
	fs.StringVar(&o.Base, "base", "", "the policies before the change: a directory, or a git revision (branch, tag, commit, HEAD~1) of the head's folder (required)")
	fs.StringVar(&o.Head, "head", "", "the policies after the change, a directory (default: the config's policies, or the embedded set)")
	fs.StringVar(&o.Docs, "docs", "", "the release document that rollout data changes must update (default: the config's docs)")
}

// resolve reads both policy trees (replay.OpenSides), the head and the
// release document defaulting to the config's.
func (o *ChangeOptions) resolve() (*replay.Sides, error) {
	if o.Base == "" {
		return nil, errors.New("--base is required: a directory or a git revision")
	}
	cfg, err := o.g.config()
	if err != nil {
		return nil, err
	}
	return replay.OpenSides(o.Base, cmp.Or(o.Head, cfg.Policies), policies.FS, cmp.Or(o.Docs, cfg.Docs))
}

// policyDiffOptions are the flags of `shipgate policy diff`.
type policyDiffOptions struct {
	Change  ChangeOptions
	Since   timespec.Value
	Service string
	Output  string
	Accept  bool
	Timeout time.Duration
	NoCache bool
	Store   StoreOptions
}

func newPolicyDiffCmd(s Streams, g *globals) *cobra.Command {
	o := &policyDiffOptions{}
	c := &cobra.Command{
		Use:   "diff --base REF|DIR [--head DIR]",
		Short: "Replay the recorded decisions through two policy sets and report every decision that changes",
		Long: `Replay the gate inputs recorded in the ledger (each decision's gate, release,
evaluation time, evidence and open violations) through the base and the head
policies, each at the decision's recorded time, and report every decision
that changes: allow to deny, deny to allow, or violations added or removed.

Each side uses the data inside its own policy tree (shipgate/config/data.yaml);
--data and the config's data do not apply. Dry runs are replayed and marked.

A recorded decision that a side's policy set made itself (same policy
revision) on the same input (same input digest) is not evaluated again on
that side: evaluation is deterministic, so the recorded decision is the
answer (` + "`shipgate audit replay`" + ` checks that bit for bit).

When the head changes only rule files (data.shipgate.rules.<name>), or data
that only rule files read, the head evaluates the changed files alone on each
input, beside the base's: where they answer alike, the base's decision is the
head's, and only where they differ is the whole gate evaluated. A change to
the library, a gate, rule metadata or data the engine reads itself evaluates
every decision. --no-cache evaluates every decision on both sides.

Decisions the gate made without the policies (invalid evidence, an engine
fault, no Plan to name the release) are skipped and counted.

It also flags rollout data (services.*.capabilities, flags,
deploy.allowed_triggers, freeze) that changed while the release document
(the config's docs) did not.

Exit codes: 0 no past allow becomes a deny (or --accept), 1 some would,
2 error.`,
		Example: `  shipgate policy diff --base main
  shipgate policy diff --base origin/main --since 30d --output markdown >> "$GITHUB_STEP_SUMMARY"
  shipgate policy diff --base ./policies-old --head ./policies --output json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return policyDiffRun(c.Context(), s, o)
		},
	}
	f := c.Flags()
	o.Change.AddFlags(f, g)
	o.Store.AddFlags(f, g)
	timespec.Var(f, &o.Since, "since", "replay only decisions evaluated at or after this time (default: the whole ledger): "+timespec.Help)
	nameVar(f, &o.Service, "service", "", "replay only this service's decisions")
	f.StringVarP(&o.Output, "output", "o", "text", "output format: text, json or markdown (for a pull request)")
	f.BoolVar(&o.Accept, "accept", false, "exit 0 even when past allows become denials (the change is meant to tighten)")
	f.DurationVar(&o.Timeout, "timeout", engine.DefaultTimeout, "limit for one policy evaluation")
	f.BoolVar(&o.NoCache, "no-cache", false, "evaluate every decision on both sides: no recorded decision is reused, and the head does not reuse the base's")
	return c
}

func policyDiffRun(ctx context.Context, s Streams, o *policyDiffOptions) error {
	switch o.Output {
	case "text", "json", "markdown":
	default:
		return fmt.Errorf("--output %q: want text, json or markdown", o.Output)
	}
	since, err := o.Since.Time(s.now())
	if err != nil {
		return err
	}
	sd, err := o.Change.resolve()
	if err != nil {
		return err
	}
	doc, err := sd.Ownership()
	if err != nil {
		return err
	}
	// The people the config binds to keys are who they are on both sides.
	people, err := o.Store.g.people()
	if err != nil {
		return err
	}
	eng, err := sd.Load(ctx, o.Timeout, people)
	if err != nil {
		return err
	}
	v, err := (&EvidenceOptions{}).Validator()
	if err != nil {
		return err
	}
	db, err := o.Store.OpenReadOnly(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	var bar *progressbar.ProgressBar
	rep, err := replay.PolicyDiff(ctx, db, sd, eng, doc, replay.Options{Validator: v, Since: since, Service: o.Service,
		GCPercent: replay.TunedGCPercent, NoCache: o.NoCache, Progress: func() { _ = bar.Add(1) }},
		func(total int) { bar = newProgress(s.Err, total, "replaying decisions") })
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

// newProgress draws a bar on w when w is a terminal, and nothing otherwise.
func newProgress(w io.Writer, total int, what string) *progressbar.ProgressBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetVisibility(tty),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
}

// policyReviewOptions are the flags of `shipgate policy review`.
type policyReviewOptions struct {
	Change ChangeOptions
	Output OutputOptions
}

func newPolicyReviewCmd(s Streams, g *globals) *cobra.Command {
	o := &policyReviewOptions{}
	c := &cobra.Command{
		Use:   "review --base REF [--head DIR] [--docs FILE]",
		Short: "Fail when rollout data changed since REF but the release document did not",
		Long: `The release document must be updated when CI/CD is introduced, canary
releases are enabled, the rollout strategy changes or automation increases
(its "Documentation Ownership" section). review compares the policy data at
the git revision REF with the head's: a change to services.*.capabilities,
flags, deploy.allowed_triggers or freeze must come with a change to the
release document (the config's docs, or --docs).

Exit codes: 0 nothing to document or the document changed, 1 it did not,
2 error.`,
		Example: `  shipgate policy review --base origin/main`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return policyReviewRun(s, o)
		},
	}
	o.Change.AddFlags(c.Flags(), g)
	o.Output.AddFlags(c.Flags())
	return c
}

func policyReviewRun(s Streams, o *policyReviewOptions) error {
	if err := o.Output.validate(); err != nil {
		return err
	}
	sd, err := o.Change.resolve()
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
	if o.Output.Format == "json" {
		err = writeJSON(s.Out, doc)
	} else {
		err = doc.WriteText(s.Out, sd.Rev)
	}
	if err != nil {
		return err
	}
	if doc.Missing() {
		return &exitError{code: ExitDeny, err: fmt.Errorf("rollout data changed since %s without %s", sd.Rev, sd.Docs)}
	}
	return nil
}
