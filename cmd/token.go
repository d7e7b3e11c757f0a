package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/api"
	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/store"
)

type tokenCreateOptions struct {
	Name   string
	Role   string
	Actor  string
	Store  options.Store
	Output options.Output
}

func (o *tokenCreateOptions) flags(c *cobra.Command, g *options.Globals) {
	c.Flags().StringVar(&o.Name, "name", "", "who the token speaks for: a person (compared with deployers) or a pipeline (required)")
	c.Flags().StringVar(&o.Role, "role", "", "pipeline, approver, auditor or admin (required)")
	options.ActorVar(c.Flags(), &o.Actor, "who creates it")
	required(c, "name", "role")
	o.Store.AddFlags(c.Flags(), g)
	o.Output.AddFlags(c.Flags())
}

func (o *tokenCreateOptions) run(ctx context.Context, s Streams, g *options.Globals, _ []string) error {
	return o.Store.Tokens(ctx, func(tokens *auth.Tokens) error {
		secret, t, err := tokens.Create(ctx, o.Name, o.Role, "cli:"+g.Actor(o.Actor))
		if err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		v := api.NewTokenView(t)
		v.Token = secret
		if o.Output.Format == "json" {
			return console.JSON(s.Out, v)
		}
		fmt.Fprintf(s.Err, "created token %s for %s (role %s); the secret is shown this once:\n", t.ID, t.Name, t.Role)
		_, err = fmt.Fprintln(s.Out, secret)
		return err
	})
}

type tokenListOptions struct {
	Store  options.Store
	Output options.Output
}

func (o *tokenListOptions) flags(c *cobra.Command, g *options.Globals) {
	o.Store.AddFlags(c.Flags(), g)
	o.Output.AddFlags(c.Flags())
}

func (o *tokenListOptions) run(ctx context.Context, s Streams, _ *options.Globals, _ []string) error {
	var ts []store.Token
	err := o.Store.Tokens(ctx, func(tokens *auth.Tokens) (err error) {
		if ts, err = tokens.List(ctx); err != nil {
			return fmt.Errorf("list tokens: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return console.Emit(s.Out, o.Output.Format, api.NewTokenViews(ts), console.Tokens)
}

type tokenRevokeOptions struct {
	Actor string
	Store options.Store
}

func (o *tokenRevokeOptions) flags(c *cobra.Command, g *options.Globals) {
	options.ActorVar(c.Flags(), &o.Actor, "who revokes it")
	o.Store.AddFlags(c.Flags(), g)
}

func (o *tokenRevokeOptions) run(ctx context.Context, s Streams, g *options.Globals, args []string) error {
	return o.Store.Tokens(ctx, func(tokens *auth.Tokens) error {
		t, err := tokens.Revoke(ctx, args[0], "cli:"+g.Actor(o.Actor))
		if err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		_, err = fmt.Fprintf(s.Out, "revoked %s (%s, role %s)\n", t.ID, t.Name, t.Role)
		return err
	})
}
