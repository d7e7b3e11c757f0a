package cmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/release"
)

// holdOptions are the flags of `shipgate hold` and `shipgate unhold`.
type holdOptions struct {
	options.Record
	Policy options.Policy
	Remote options.Remote
	Reason string
	By     string
	Lift   bool
}

func newHoldCmd(s Streams, g *options.Globals) *cobra.Command {
	o := &holdOptions{}
	c := &cobra.Command{
		Use:  "hold --release ID --reason TEXT --by NAME | --release ID --release-hold --by NAME",
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

func newUnholdCmd(s Streams, g *options.Globals) *cobra.Command {
	o := &holdOptions{Lift: true}
	c := &cobra.Command{
		Use:  "unhold --release ID --by NAME [--reason TEXT]",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return holdRun(c.Context(), s, o)
		},
	}
	o.addFlags(c, g)
	return c
}

func (o *holdOptions) addFlags(c *cobra.Command, g *options.Globals) {
	o.Record.AddFlags(c.Flags(), g)
	_ = c.MarkFlagRequired("release")
	f := c.Flags()
	o.Policy.AddFlags(f, g)
	o.Remote.AddFlags(f, g)
	f.StringVar(&o.Reason, "reason", "", "why (required to place a hold)")
	options.PersonVar(f, &o.By, "by", "", "the person who holds or lifts (required)")
	_ = c.MarkFlagRequired("by")
}

func holdRun(ctx context.Context, s Streams, o *holdOptions) error {
	if !o.Lift && o.Reason == "" {
		return errors.New("--reason: say why the release is held")
	}
	if o.Remote.On() && o.Sign.Key != "" {
		return errors.New("--signing-key with --server: the server records the Hold as the token's person")
	}
	req := release.HoldRequest{Lift: o.Lift, By: o.By, Reason: o.Reason, Now: s.now()}
	b, err := o.holdBackend(ctx, s, &req)
	if err != nil {
		return err
	}
	defer b.Close()
	h, err := b.Hold(ctx, req)
	if err != nil {
		return err
	}
	return console.Held(s.Out, h, req.Release.ID, o.Lift, o.Reason)
}

// holdBackend opens the backend of the Hold and completes req: with
// --server, the release as named (the server reads its Plan); locally,
// the release completed from its Plans, and the key that signs the Hold.
func (o *holdOptions) holdBackend(ctx context.Context, s Streams, req *release.HoldRequest) (release.Backend, error) {
	rel, err := o.Release.Resolve()
	if err != nil {
		return nil, err
	}
	req.Release = rel
	if o.Remote.On() {
		return o.Remote.Backend(ctx, &o.Store, options.BackendOptions{})
	}
	b, signer, rel, err := options.OpenStep(ctx, s.Err, &o.Store, &o.Remote, &o.Policy, &o.Ev, &o.Sign, rel)
	if err != nil {
		return nil, err
	}
	req.Release, req.Signer, req.Env = rel, signer, stepEnvelope(rel, o.By)
	return b, nil
}
