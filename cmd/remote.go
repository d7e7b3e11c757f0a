package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/client"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/runner"
)

// RemoteOptions make a command talk to shipgate serve instead of a local
// store: --server and --token, or $SHIPGATE_SERVER and $SHIPGATE_TOKEN.
type RemoteOptions struct {
	Server string
	Token  string
	g      *globals
	fs     *pflag.FlagSet
}

// AddFlags binds the options to fs.
func (o *RemoteOptions) AddFlags(fs *pflag.FlagSet, g *globals) {
	o.g, o.fs = g, fs
	fs.StringVar(&o.Server, "server", "", "shipgate serve URL: the server does the work and records it, instead of a local store (default: $SHIPGATE_SERVER)")
	fs.StringVar(&o.Token, "token", "", "API token for --server (default: $SHIPGATE_TOKEN, which keeps it out of the process list)")
}

// url is the server: --server, then $SHIPGATE_SERVER, then the config's
// server, unless --store or $SHIPGATE_STORE names a local ledger.
func (o *RemoteOptions) url() (string, error) {
	if o.Server != "" {
		return o.Server, nil
	}
	if u := o.g.getenv("SHIPGATE_SERVER"); u != "" {
		return u, nil
	}
	if f := o.fs.Lookup("store"); (f != nil && f.Changed) || o.g.getenv("SHIPGATE_STORE") != "" {
		return "", nil
	}
	cfg, err := o.g.config()
	return cfg.Server, err
}

// on reports whether the command runs against a server. A config that
// cannot be read counts as on, so that client reports it: a command never
// falls back to a local ledger because the config naming its server is
// broken.
func (o *RemoteOptions) on() bool {
	u, err := o.url()
	return u != "" || err != nil
}

// client returns the server's client; --store given too is an error.
func (o *RemoteOptions) client(so *StoreOptions) (*client.Client, error) {
	if so != nil && so.Path != "" && (o.Server != "" || o.g.getenv("SHIPGATE_SERVER") != "") {
		return nil, errors.New("--store and --server: give one (the server has its own store)")
	}
	u, tok, err := o.endpoint()
	if err != nil {
		return nil, err
	}
	return client.New(u, tok)
}

// endpoint is the server's URL and the token to give it: --token, then
// $SHIPGATE_TOKEN.
func (o *RemoteOptions) endpoint() (url, token string, err error) {
	u, err := o.url()
	if err != nil {
		return "", "", err
	}
	tok := o.Token
	if tok == "" {
		tok = o.g.getenv("SHIPGATE_TOKEN")
	}
	return u, tok, nil
}

// policyFlags choose the policies a local gate evaluates.
var policyFlags = []string{"policies", "data", "bundle", "verify-key", "timeout"}

// refusePolicyFlags refuses a policy flag given with --server: the server
// evaluates its own policies, and a flag that silently did nothing would
// let a pipeline believe a rule it added was checked.
func (o *RemoteOptions) refusePolicyFlags() error {
	for _, n := range policyFlags {
		if f := o.fs.Lookup(n); f != nil && f.Changed {
			return fmt.Errorf("--%s with --server: the server evaluates its own policies (shipgate serve --%s)", n, n)
		}
	}
	return nil
}

// backendOptions say what a step's backend needs.
type backendOptions struct {
	// Policy, when set, is what a local gate decides with (loaded now
	// unless Lazy); with --server, its flags are refused.
	Policy *PolicyOptions
	Lazy   bool
	// ReadOnly opens the local ledger for reading only.
	ReadOnly bool
	// V checks the evidence of the step; nil loads Ev's validator (none
	// without Ev).
	V  *evidence.Validator
	Ev *EvidenceOptions
	// LocalEv loads Ev's validator for a local ledger only: a server
	// checks what it reads itself.
	LocalEv bool
}

// backend opens the step's backend: the server when o is on, else the
// local ledger of so and the policies of bo. The caller closes it.
func (o *RemoteOptions) backend(ctx context.Context, so *StoreOptions, bo backendOptions) (release.Backend, error) {
	if !o.on() {
		l, err := openLocal(ctx, so, bo)
		if err != nil {
			return nil, err
		}
		return l, nil
	}
	if bo.Policy != nil {
		if err := o.refusePolicyFlags(); err != nil {
			return nil, err
		}
	}
	c, err := o.client(so)
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

// openLocal opens the local ledger of so, with the policies and validator
// of bo.
func openLocal(ctx context.Context, so *StoreOptions, bo backendOptions) (*release.Local, error) {
	var eng *engine.Engine
	var err error
	if bo.Policy != nil && !bo.Lazy {
		if eng, err = bo.Policy.Engine(ctx); err != nil {
			return nil, err
		}
	}
	v, err := bo.validator()
	if err != nil {
		return nil, err
	}
	open := so.Open
	if bo.ReadOnly {
		open = so.OpenReadOnly
	}
	db, err := open(ctx)
	if err != nil {
		return nil, err
	}
	l := release.NewLocal(&gate.Gate{Engine: eng, Validator: v, Clock: so.g.clock, NewID: so.g.NewID}, db)
	if bo.Lazy {
		l.LoadEngine = bo.Policy.Engine
	}
	return l, nil
}

// validator is V, else Ev's, else none.
func (bo backendOptions) validator() (*evidence.Validator, error) {
	if bo.V == nil && bo.Ev != nil {
		return bo.Ev.Validator()
	}
	return bo.V, nil
}

// decided maps a decision to the exit code: 0 allow, 1 deny (already
// printed), the error otherwise.
func decided(d *engine.Decision, err error) error {
	switch {
	case err != nil:
		return err
	case d.Allow:
		return nil
	}
	return &exitError{code: ExitDeny, err: errDenied, silent: true}
}

// openStep opens the backend of a step that records evidence it signs
// itself (verify, watch, rollback) and completes rel from its Plans. The
// gate reads that evidence back: the validator trusts the signer's key,
// as run and collect do. (A server verifies it against its own trusted
// keys.) The caller closes the backend.
func openStep(ctx context.Context, s Streams, so *StoreOptions, ro *RemoteOptions, p *PolicyOptions, ev *EvidenceOptions, sign *SigningOptions, rel engine.Release) (release.Backend, *evidence.Signer, engine.Release, error) {
	b, err := ro.backend(ctx, so, backendOptions{Policy: p, Ev: ev})
	if err != nil {
		return nil, nil, rel, err
	}
	signer, err := sign.Signer(s.Err)
	var v *evidence.Validator
	if err == nil {
		v, err = project.TrustSigner(b.Validator(), ev.TrustedKeys, signer)
	}
	if err == nil {
		b.SetValidator(v)
		rel, err = release.OfPlans(ctx, release.PlansOf(b), v, rel)
	}
	if err != nil {
		b.Close()
		return nil, nil, rel, err
	}
	return b, signer, rel, nil
}

// stepEnvelope is the envelope of what actor records for rel on this
// host.
func stepEnvelope(rel engine.Release, actor string) runner.Envelope {
	host, _ := os.Hostname()
	return runner.Envelope{ReleaseID: rel.ID, Service: rel.Service, Environment: rel.Environment,
		Repository: rel.Repository, Commit: rel.Commit, Version: Version, Host: host, Actor: actor}
}

// stepOptions are the flags every release step that records evidence it
// signs shares (run, verify, watch, rollback): the release, who runs the
// step, and where it records and decides.
type stepOptions struct {
	Release ReleaseOptions
	Actor   string
	Policy  PolicyOptions
	Ev      EvidenceOptions
	Sign    SigningOptions
	Store   StoreOptions
	Remote  RemoteOptions
}

// addFlags binds the options to c's flags; who describes --actor.
func (o *stepOptions) addFlags(c *cobra.Command, g *globals, who string) {
	f := c.Flags()
	o.Release.AddFlags(f, g)
	personVar(f, &o.Actor, "actor", "", who+" (default: $SHIPGATE_ACTOR, $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER)")
	_ = c.MarkFlagRequired("release")
	o.Policy.AddFlags(f, g)
	o.Ev.AddFlags(f)
	o.Sign.AddFlags(f)
	o.Store.AddFlags(f, g)
	o.Remote.AddFlags(f, g)
}

// open opens the step's backend and completes rel from its Plans
// (openStep).
func (o *stepOptions) open(ctx context.Context, s Streams, rel engine.Release) (release.Backend, *evidence.Signer, engine.Release, error) {
	return openStep(ctx, s, &o.Store, &o.Remote, &o.Policy, &o.Ev, &o.Sign, rel)
}

// ledgerOptions choose the ledger a command reads or records in (a local
// store, or a server) and how it prints.
type ledgerOptions struct {
	Store  StoreOptions
	Remote RemoteOptions
	Output OutputOptions
}

// addFlags binds the options to fs.
func (o *ledgerOptions) addFlags(fs *pflag.FlagSet, g *globals) {
	o.Store.AddFlags(fs, g)
	o.Remote.AddFlags(fs, g)
	o.Output.AddFlags(fs)
}

// open opens the ledger's backend (RemoteOptions.backend).
func (o *ledgerOptions) open(ctx context.Context, bo backendOptions) (release.Backend, error) {
	return o.Remote.backend(ctx, &o.Store, bo)
}
