package options

import (
	"cmp"
	"errors"

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/replay"
)

// Change names the two sides of a policy change: a base (a directory
// or a git revision of the policy folder) and a head directory.
type Change struct {
	Base string
	Head string
	Docs string
	g    *Globals
}

// AddFlags binds the options to fs.
func (o *Change) AddFlags(fs *pflag.FlagSet, g *Globals) {
	o.g = g
	fs.StringVar(&o.Base, "base", "", "the policies before the change: a directory, or a git revision (branch, tag, commit, HEAD~1) of the head's folder (required)")
	fs.StringVar(&o.Head, "head", "", "the policies after the change, a directory (default: the config's policies, or the embedded set)")
	fs.StringVar(&o.Docs, "docs", "", "the release document that rollout data changes must update (default: the config's docs)")
}

// Resolve reads both policy trees (replay.OpenSides), the head and the
// release document defaulting to the config's.
func (o *Change) Resolve() (*replay.Sides, error) {
	if o.Base == "" {
		return nil, errors.New("--base is required: a directory or a git revision")
	}
	cfg, err := o.g.Config()
	if err != nil {
		return nil, err
	}
	return replay.OpenSides(o.Base, cmp.Or(o.Head, cfg.Policies), policies.FS, cmp.Or(o.Docs, cfg.Docs))
}
