package options

import (
	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/internal/project"
)

// ConfigFile is read from the working directory when --config is not given.
const ConfigFile = project.ConfigFile

// Globals are the options every command shares: the config file and the
// environment, read once (project.Settings).
type Globals = project.Settings

// AddGlobalFlags binds --config to fs.
func AddGlobalFlags(fs *pflag.FlagSet, g *Globals) {
	fs.StringVar(&g.ConfigPath, "config", "", "configuration file (default: ./"+ConfigFile+" when present)")
}

// Store chooses the ledger (project.Store).
type Store struct{ project.Store }

// AddFlags binds the options to fs.
func (o *Store) AddFlags(fs *pflag.FlagSet, g *Globals) {
	o.Settings = g
	fs.StringVar(&o.Path, "store", "", "ledger: an SQLite file or a postgres:// URL (default: $SHIPGATE_STORE, the config's store, or "+project.DefaultStore+")")
}
