package project

import (
	"context"
	"errors"
	"fmt"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/client"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/store"
)

// Store is the ledger a command chose (--store), found as LedgerLocation
// finds it.
type Store struct {
	Path     string
	Settings *Settings
}

// Location is where the ledger is: a file or a PostgreSQL URL
// (Settings.LedgerLocation).
func (o *Store) Location() (string, error) {
	p, _, err := o.Settings.LedgerLocation(o.Path)
	return p, err
}

// Open opens the ledger for writing (Settings.OpenLedger).
func (o *Store) Open(ctx context.Context) (store.Store, error) {
	return o.Settings.OpenLedger(ctx, o.Path)
}

// OpenReadOnly opens the ledger for reading only where the store supports
// it (Settings.OpenLedgerReadOnly).
func (o *Store) OpenReadOnly(ctx context.Context) (store.Store, error) {
	return o.Settings.OpenLedgerReadOnly(ctx, o.Path)
}

// Remote makes a command talk to shipgate serve instead of a local
// store: --server and --token, or $SHIPGATE_SERVER and $SHIPGATE_TOKEN.
type Remote struct {
	Server   string
	Token    string
	Settings *Settings
	// Given reports whether the command line gave the flag name (--store,
	// --policies, ...); nil gave none.
	Given func(name string) bool
}

// given reports whether the command line gave the flag name.
func (o *Remote) given(name string) bool { return o.Given != nil && o.Given(name) }

// URL is the server (Settings.Server): --server, then $SHIPGATE_SERVER,
// then the config's server, unless --store or $SHIPGATE_STORE names a
// local ledger.
func (o *Remote) URL() (string, error) {
	return o.Settings.Server(o.Server, o.given("store"))
}

// On reports whether the command runs against a server. A config that
// cannot be read counts as on, so that client reports it: a command never
// falls back to a local ledger because the config naming its server is
// broken.
func (o *Remote) On() bool {
	u, err := o.URL()
	return u != "" || err != nil
}

// Client returns the server's client; --store given too is an error.
func (o *Remote) Client(so *Store) (*client.Client, error) {
	if so != nil && so.Path != "" && (o.Server != "" || o.Settings.Env("SHIPGATE_SERVER") != "") {
		return nil, errors.New("--store and --server: give one (the server has its own store)")
	}
	u, tok, err := o.Endpoint()
	if err != nil {
		return nil, err
	}
	return client.New(u, tok)
}

// Endpoint is the server's URL and the token to give it: --token, then
// $SHIPGATE_TOKEN (Settings.Token).
func (o *Remote) Endpoint() (url, token string, err error) {
	u, err := o.URL()
	if err != nil {
		return "", "", err
	}
	return u, o.Settings.Token(o.Token), nil
}

// policyFlags choose the policies a local gate evaluates.
var policyFlags = []string{"policies", "data", "bundle", "verify-key", "timeout"}

// RefusePolicyFlags refuses a policy flag given with --server: the server
// evaluates its own policies, and a flag that silently did nothing would
// let a pipeline believe a rule it added was checked.
func (o *Remote) RefusePolicyFlags() error {
	for _, n := range policyFlags {
		if o.given(n) {
			return fmt.Errorf("--%s with --server: the server evaluates its own policies (shipgate serve --%s)", n, n)
		}
	}
	return nil
}

// BackendOptions say what a step's backend needs.
type BackendOptions struct {
	// Engine, when set, loads what a local gate decides with (now unless
	// Lazy); with --server, the policy flags are refused.
	Engine func(context.Context) (*engine.Engine, error)
	Lazy   bool
	// ReadOnly opens the local ledger for reading only.
	ReadOnly bool
	// V checks the evidence of the step; nil makes one with Validator
	// (none without it).
	V         *evidence.Validator
	Validator func() (*evidence.Validator, error)
	// LocalEv makes the validator for a local ledger only: a server
	// checks what it reads itself.
	LocalEv bool
}

// Backend opens the step's backend: the server when o is on, else the
// local ledger of so and the policies of bo. The caller closes it.
func (o *Remote) Backend(ctx context.Context, so *Store, bo BackendOptions) (release.Backend, error) {
	if !o.On() {
		l, err := OpenLocal(ctx, so, bo)
		if err != nil {
			return nil, err
		}
		return l, nil
	}
	if bo.Engine != nil {
		if err := o.RefusePolicyFlags(); err != nil {
			return nil, err
		}
	}
	c, err := o.Client(so)
	if err != nil {
		return nil, err
	}
	r := &release.Remote{Client: c}
	if !bo.LocalEv {
		if r.V, err = bo.validator(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// OpenLocal opens the local ledger of so, with the policies and validator
// of bo (release.OpenLocal).
func OpenLocal(ctx context.Context, so *Store, bo BackendOptions) (*release.Local, error) {
	lo := release.LocalOptions{Lazy: bo.Lazy, Engine: bo.Engine, Validator: bo.validator, Open: so.Open, Clock: so.Settings.Clock, NewID: so.Settings.NewID}
	if bo.ReadOnly {
		lo.Open = so.OpenReadOnly
	}
	return release.OpenLocal(ctx, lo)
}

// validator is V, else Validator's, else none.
func (bo BackendOptions) validator() (*evidence.Validator, error) {
	if bo.V == nil && bo.Validator != nil {
		return bo.Validator()
	}
	return bo.V, nil
}

// Tokens opens the ledger for writing and runs do with its API tokens
// (auth.StoreOf), stamped with the settings' clock and ids.
func (o *Store) Tokens(ctx context.Context, do func(*auth.Tokens) error) error {
	db, err := o.Open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	ts, err := auth.StoreOf(db)
	if err != nil {
		return err
	}
	return do(&auth.Tokens{Store: ts, Clock: o.Settings.Clock, NewID: o.Settings.NewID})
}
