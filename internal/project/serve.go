package project

import (
	"context"
	"log/slog"
	"time"

	"github.com/localizevideos/shipgate/server"
)

// ServeOptions are what shipgate serve runs with: where it listens, its
// limits, its own signing key (--signing-key), and the policy set,
// evidence checks and ledger it serves.
type ServeOptions struct {
	Listen     string
	MaxBody    int64
	SigningKey string
	// SweepInterval is how often the server sweeps for deploys whose smoke
	// tests were skipped; 0 never.
	SweepInterval time.Duration
	Policy        *Policy
	Ev            *Evidence
	Store         *Store
	// Settings give the clock and the environment ($SHIPGATE_SESSION_KEY,
	// the GC tuning of server.TuneGC).
	Settings *Settings
	Version  string
	Log      *slog.Logger
}

// Serve reads (or makes) the server's signing key, counts it among the
// engine's server keys, loads the policies and the validator, opens the
// ledger and serves it until ctx ends.
func Serve(ctx context.Context, o ServeOptions) error {
	signer, keys, err := ServerSigner(o.SigningKey)
	if err != nil {
		return err
	}
	o.Policy.ServerKeys = keys
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
	key, err := server.ParseSessionKey(o.Settings.Env("SHIPGATE_SESSION_KEY"))
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{Store: st, Engine: eng, Validator: v, Signer: signer, Logger: o.Log, MaxBody: o.MaxBody,
		Version: o.Version, SessionKey: key, Clock: o.Settings.Clock, SweepInterval: o.SweepInterval})
	if err != nil {
		return err
	}
	defer server.TuneGC(o.Settings.Env)()
	id, _ := signer.KeyID()
	return srv.ListenAndServe(ctx, o.Listen, o.Policy.Describe(), id)
}
