package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/store"
)

type postmortemNewOptions struct {
	Violations []string
	Release    string
	Summary    string
	Author     string
	Out        string
	Ev         EvidenceOptions
	Store      StoreOptions
}

// newPostmortemNewCmd is `postmortem new`: the Postmortem document of open
// violations, made from what the ledger holds of them, for `postmortem add`.
func newPostmortemNewCmd(s Streams, g *globals) *cobra.Command {
	o := &postmortemNewOptions{}
	c := &cobra.Command{
		Use:   "new (--violation ID | --release R) --summary TEXT",
		Short: "Write the Postmortem document of open violations, to record with postmortem add",
		Long: `Write a Postmortem evidence document that names the given open violations
of one release (with --release, every open violation and obligation of the
release), with its release and commit taken from the release's Plan
in the ledger, the summary, the author and the time. It records nothing:
review it, add actions or a URL if you like, then record it with
shipgate postmortem add, which closes the violations.`,
		Example: `  shipgate postmortem new --violation vio_06h1em6sb8qf6ffm2rxs4j6nn0 --summary 'deployed during INC-42; the pipeline now reads the status page first'
  shipgate postmortem new --release lv-2026-11-26.1 --summary 'deployed during INC-42' --out postmortem.json
  shipgate postmortem add postmortem.json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if (len(o.Violations) == 0) == (o.Release == "") {
				return fmt.Errorf("give --violation or --release: which violations the postmortem closes")
			}
			if strings.TrimSpace(o.Summary) == "" {
				return fmt.Errorf("--summary: say what happened and what changes")
			}
			o.Author = actor(o.Author, g)
			return postmortemNewRun(c.Context(), s, o)
		},
	}
	c.Flags().StringSliceVar(&o.Violations, "violation", nil, "open violation or obligation id the postmortem closes (repeatable)")
	c.Flags().StringVar(&o.Summary, "summary", "", "what happened, why, and what changes")
	c.Flags().StringVar(&o.Author, "author", "", "who wrote it (default: $SHIPGATE_ACTOR, $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER)")
	c.Flags().StringVar(&o.Out, "out", "", "file to write (default: standard output)")
	c.Flags().StringVar(&o.Release, "release", "", "close every open violation and obligation of this release")
	_ = c.MarkFlagRequired("summary")
	o.Ev.AddFlags(c.Flags())
	o.Store.AddFlags(c.Flags(), g)
	return c
}

func postmortemNewRun(ctx context.Context, s Streams, o *postmortemNewOptions) error {
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	db, err := o.Store.OpenReadOnly(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if o.Release != "" {
		open, err := db.Violations(ctx, store.Filter{Status: store.StatusOpen, ReleaseID: o.Release})
		if err != nil {
			return err
		}
		if len(open) == 0 {
			return fmt.Errorf("release %s has no open violation or obligation", o.Release)
		}
		for _, v := range open {
			o.Violations = append(o.Violations, v.ID)
		}
	}
	var first store.Violation
	for i, id := range o.Violations {
		vio, err := db.Violation(ctx, id)
		if err != nil {
			return err
		}
		switch {
		case vio.Status != store.StatusOpen:
			return fmt.Errorf("%s is %s: a postmortem closes open violations", id, vio.Status)
		case i > 0 && vio.ReleaseID != first.ReleaseID:
			return fmt.Errorf("%s is of release %s, %s of release %s: write one postmortem a release", first.ID, first.ReleaseID, id, vio.ReleaseID)
		case i == 0:
			first = vio
		}
	}
	env, err := postmortemEnvelope(ctx, db, first)
	if err != nil {
		return err
	}
	env.Actor = o.Author
	now := s.now()
	b, err := runner.Document(env, "Postmortem", now, map[string]any{
		"violations": o.Violations, "summary": o.Summary, "author": o.Author,
		"completedAt": now.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano),
	})
	if err != nil {
		return err
	}
	doc, err := v.Decode("postmortem", b)
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(doc.Value, "", "  ")
	if err != nil {
		return err
	}
	out = append(out, '\n')
	if o.Out == "" {
		_, err = s.Out.Write(out)
		return err
	}
	if err := os.WriteFile(o.Out, out, 0o644); err != nil {
		return fmt.Errorf("write postmortem: %w", err)
	}
	_, err = fmt.Fprintf(s.Out, "wrote the postmortem of %s to %s: record it with shipgate postmortem add %s\n",
		strings.Join(o.Violations, ", "), o.Out, o.Out)
	return err
}

// postmortemEnvelope binds the postmortem to the violation's release: its
// commit and repository are the newest Plan's.
func postmortemEnvelope(ctx context.Context, db ledgerStore, vio store.Violation) (runner.Envelope, error) {
	stored, err := db.Evidence(ctx, vio.ReleaseID)
	if err != nil {
		return runner.Envelope{}, fmt.Errorf("read evidence: %w", err)
	}
	var plan *store.Evidence
	for i, e := range stored {
		if e.Kind == "Plan" && (plan == nil || !e.CollectedAt.Before(plan.CollectedAt)) {
			plan = &stored[i]
		}
	}
	if plan == nil {
		return runner.Envelope{}, fmt.Errorf("release %s has no Plan in the ledger to take its commit from: write the Postmortem by hand (docs/evidence.md)", vio.ReleaseID)
	}
	var doc struct {
		Subject struct {
			Repository string `json:"repository"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(plan.Body, &doc); err != nil {
		return runner.Envelope{}, fmt.Errorf("recorded Plan %s: %w", plan.Digest, err)
	}
	return runner.Envelope{ReleaseID: vio.ReleaseID, Service: plan.Service, Environment: plan.Environment,
		Repository: doc.Subject.Repository, Commit: plan.Commit, Version: Version}, nil
}
