package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/release"
)

type postmortemNewOptions struct {
	Violations []string
	Release    string
	Summary    string
	Author     string
	Out        string
	Ev         options.Evidence
	Store      options.Store
}

func (o *postmortemNewOptions) flags(c *cobra.Command, g *options.Globals) {
	c.Flags().StringSliceVar(&o.Violations, "violation", nil, "open violation or obligation id the postmortem closes (repeatable)")
	c.Flags().StringVar(&o.Summary, "summary", "", "what happened, why, and what changes")
	c.Flags().StringVar(&o.Author, "author", "", "who wrote it"+options.ActorHelp)
	c.Flags().StringVar(&o.Out, "out", "", "file to write (default: standard output)")
	c.Flags().StringVar(&o.Release, "release", "", "close every open violation and obligation of this release")
	required(c, "summary")
	o.Ev.AddFlags(c.Flags())
	o.Store.AddFlags(c.Flags(), g)
}

// run writes the Postmortem document of open violations, made from what
// the ledger holds of them, for `postmortem add`.
func (o *postmortemNewOptions) run(ctx context.Context, s Streams, g *options.Globals, _ []string) error {
	if (len(o.Violations) == 0) == (o.Release == "") {
		return fmt.Errorf("give --violation or --release: which violations the postmortem closes")
	}
	if strings.TrimSpace(o.Summary) == "" {
		return fmt.Errorf("--summary: say what happened and what changes")
	}
	o.Author = g.Actor(o.Author)
	b, err := project.OpenLocal(ctx, &o.Store.Store, options.BackendOptions{Validator: o.Ev.Validator, ReadOnly: true})
	if err != nil {
		return err
	}
	defer b.Close()
	doc, ids, err := release.NewPostmortem(ctx, b, release.PostmortemDraft{Violations: o.Violations, Release: o.Release,
		Summary: o.Summary, Author: o.Author, Version: Version, Now: s.now()})
	if err != nil {
		return err
	}
	return writeJSON(s, o.Out, "postmortem", doc.Value, fmt.Sprintf("wrote the postmortem of %s to %s: record it with shipgate postmortem add %s",
		strings.Join(ids, ", "), o.Out, o.Out))
}
