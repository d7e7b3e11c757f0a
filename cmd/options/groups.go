package options

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/collect"
	"github.com/localizevideos/shipgate/collect/httpcheck"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/store"
)

// Release names the release a command is about.
type Release struct {
	engine.Release
	g *Globals
}

// AddFlags binds the options to fs.
func (o *Release) AddFlags(fs *pflag.FlagSet, g *Globals) {
	o.g = g
	NameVar(fs, &o.ID, "release", "", "release id (required)")
	NameVar(fs, &o.Service, "service", "", "service (default: the config's, or the release's Plan)")
	NameVar(fs, &o.Environment, "environment", "", "environment (default: the config's, or the release's Plan)")
	CommitVar(fs, &o.Commit, "commit", "", "commit (default: from the release's Plan)")
}

// Resolve is the release the flags name, its service and environment
// defaulting to the config's.
func (o *Release) Resolve() (engine.Release, error) {
	cfg, err := o.g.Config()
	if err != nil {
		return engine.Release{}, err
	}
	r := o.Release
	if r.Service == "" {
		r.Service = cfg.Service
	}
	if r.Environment == "" {
		r.Environment = cfg.Environment
	}
	return r, nil
}

// ActorHelp is how an --actor flag finds its default.
const ActorHelp = " (default: $SHIPGATE_ACTOR, $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER)"

// ActorVar defines --actor, a person's name; who says who it names
// ("who asks").
func ActorVar(fs *pflag.FlagSet, p *string, who string) {
	PersonVar(fs, p, "actor", "", who+ActorHelp)
}

// ViolationFilter chooses the violations a list shows.
type ViolationFilter struct {
	Open, Closed     bool
	Service, Release string
}

// AddFlags binds the options to fs.
func (o *ViolationFilter) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.Open, "open", false, "only open ones")
	fs.BoolVar(&o.Closed, "closed", false, "only closed ones")
	NameVar(fs, &o.Service, "service", "", "only this service's")
	NameVar(fs, &o.Release, "release", "", "only this release's")
}

// Filter is the store's filter of the flags; --open and --closed exclude
// each other.
func (o *ViolationFilter) Filter() (store.Filter, error) {
	f := store.Filter{Service: o.Service, ReleaseID: o.Release}
	switch {
	case o.Open && o.Closed:
		return f, errors.New("--open and --closed exclude each other")
	case o.Open:
		f.Status = store.StatusOpen
	case o.Closed:
		f.Status = store.StatusClosed
	}
	return f, nil
}

// Ledger chooses the ledger a command reads or records in (a local
// store, or a server) and how it prints.
type Ledger struct {
	Store  Store
	Remote Remote
	Output Output
}

// AddFlags binds the options to fs.
func (o *Ledger) AddFlags(fs *pflag.FlagSet, g *Globals) {
	o.Store.AddFlags(fs, g)
	o.Remote.AddFlags(fs, g)
	o.Output.AddFlags(fs)
}

// Open opens the ledger's backend (Remote.Backend).
func (o *Ledger) Open(ctx context.Context, bo BackendOptions) (release.Backend, error) {
	return o.Remote.Backend(ctx, &o.Store, bo)
}

// Step are the flags every release step that records evidence it signs
// shares (run, verify, watch, rollback): the release, who runs the step,
// and where it records and decides. The command marks --release
// required.
type Step struct {
	Release Release
	Actor   string
	Policy  Policy
	Ev      Evidence
	Sign    Signing
	Store   Store
	Remote  Remote
}

// AddFlags binds the options to fs; who describes --actor.
func (o *Step) AddFlags(fs *pflag.FlagSet, g *Globals, who string) {
	o.Release.AddFlags(fs, g)
	ActorVar(fs, &o.Actor, who)
	o.Policy.AddFlags(fs, g)
	o.Ev.AddFlags(fs)
	o.Sign.AddFlags(fs)
	o.Store.AddFlags(fs, g)
	o.Remote.AddFlags(fs, g)
}

// Open opens the step's backend and completes rel from its Plans
// (OpenStep).
func (o *Step) Open(ctx context.Context, errOut io.Writer, rel engine.Release) (release.Backend, *evidence.Signer, engine.Release, error) {
	return OpenStep(ctx, errOut, &o.Store, &o.Remote, &o.Policy, &o.Ev, &o.Sign, rel)
}

// OpenStep opens the backend of a step that records evidence it signs
// itself (verify, watch, rollback, hold) and completes rel from its
// Plans. The gate reads that evidence back: the validator trusts the
// signer's key, as run and collect do. (A server verifies it against its
// own trusted keys.) A key made on first use is reported on errOut. The
// caller closes the backend.
func OpenStep(ctx context.Context, errOut io.Writer, so *Store, ro *Remote, p *Policy, ev *Evidence, sign *Signing, rel engine.Release) (release.Backend, *evidence.Signer, engine.Release, error) {
	b, err := ro.Backend(ctx, so, BackendOptions{Policy: p, Ev: ev})
	if err != nil {
		return nil, nil, rel, err
	}
	signer, err := sign.Signer(errOut)
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

// Record are the flags of a command that records evidence it produced
// itself: the release, the evidence checks, the signing key and the
// ledger. The command marks --release required.
type Record struct {
	Release Release
	Ev      Evidence
	Sign    Signing
	Store   Store
}

// AddFlags binds the options to fs.
func (o *Record) AddFlags(fs *pflag.FlagSet, g *Globals) {
	o.Release.AddFlags(fs, g)
	o.Ev.AddFlags(fs)
	o.Sign.AddFlags(fs)
	o.Store.AddFlags(fs, g)
}

// Open resolves the release, loads the validator and the signing key
// (Evidence.ValidatorSigning), opens the ledger and
// completes the release from its Plans there (release.OfPlans): a release
// without a Plan is an error. It returns the recorder of what version
// records, and the ledger, which the caller closes.
func (o *Record) Open(ctx context.Context, errOut io.Writer, version string) (*collect.Recorder, store.Store, error) {
	rel, err := o.Release.Resolve()
	if err != nil {
		return nil, nil, err
	}
	v, signer, err := o.Ev.ValidatorSigning(&o.Sign, errOut)
	if err != nil {
		return nil, nil, err
	}
	db, err := o.Store.Open(ctx)
	if err != nil {
		return nil, nil, err
	}
	if rel, err = release.OfPlans(ctx, db, v, rel); err != nil {
		db.Close()
		return nil, nil, err
	}
	return &collect.Recorder{Sealer: collect.Sealer{Validator: v, Signer: signer}, Ledger: db,
		Release: rel, Version: version, Clock: o.Release.g.Clock, Timeout: release.RecordTimeout}, db, nil
}

// Checks are the smoke checks shipgate verify runs: the checks file, the
// base URL and the vars given to it.
type Checks struct {
	File string
	Base string
	Vars []string
}

// AddFlags binds the options to fs.
func (o *Checks) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.File, "checks", "", "checks file, YAML (required)")
	fs.StringVar(&o.Base, "base", "", "base URL the steps are relative to (default: the file's base)")
	fs.StringArrayVar(&o.Vars, "var", nil, "K=V: a var for the checks file, over the file's vars (repeatable)")
}

// Load reads and compiles the checks file with the flags' base and vars.
func (o *Checks) Load() (*httpcheck.Suite, error) {
	vars := map[string]string{}
	for _, kv := range o.Vars {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--var %q: want K=V", kv)
		}
		vars[k] = val
	}
	return Load(o.File, "checks", func(path string, b []byte) (*httpcheck.Suite, error) {
		return httpcheck.Load(path, b, httpcheck.Options{Base: o.Base, Vars: vars})
	})
}
