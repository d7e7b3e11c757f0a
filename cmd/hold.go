package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/store"
)

func init() {
	addCommand(newHoldCmd)
	addCommand(newUnholdCmd)
}

// holdOptions are the flags of `shipgate hold` and `shipgate unhold`.
type holdOptions struct {
	Release ReleaseOptions
	Reason  string
	By      string
	Lift    bool
	Ev      EvidenceOptions
	Sign    SigningOptions
	Store   StoreOptions
}

func newHoldCmd(s Streams, g *globals) *cobra.Command {
	o := &holdOptions{}
	c := &cobra.Command{
		Use:   "hold --release ID --reason TEXT --by NAME | --release ID --release-hold --by NAME",
		Short: "Place (or lift) a human hold on a release's automated rollback",
		Long: `Record, as Hold evidence in the ledger, that a named person holds the
release: while the hold is in place, a breach seen by shipgate watch
--auto-rollback only alerts, and the person decides. --release-hold (or
shipgate unhold) lifts the hold, also recorded. The newest Hold of the
release decides. The Hold is signed like all evidence shipgate records
(--signing-key).

Exit codes: 0 recorded; 2 an error (no Plan for the release, a ledger that
cannot be written, a missing --by or --reason).`,
		Example: `  shipgate hold --release lv-2026-11-26.1 --by carol --reason "the error spike is the marketing campaign, not the release"
  shipgate hold --release lv-2026-11-26.1 --release-hold --by carol`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return holdRun(c.Context(), s, o)
		},
	}
	f := c.Flags()
	o.addFlags(c, g)
	f.BoolVar(&o.Lift, "release-hold", false, "lift the hold instead of placing one")
	return c
}

func newUnholdCmd(s Streams, g *globals) *cobra.Command {
	o := &holdOptions{Lift: true}
	c := &cobra.Command{
		Use:     "unhold --release ID --by NAME [--reason TEXT]",
		Short:   "Lift a human hold on a release's automated rollback (shipgate hold --release-hold)",
		Example: `  shipgate unhold --release lv-2026-11-26.1 --by carol`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return holdRun(c.Context(), s, o)
		},
	}
	o.addFlags(c, g)
	return c
}

func (o *holdOptions) addFlags(c *cobra.Command, g *globals) {
	f := c.Flags()
	o.Release.AddFlags(f, g)
	f.StringVar(&o.Reason, "reason", "", "why (required to place a hold)")
	f.StringVar(&o.By, "by", "", "the person who holds or lifts (required)")
	_ = c.MarkFlagRequired("release")
	_ = c.MarkFlagRequired("by")
	o.Ev.AddFlags(f)
	o.Sign.AddFlags(f)
	o.Store.AddFlags(f, g)
}

func holdRun(ctx context.Context, s Streams, o *holdOptions) error {
	if !o.Lift && o.Reason == "" {
		return errors.New("--reason: say why the release is held")
	}
	rel, err := o.Release.resolve()
	if err != nil {
		return err
	}
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	signer, err := o.Sign.Signer(s.Err)
	if err != nil {
		return err
	}
	if v, err = trustSigner(v, &o.Ev, signer); err != nil {
		return err
	}
	db, err := o.Store.Open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	rel, err = releaseOfPlans(ctx, db, v, rel)
	if err != nil {
		return err
	}
	before, err := activeHold(ctx, db, v, rel.ID)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	env := runner.Envelope{ReleaseID: rel.ID, Service: rel.Service, Environment: rel.Environment,
		Repository: rel.Repository, Commit: rel.Commit, Version: Version, Host: host, Actor: o.By}
	now := time.Now().UTC().Truncate(time.Millisecond)
	data := map[string]any{"action": "place", "by": o.By, "at": now.Format(time.RFC3339Nano)}
	if o.Lift {
		data["action"] = "lift"
	}
	if o.Reason != "" {
		data["reason"] = o.Reason
	}
	doc, err := holdDoc(ctx, v, signer, env, data, now)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if _, err := db.AddEvidence(ctx, now, []store.Evidence{gate.StoreEvidence(doc)}); err != nil {
		return fmt.Errorf("record the Hold: %w", err)
	}
	switch {
	case o.Lift && before == nil:
		fmt.Fprintf(s.Out, "lifted: %s had no hold; recorded anyway (%s, signed by %s)\n", rel.ID, doc.Digest, strings.Join(doc.SignedBy, ", "))
	case o.Lift:
		fmt.Fprintf(s.Out, "lifted: %s lifted %s's hold on %s; automated rollback applies again (%s, signed by %s)\n", o.By, before.By, rel.ID, doc.Digest, strings.Join(doc.SignedBy, ", "))
	default:
		fmt.Fprintf(s.Out, "held: %s holds %s (%s); a breach only alerts until the hold is lifted (%s, signed by %s)\n", o.By, rel.ID, o.Reason, doc.Digest, strings.Join(doc.SignedBy, ", "))
	}
	return nil
}

func holdDoc(ctx context.Context, v *evidence.Validator, signer *evidence.Signer, env runner.Envelope, data map[string]any, at time.Time) (*evidence.Document, error) {
	b, err := json.Marshal(map[string]any{
		"apiVersion":  runner.APIVersion,
		"kind":        "Hold",
		"release":     map[string]string{"id": env.ReleaseID, "service": env.Service, "environment": env.Environment},
		"subject":     map[string]string{"repository": env.Repository, "commit": env.Commit},
		"collectedAt": at.Format(time.RFC3339Nano),
		"collector":   collector(env),
		"data":        data,
	})
	if err != nil {
		return nil, err
	}
	doc, err := seal(ctx, v, signer, "shipgate hold", b)
	if err != nil {
		return nil, fmt.Errorf("hold evidence: %w", err)
	}
	return doc, nil
}
