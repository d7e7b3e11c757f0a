package options

import (
	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/internal/project"
)

// Remote makes a command talk to shipgate serve instead of a local
// store (project.Remote).
type Remote struct{ project.Remote }

// AddFlags binds the options to fs.
func (o *Remote) AddFlags(fs *pflag.FlagSet, g *Globals) {
	o.Settings = g
	o.Given = func(name string) bool {
		f := fs.Lookup(name)
		return f != nil && f.Changed
	}
	fs.StringVar(&o.Server, "server", "", "shipgate serve URL: the server does the work and records it, instead of a local store (default: $SHIPGATE_SERVER)")
	fs.StringVar(&o.Token, "token", "", "API token for --server (default: $SHIPGATE_TOKEN, which keeps it out of the process list)")
}

// BackendOptions say what a step's backend needs (project.BackendOptions).
type BackendOptions = project.BackendOptions
