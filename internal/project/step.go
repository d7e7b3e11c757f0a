package project

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/localizevideos/shipgate/collect"
	"github.com/localizevideos/shipgate/collect/httpcheck"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/store"
)

// Release is the release a command is about (--release, --service,
// --environment, --commit).
type Release struct {
	engine.Release
	// Settings give the config's service and environment.
	Settings *Settings
}

// Resolve is the release the flags name, its service and environment
// defaulting to the config's.
func (o *Release) Resolve() (engine.Release, error) {
	cfg, err := o.Settings.Config()
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

// ViolationFilter chooses the violations a list shows: --open, --closed,
// --service and --release.
type ViolationFilter struct {
	Open, Closed     bool
	Service, Release string
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

// Step is what a step that records evidence it signs itself opens
// (verify, watch, rollback, hold): its ledger or server, its policies,
// its evidence checks and its signing key.
type Step struct {
	Store  *Store
	Remote *Remote
	Policy *Policy
	Ev     *Evidence
	Sign   *Signing
}

// Open opens the step's backend and completes rel from its Plans. The
// gate reads that evidence back: the validator trusts the signer's key,
// as run and collect do. (A server verifies it against its own trusted
// keys.) A key made on first use is reported on errOut. The caller closes
// the backend.
func (st Step) Open(ctx context.Context, errOut io.Writer, rel engine.Release) (release.Backend, *evidence.Signer, engine.Release, error) {
	b, err := st.Remote.Backend(ctx, st.Store, BackendOptions{Engine: st.Policy.Engine, Validator: st.Ev.Validator})
	if err != nil {
		return nil, nil, rel, err
	}
	signer, err := st.Sign.Signer(errOut)
	var v *evidence.Validator
	if err == nil {
		v, err = TrustSigner(b.Validator(), st.Ev.TrustedKeys, signer)
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

// Record is what a command that records evidence it produced itself
// opens: the release, the evidence checks, the signing key and the
// ledger.
type Record struct {
	Release *Release
	Ev      *Evidence
	Sign    *Signing
	Store   *Store
}

// Open resolves the release, loads the validator and the signing key
// (Evidence.ValidatorSigning), opens the ledger and completes the release
// from its Plans there (release.OfPlans): a release without a Plan is an
// error. It returns the recorder of what version records, and the ledger,
// which the caller closes.
func (o Record) Open(ctx context.Context, errOut io.Writer, version string) (*collect.Recorder, store.Store, error) {
	rel, err := o.Release.Resolve()
	if err != nil {
		return nil, nil, err
	}
	v, signer, err := o.Ev.ValidatorSigning(o.Sign, errOut)
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
		Release: rel, Version: version, Clock: o.Release.Settings.Clock, Timeout: release.RecordTimeout}, db, nil
}

// Checks are the smoke checks shipgate verify runs: the checks file, the
// base URL and the vars given to it (--checks, --base, --var).
type Checks struct {
	File string
	Base string
	Vars []string
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
