package cmd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/server"
)

func init() { addCommand(newServeCmd) }

type serveOptions struct {
	Listen     string
	MaxBody    int64
	SigningKey string
	Policy     PolicyOptions
	Ev         EvidenceOptions
	Store      StoreOptions
	// SweepInterval is how often the server sweeps for deploys whose smoke
	// tests were skipped; 0 never.
	SweepInterval time.Duration
}

func newServeCmd(s Streams, g *globals) *cobra.Command {
	o := &serveOptions{}
	c := &cobra.Command{
		Use:   "serve --store sqlite://FILE|postgres://URL [--listen ADDR]",
		Short: "Serve the HTTP API (and the dashboard) over one ledger; several servers may share a PostgreSQL store",
		Long: `Serve the authenticated JSON API under /v1/, the operations endpoints
/healthz, /readyz and /metrics, and the dashboard at /.

Every API request needs a token (Authorization: Bearer TOKEN) of a role the
route admits; create the first one with shipgate token create --role admin.
Decisions are recorded before they are answered. Logs are JSON lines on
stderr. SIGINT or SIGTERM stops accepting connections and finishes the
requests in flight (decisions being recorded included) before exiting; a
request not done a second later is dropped unanswered and its decision
rolled back (exit 130 or 143).

Several servers can share one PostgreSQL store (postgres://...): the ledger
stays one linear chain. Give them the same --signing-key.

The server signs the approvals, overrides and holds it records from
approver tokens with --signing-key (default .shipgate/keys/server.key,
created on first start): that signature is what makes them count as the
token's person's (policy data signing.servers; the server adds its own
key). A pipeline token cannot record any of them.

Every --sweep-interval (1m by default; 0 never) the server sweeps the ledger
as shipgate violations sweep does: each succeeded deploy whose smoke tests
no verify gate judged within verification.deadline opens
forbidden.skipped-smoke-tests, once, and a warning line is logged for it.
Several servers sweeping one store open each violation once.

The dashboard's sessions are sealed with $SHIPGATE_SESSION_KEY (64 hex
digits, the same on every replica); without it each process makes a key of
its own, and a restart signs everybody out.`,
		Example: `  shipgate token create --store sqlite://ledger.db --role admin --name ops
  shipgate serve --store sqlite://ledger.db --listen 127.0.0.1:8080
  shipgate serve --store 'postgres://shipgate@db:5432/shipgate' --listen :8080`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return serveRun(c.Context(), s, g, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one, logged at start)")
	f.Int64Var(&o.MaxBody, "max-body", server.DefaultMaxBody, "largest request body accepted, in bytes")
	f.DurationVar(&o.SweepInterval, "sweep-interval", time.Minute, "how often to sweep for deploys whose smoke tests were skipped (0: never)")
	f.StringVar(&o.SigningKey, "signing-key", "", "ed25519 private key (PEM, PKCS #8) that signs the approvals, overrides and holds the server records (default: "+project.ServerKey+", created on first start)")
	o.Policy.AddFlags(f, g)
	o.Ev.AddFlags(f)
	o.Store.AddFlags(f, g)
	return c
}

func serveRun(ctx context.Context, s Streams, g *globals, o *serveOptions) error {
	log := slog.New(slog.NewJSONHandler(s.Err, nil))
	if o.SweepInterval < 0 {
		return fmt.Errorf("--sweep-interval %s: want a positive duration, or 0 never to sweep", o.SweepInterval)
	}
	path := o.SigningKey
	if path == "" {
		path = project.ServerKey
		if err := project.CreateKey(path, project.ServerPublicKey, io.Discard); err != nil {
			return err
		}
	}
	signer, err := project.ReadSigner(path)
	if err != nil {
		return err
	}
	id, _ := signer.KeyID()
	o.Policy.ServerKeys = map[string]string{id: "shipgate serve (" + path + ")"}
	eng, err := o.Policy.Engine(ctx)
	if err != nil {
		return err
	}
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	db, err := o.Store.Open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := server.StoreOf(db)
	if err != nil {
		return err
	}
	key, err := server.ParseSessionKey(g.getenv("SHIPGATE_SESSION_KEY"))
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{Store: st, Engine: eng, Validator: v, Signer: signer, Logger: log, MaxBody: o.MaxBody,
		Version: Version, SessionKey: key, Clock: g.clock, SweepInterval: o.SweepInterval})
	if err != nil {
		return err
	}
	defer server.TuneGC(g.getenv)()
	return srv.ListenAndServe(ctx, o.Listen, o.Policy.describe(), id)
}
