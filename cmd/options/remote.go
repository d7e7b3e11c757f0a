package options

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/client"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/release"
)

// Remote makes a command talk to shipgate serve instead of a local
// store: --server and --token, or $SHIPGATE_SERVER and $SHIPGATE_TOKEN.
type Remote struct {
	Server string
	Token  string
	g      *Globals
	fs     *pflag.FlagSet
}

// AddFlags binds the options to fs.
func (o *Remote) AddFlags(fs *pflag.FlagSet, g *Globals) {
	o.g, o.fs = g, fs
	fs.StringVar(&o.Server, "server", "", "shipgate serve URL: the server does the work and records it, instead of a local store (default: $SHIPGATE_SERVER)")
	fs.StringVar(&o.Token, "token", "", "API token for --server (default: $SHIPGATE_TOKEN, which keeps it out of the process list)")
}

// URL is the server (project.Settings.Server): --server, then
// $SHIPGATE_SERVER, then the config's server, unless --store or
// $SHIPGATE_STORE names a local ledger.
func (o *Remote) URL() (string, error) {
	f := o.fs.Lookup("store")
	return o.g.Server(o.Server, f != nil && f.Changed)
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
	if so != nil && so.Path != "" && (o.Server != "" || o.g.Env("SHIPGATE_SERVER") != "") {
		return nil, errors.New("--store and --server: give one (the server has its own store)")
	}
	u, tok, err := o.Endpoint()
	if err != nil {
		return nil, err
	}
	return client.New(u, tok)
}

// Endpoint is the server's URL and the token to give it: --token, then
// $SHIPGATE_TOKEN (project.Settings.Token).
func (o *Remote) Endpoint() (url, token string, err error) {
	u, err := o.URL()
	if err != nil {
		return "", "", err
	}
	return u, o.g.Token(o.Token), nil
}

// policyFlags choose the policies a local gate evaluates.
var policyFlags = []string{"policies", "data", "bundle", "verify-key", "timeout"}

// RefusePolicyFlags refuses a policy flag given with --server: the server
// evaluates its own policies, and a flag that silently did nothing would
// let a pipeline believe a rule it added was checked.
func (o *Remote) RefusePolicyFlags() error {
	for _, n := range policyFlags {
		if f := o.fs.Lookup(n); f != nil && f.Changed {
			return fmt.Errorf("--%s with --server: the server evaluates its own policies (shipgate serve --%s)", n, n)
		}
	}
	return nil
}

// BackendOptions say what a step's backend needs.
type BackendOptions struct {
	// Policy, when set, is what a local gate decides with (loaded now
	// unless Lazy); with --server, its flags are refused.
	Policy *Policy
	Lazy   bool
	// ReadOnly opens the local ledger for reading only.
	ReadOnly bool
	// V checks the evidence of the step; nil loads Ev's validator (none
	// without Ev).
	V  *evidence.Validator
	Ev *Evidence
	// LocalEv loads Ev's validator for a local ledger only: a server
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
	if bo.Policy != nil {
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
	lo := release.LocalOptions{Lazy: bo.Lazy, Validator: bo.validator, Open: so.Open, Clock: so.g.Clock, NewID: so.g.NewID}
	if bo.Policy != nil {
		lo.Engine = bo.Policy.Engine
	}
	if bo.ReadOnly {
		lo.Open = so.OpenReadOnly
	}
	return release.OpenLocal(ctx, lo)
}

// validator is V, else Ev's, else none.
func (bo BackendOptions) validator() (*evidence.Validator, error) {
	if bo.V == nil && bo.Ev != nil {
		return bo.Ev.Validator()
	}
	return bo.V, nil
}
