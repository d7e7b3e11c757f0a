package options

import (
	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/internal/project"
)

// Change names the two sides of a policy change (project.Change).
type Change struct{ project.Change }

// AddFlags binds the options to fs.
func (o *Change) AddFlags(fs *pflag.FlagSet, g *Globals) {
	o.Settings = g
	fs.StringVar(&o.Base, "base", "", "the policies before the change: a directory, or a git revision (branch, tag, commit, HEAD~1) of the head's folder (required)")
	fs.StringVar(&o.Head, "head", "", "the policies after the change, a directory (default: the config's policies, or the embedded set)")
	fs.StringVar(&o.Docs, "docs", "", "the release document that rollout data changes must update (default: the config's docs)")
}
