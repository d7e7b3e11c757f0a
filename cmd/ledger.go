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
	Paths []string
	Ev    options.Evidence
}

func newEvidenceAddCmd(s Streams, g *options.Globals) *cobra.Command {
	o := &evidenceAddOptions{}
	c := &cobra.Command{
		Use:  "add FILE|DIR...",
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.Paths = args
			return evidenceAddRun(c.Context(), s, o)
		},
	}
	o.Ev.AddFlags(c.Flags())
	o.Ledger.AddFlags(c.Flags(), g)
	return c
}

func evidenceAddRun(ctx context.Context, s Streams, o *evidenceAddOptions) error {
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	docs, err := v.LoadPaths(o.Paths)
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

func newViolationsCmd(s Streams, g *options.Globals) *cobra.Command {
	return group("violations", newViolationsListCmd(s, g), newViolationsShowCmd(s, g), newViolationsSweepCmd(s, g))
}

type violationsListOptions struct {
	options.Ledger
	Filter options.ViolationFilter
}

func newViolationsListCmd(s Streams, g *options.Globals) *cobra.Command {
	o := &violationsListOptions{}
	c := &cobra.Command{
		Use:  "list",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return violationsListRun(c.Context(), s, o)
		},
	}
	o.Filter.AddFlags(c.Flags())
	o.Ledger.AddFlags(c.Flags(), g)
	return c
}

func violationsListRun(ctx context.Context, s Streams, o *violationsListOptions) error {
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
	ID string
}

func newViolationsShowCmd(s Streams, g *options.Globals) *cobra.Command {
	o := &violationsShowOptions{}
	c := &cobra.Command{
		Use:  "show ID",
		Args: nameArgs("violation id"),
		RunE: func(c *cobra.Command, args []string) error {
			o.ID = args[0]
			db, err := o.Ledger.Open(c.Context(), options.BackendOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer db.Close()
			v, err := db.Violation(c.Context(), o.ID)
			if err != nil {
				return fmt.Errorf("violation %s: %w", o.ID, err)
			}
			return console.Emit(s.Out, o.Output.Format, api.NewViolationView(v, s.now()), console.Violation)
		},
	}
	o.Ledger.AddFlags(c.Flags(), g)
	return c
}

type postmortemAddOptions struct {
	Violations []string
	Path       string
	Ev         options.Evidence
	Store      options.Store
	Remote     options.Remote
}

func newPostmortemCmd(s Streams, g *options.Globals) *cobra.Command {
	c := &cobra.Command{Use: "postmortem"}
	o := &postmortemAddOptions{}
	add := &cobra.Command{
		Use:  "add --violation ID FILE",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.Path = args[0]
			return postmortemAddRun(c.Context(), s, o)
		},
	}
	options.NameSliceVar(add.Flags(), &o.Violations, "violation", nil, "violation or obligation id to close (repeatable; default: every id the document names)")
	o.Ev.AddFlags(add.Flags())
	o.Store.AddFlags(add.Flags(), g)
	o.Remote.AddFlags(add.Flags(), g)
	c.AddCommand(add, newPostmortemNewCmd(s, g))
	return c
}

func postmortemAddRun(ctx context.Context, s Streams, o *postmortemAddOptions) error {
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	doc, err := v.LoadFile(o.Path)
	if err != nil {
		return err
	}
	ids, err := release.PostmortemFile(o.Path, doc, o.Violations)
	if err != nil {
		return err
	}
	b, err := o.Remote.Backend(ctx, &o.Store, options.BackendOptions{V: v})
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
	ID     string
	Store  options.Store
	Output options.Output
}

func newDecisionCmd(s Streams, g *options.Globals) *cobra.Command {
	c := &cobra.Command{Use: "decision"}
	o := &decisionShowOptions{}
	show := &cobra.Command{
		Use:  "show ID",
		Args: nameArgs("decision id"),
		RunE: func(c *cobra.Command, args []string) error {
			o.ID = args[0]
			db, err := o.Store.OpenReadOnly(c.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			seq, rec, err := release.RecordedDecision(c.Context(), db, o.ID)
			if err != nil {
				return err
			}
			return console.RecordedDecision(s.Out, o.Output.Format, seq, rec)
		},
	}
	o.Store.AddFlags(show.Flags(), g)
	o.Output.AddFlags(show.Flags())
	c.AddCommand(show)
	return c
}
