package cmd

import (
	"context"
	"errors"
	"fmt"
	"github.com/localizevideos/shipgate/api"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/rollback"
)

func init() {
	addCommand(newHoldCmd)
	addCommand(newUnholdCmd)
}

// holdOptions are the flags of `shipgate hold` and `shipgate unhold`.
type holdOptions struct {
	recordOptions
	Policy PolicyOptions
	Remote RemoteOptions
	Reason string
	By     string
	Lift   bool
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
release decides. A Hold counts only when it is authenticated as its
holder: locally, signed with a key that the policy data binds to --by
(signing.people; --signing-key); with --server, recorded by the server as
the token's person (an approver token; --by must be its name). A Hold that
would not count is refused, not recorded.

Exit codes: 0 recorded; 2 an error (no Plan for the release, a ledger that
cannot be written, a missing --by or --reason).`,
		Example: `  shipgate hold --release lv-2026-11-26.1 --by carol --signing-key .shipgate/keys/carol.key --reason "the error spike is the marketing campaign, not the release"
  shipgate hold --release lv-2026-11-26.1 --release-hold --by carol --signing-key .shipgate/keys/carol.key`,
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
		Example: `  shipgate unhold --release lv-2026-11-26.1 --by carol --signing-key .shipgate/keys/carol.key`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return holdRun(c.Context(), s, o)
		},
	}
	o.addFlags(c, g)
	return c
}

func (o *holdOptions) addFlags(c *cobra.Command, g *globals) {
	o.recordOptions.addFlags(c, g)
	f := c.Flags()
	o.Policy.AddFlags(f, g)
	o.Remote.AddFlags(f, g)
	f.StringVar(&o.Reason, "reason", "", "why (required to place a hold)")
	personVar(f, &o.By, "by", "", "the person who holds or lifts (required)")
	_ = c.MarkFlagRequired("by")
}

func holdRun(ctx context.Context, s Streams, o *holdOptions) error {
	if !o.Lift && o.Reason == "" {
		return errors.New("--reason: say why the release is held")
	}
	if o.Remote.on() {
		return holdRemote(ctx, s, o)
	}
	eng, err := o.Policy.Engine(ctx)
	if err != nil {
		return err
	}
	r, err := o.open(ctx, s)
	if err != nil {
		return err
	}
	defer r.Close()
	rel := r.rel
	before, err := rollback.RecordedHold(ctx, r.db, r.v, eng, rel.ID)
	if err != nil {
		return err
	}
	env := r.envelope(o.By)
	now := s.now().UTC().Truncate(time.Millisecond)
	data := map[string]any{"action": "place", "by": o.By, "at": now.Format(time.RFC3339Nano)}
	if o.Lift {
		data["action"] = "lift"
	}
	if o.Reason != "" {
		data["reason"] = o.Reason
	}
	doc, err := r.document(ctx, env, "Hold", "shipgate hold", "hold evidence", data, now)
	if err != nil {
		return err
	}
	// A Hold someone cannot be authenticated for holds nothing: say so
	// rather than record it.
	if g, why := eng.Grantor(rel.Service, doc); g == nil {
		return fmt.Errorf("the Hold %s: %s; sign it with %s's own key (--signing-key, bound in signing.people), or place it with --server and %s's approver token; nothing was recorded", o.By, why, o.By, o.By)
	}
	if err := r.record(ctx, now, "the Hold", doc); err != nil {
		return err
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

// holdRemote records the Hold on the server (POST /v1/releases/{id}/holds),
// which writes it as the token's person: --by must be that name.
func holdRemote(ctx context.Context, s Streams, o *holdOptions) error {
	if o.Sign.Key != "" {
		return errors.New("--signing-key with --server: the server records the Hold as the token's person")
	}
	rel, err := o.Release.resolve()
	if err != nil {
		return err
	}
	c, err := o.Remote.client(&o.Store)
	if err != nil {
		return err
	}
	action := api.HoldPlace
	if o.Lift {
		action = api.HoldLift
	}
	h, err := c.Hold(ctx, rel.ID, action, o.By, o.Reason)
	if err != nil {
		return err
	}
	switch {
	case o.Lift && h.Before == nil:
		fmt.Fprintf(s.Out, "lifted: %s had no hold; recorded anyway (%s, recorded by the server for %s)\n", rel.ID, h.Digest, h.By)
	case o.Lift:
		fmt.Fprintf(s.Out, "lifted: %s lifted %s's hold on %s; automated rollback applies again (%s, recorded by the server for %s)\n", h.By, h.Before.By, rel.ID, h.Digest, h.By)
	default:
		fmt.Fprintf(s.Out, "held: %s holds %s (%s); a breach only alerts until the hold is lifted (%s, recorded by the server for %s)\n", h.By, rel.ID, o.Reason, h.Digest, h.By)
	}
	return nil
}
