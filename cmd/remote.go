package cmd

import (
	"context"
	"os"

	"github.com/localizevideos/shipgate/cmd/options"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/runner"
)

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
func openStep(ctx context.Context, s Streams, so *options.Store, ro *options.Remote, p *options.Policy, ev *options.Evidence, sign *options.Signing, rel engine.Release) (release.Backend, *evidence.Signer, engine.Release, error) {
	b, err := ro.Backend(ctx, so, options.BackendOptions{Policy: p, Ev: ev})
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
	Policy  options.Policy
	Ev      options.Evidence
	Sign    options.Signing
	Store   options.Store
	Remote  options.Remote
}

// addFlags binds the options to c's flags; who describes --actor.
func (o *stepOptions) addFlags(c *cobra.Command, g *options.Globals, who string) {
	f := c.Flags()
	o.Release.AddFlags(f, g)
	options.PersonVar(f, &o.Actor, "actor", "", who+" (default: $SHIPGATE_ACTOR, $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER)")
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
	Store  options.Store
	Remote options.Remote
	Output options.Output
}

// addFlags binds the options to fs.
func (o *ledgerOptions) addFlags(fs *pflag.FlagSet, g *options.Globals) {
	o.Store.AddFlags(fs, g)
	o.Remote.AddFlags(fs, g)
	o.Output.AddFlags(fs)
}

// open opens the ledger's backend (options.Remote.Backend).
func (o *ledgerOptions) open(ctx context.Context, bo options.BackendOptions) (release.Backend, error) {
	return o.Remote.Backend(ctx, &o.Store, bo)
}
