package cmd

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/server"
)

type serveOptions struct {
	Listen     string
	MaxBody    int64
	SigningKey string
	Policy     options.Policy
	Ev         options.Evidence
	Store      options.Store
	// SweepInterval is how often the server sweeps for deploys whose smoke
	// tests were skipped; 0 never.
	SweepInterval time.Duration
}

func (o *serveOptions) flags(c *cobra.Command, g *options.Globals) {
	f := c.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one, logged at start)")
	f.Int64Var(&o.MaxBody, "max-body", server.DefaultMaxBody, "largest request body accepted, in bytes")
	f.DurationVar(&o.SweepInterval, "sweep-interval", time.Minute, "how often to sweep for deploys whose smoke tests were skipped (0: never)")
	f.StringVar(&o.SigningKey, "signing-key", "", "ed25519 private key (PEM, PKCS #8) that signs the approvals, overrides and holds the server records (default: "+project.ServerKey+", created on first start)")
	o.Policy.AddFlags(f, g)
	o.Ev.AddFlags(f)
	o.Store.AddFlags(f, g)
}

func (o *serveOptions) run(ctx context.Context, s Streams, g *options.Globals, _ []string) error {
	log := slog.New(slog.NewJSONHandler(s.Err, nil))
	if o.SweepInterval < 0 {
		return fmt.Errorf("--sweep-interval %s: want a positive duration, or 0 never to sweep", o.SweepInterval)
	}
	return project.Serve(ctx, project.ServeOptions{Listen: o.Listen, MaxBody: o.MaxBody, SigningKey: o.SigningKey, SweepInterval: o.SweepInterval,
		Policy: &o.Policy.Policy, Ev: &o.Ev.Evidence, Store: &o.Store.Store, Settings: g, Version: Version, Log: log})
}
