package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/api"
	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/store"
)

type evidenceAddOptions struct {
	options.Ledger
	Ev options.Evidence
}

func (o *evidenceAddOptions) flags(c *cobra.Command, g *options.Globals) {
	o.Ev.AddFlags(c.Flags())
	o.Ledger.AddFlags(c.Flags(), g)
}

func (o *evidenceAddOptions) run(ctx context.Context, s Streams, _ *options.Globals, paths []string) error {
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	docs, err := v.LoadPaths(paths)
	if err != nil {
		return err
	}
	b, err := o.Ledger.Open(ctx, options.BackendOptions{V: v})
	if err != nil {
		return err
	}
	defer b.Close()
	out, err := release.AddEvidence(ctx, b, docs)
	if err != nil {
		return err
	}
	return console.Emit(s.Out, o.Output.Format, out, console.EvidenceAdded)
}

type violationsListOptions struct {
	options.Ledger
	Filter options.ViolationFilter
}

func (o *violationsListOptions) flags(c *cobra.Command, g *options.Globals) {
	o.Filter.AddFlags(c.Flags())
	o.Ledger.AddFlags(c.Flags(), g)
}

func (o *violationsListOptions) run(ctx context.Context, s Streams, _ *options.Globals, _ []string) error {
	f, err := o.Filter.Filter()
	if err != nil {
		return err
	}
	db, err := o.Ledger.Open(ctx, options.BackendOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	views, err := release.Violations(ctx, db, f, s.now())
	if err != nil {
		return err
	}
	return console.Emit(s.Out, o.Output.Format, views, console.Violations)
}

type violationsShowOptions struct {
	options.Ledger
}

func (o *violationsShowOptions) flags(c *cobra.Command, g *options.Globals) {
	o.Ledger.AddFlags(c.Flags(), g)
}

func (o *violationsShowOptions) run(ctx context.Context, s Streams, _ *options.Globals, args []string) error {
	id := args[0]
	db, err := o.Ledger.Open(ctx, options.BackendOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := db.Violation(ctx, id)
	if err != nil {
		return fmt.Errorf("violation %s: %w", id, err)
	}
	return console.Emit(s.Out, o.Output.Format, api.NewViolationView(v, s.now()), console.Violation)
}

type postmortemAddOptions struct {
	Violations []string
	Ev         options.Evidence
	Store      options.Store
	Remote     options.Remote
}

func (o *postmortemAddOptions) flags(c *cobra.Command, g *options.Globals) {
	options.NameSliceVar(c.Flags(), &o.Violations, "violation", nil, "violation or obligation id to close (repeatable; default: every id the document names)")
	o.Ev.AddFlags(c.Flags())
	o.Store.AddFlags(c.Flags(), g)
	o.Remote.AddFlags(c.Flags(), g)
}

func (o *postmortemAddOptions) run(ctx context.Context, s Streams, _ *options.Globals, args []string) error {
	path := args[0]
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	doc, err := v.LoadFile(path)
	if err != nil {
		return err
	}
	ids, err := release.PostmortemFile(path, doc, o.Violations)
	if err != nil {
		return err
	}
	b, err := o.Remote.Backend(ctx, &o.Store.Store, options.BackendOptions{V: v})
	var closed []store.Violation
	if err == nil {
		defer b.Close()
		closed, err = b.ClosePostmortem(ctx, doc, ids)
	}
	if err != nil {
		return fmt.Errorf("close violations: %w", err)
	}
	return console.Closed(s.Out, closed, doc.Digest)
}

type decisionShowOptions struct {
	Store  options.Store
	Output options.Output
}

func (o *decisionShowOptions) flags(c *cobra.Command, g *options.Globals) {
	o.Store.AddFlags(c.Flags(), g)
	o.Output.AddFlags(c.Flags())
}

func (o *decisionShowOptions) run(ctx context.Context, s Streams, _ *options.Globals, args []string) error {
	db, err := o.Store.OpenReadOnly(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	seq, rec, err := release.RecordedDecision(ctx, db, args[0])
	if err != nil {
		return err
	}
	return console.RecordedDecision(s.Out, o.Output.Format, seq, rec)
}
