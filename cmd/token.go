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

func newTokenCmd(s Streams, g *options.Globals) *cobra.Command {
	return group("token", newTokenCreateCmd(s, g), newTokenListCmd(s, g), newTokenRevokeCmd(s, g))
}

type tokenCreateOptions struct {
	Name   string
	Role   string
	Actor  string
	Store  options.Store
	Output options.Output
}

// withTokens opens the store's token table (auth.StoreOf) for do.
func withTokens(ctx context.Context, g *options.Globals, so *options.Store, do func(*auth.Tokens) error) error {
	db, err := so.Open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	ts, err := auth.StoreOf(db)
	if err != nil {
		return err
	}
	return do(&auth.Tokens{Store: ts, Clock: g.Clock, NewID: g.NewID})
}

func newTokenCreateCmd(s Streams, g *options.Globals) *cobra.Command {
	o := &tokenCreateOptions{}
	c := &cobra.Command{
		Use:  "create --role pipeline|approver|auditor|admin --name NAME",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withTokens(c.Context(), g, &o.Store, func(tokens *auth.Tokens) error {
				secret, t, err := tokens.Create(c.Context(), o.Name, o.Role, "cli:"+g.Actor(o.Actor))
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
		},
	}
	c.Flags().StringVar(&o.Name, "name", "", "who the token speaks for: a person (compared with deployers) or a pipeline (required)")
	c.Flags().StringVar(&o.Role, "role", "", "pipeline, approver, auditor or admin (required)")
	options.ActorVar(c.Flags(), &o.Actor, "who creates it")
	_ = c.MarkFlagRequired("name")
	_ = c.MarkFlagRequired("role")
	o.Store.AddFlags(c.Flags(), g)
	o.Output.AddFlags(c.Flags())
	return c
}

type tokenListOptions struct {
	Store  options.Store
	Output options.Output
}

func newTokenListCmd(s Streams, g *options.Globals) *cobra.Command {
	o := &tokenListOptions{}
	c := &cobra.Command{
		Use:  "list",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			var ts []store.Token
			err := withTokens(c.Context(), g, &o.Store, func(tokens *auth.Tokens) (err error) {
				if ts, err = tokens.List(c.Context()); err != nil {
					return fmt.Errorf("list tokens: %w", err)
				}
				return nil
			})
			if err != nil {
				return err
			}
			views := make([]api.TokenView, len(ts))
			for i, t := range ts {
				views[i] = api.NewTokenView(t)
			}
			return console.Emit(s.Out, o.Output.Format, views, console.Tokens)
		},
	}
	o.Store.AddFlags(c.Flags(), g)
	o.Output.AddFlags(c.Flags())
	return c
}

type tokenRevokeOptions struct {
	ID    string
	Actor string
	Store options.Store
}

func newTokenRevokeCmd(s Streams, g *options.Globals) *cobra.Command {
	o := &tokenRevokeOptions{}
	c := &cobra.Command{
		Use:  "revoke ID",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.ID = args[0]
			return withTokens(c.Context(), g, &o.Store, func(tokens *auth.Tokens) error {
				t, err := tokens.Revoke(c.Context(), o.ID, "cli:"+g.Actor(o.Actor))
				if err != nil {
					return fmt.Errorf("revoke token: %w", err)
				}
				_, err = fmt.Fprintf(s.Out, "revoked %s (%s, role %s)\n", t.ID, t.Name, t.Role)
				return err
			})
		},
	}
	options.ActorVar(c.Flags(), &o.Actor, "who revokes it")
	o.Store.AddFlags(c.Flags(), g)
	return c
}
