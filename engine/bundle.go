package engine

import (
	"context"
	"errors"
	"io/fs"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/localizevideos/shipgate/policyset"
)

// BundleOptions configure BuildBundle.
type BundleOptions struct {
	// Policies, Data and DataFiles are the policy set, as for Load.
	Policies  fs.FS
	Data      map[string]any
	DataFiles []policyset.DataFile
	// Revision is the manifest revision; empty uses the policy revision
	// digest (Engine.Revision).
	Revision string
	// SigningKey, when set, is a PEM private key that signs the bundle: see
	// policyset.SigningAlgorithm for the kinds accepted.
	SigningKey []byte
}

// BuildBundle compiles the policy set as Load does, refusing one that does
// not compile, and returns it as an OPA bundle (policyset.Set.Bundle): the
// modules (tests left out) with their source unchanged, the data
// (shipgate/config/data.yaml becomes data.shipgate.config), and a manifest
// with the revision and the root "shipgate"; signed when opts.SigningKey
// is set. Write it with policyset.WriteBundle.
func BuildBundle(ctx context.Context, opts BundleOptions) (*bundle.Bundle, error) {
	if opts.Policies == nil {
		return nil, &PolicyError{Err: errors.New("bundle: no policy source")}
	}
	set, err := policyset.Open(policyset.Source{Policies: opts.Policies, Data: opts.Data, DataFiles: opts.DataFiles})
	if err != nil {
		return nil, &PolicyError{Err: err}
	}
	// Ship only what compiles, exactly as a gate would compile it.
	e, err := load(ctx, set, Options{})
	if err != nil {
		return nil, err
	}
	if err := set.CheckRoot(); err != nil {
		return nil, &PolicyError{Err: err}
	}
	rev := opts.Revision
	if rev == "" {
		rev = e.Revision()
	}
	return set.Bundle(rev, opts.SigningKey)
}

// PolicySet returns the policy set the engine was loaded from, as the
// ledger records it, computed once at Load; callers must not change it.
func (e *Engine) PolicySet() *policyset.Record { return e.policy }
