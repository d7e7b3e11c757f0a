package cmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/release"
)

// holdOptions are the flags of `shipgate unhold`, and of `shipgate hold`
// with --release-hold besides (placeHoldOptions).
type holdOptions struct {
	options.Record
	Policy options.Policy
	Remote options.Remote
	Reason string
	By     string
	Lift   bool
}

func (o *holdOptions) flags(c *cobra.Command, g *options.Globals) {
	o.Record.AddFlags(c.Flags(), g)
	f := c.Flags()
	o.Policy.AddFlags(f, g)
	o.Remote.AddFlags(f, g)
	f.StringVar(&o.Reason, "reason", "", "why (required to place a hold)")
	options.PersonVar(f, &o.By, "by", "", "the person who holds or lifts (required)")
	required(c, "release", "by")
}

// placeHoldOptions are the flags of `shipgate hold`: those of unhold, and
// --release-hold to lift the hold instead.
type placeHoldOptions struct{ holdOptions }

func (o *placeHoldOptions) flags(c *cobra.Command, g *options.Globals) {
	o.holdOptions.flags(c, g)
	c.Flags().BoolVar(&o.Lift, "release-hold", false, "lift the hold instead of placing one")
}

func (o *holdOptions) run(ctx context.Context, s Streams, _ *options.Globals, _ []string) error {
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
		return o.Remote.Backend(ctx, &o.Store.Store, options.BackendOptions{})
	}
	b, signer, rel, err := project.Step{Store: &o.Store.Store, Remote: &o.Remote.Remote, Policy: &o.Policy.Policy, Ev: &o.Ev.Evidence, Sign: &o.Sign.Signing}.Open(ctx, s.Err, rel)
	if err != nil {
		return nil, err
	}
	req.Release, req.Signer, req.Env = rel, signer, stepEnvelope(rel, o.By)
	return b, nil
}
