package options

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/store"
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

// Store chooses the ledger.
type Store struct {
	Path string
	g    *Globals
}

// AddFlags binds the options to fs.
func (o *Store) AddFlags(fs *pflag.FlagSet, g *Globals) {
	o.g = g
	fs.StringVar(&o.Path, "store", "", "ledger: an SQLite file or a postgres:// URL (default: $SHIPGATE_STORE, the config's store, or "+project.DefaultStore+")")
}

// Location is where the ledger is: a file or a PostgreSQL URL
// (project.Settings.LedgerLocation).
func (o *Store) Location() (string, error) {
	p, _, err := o.g.LedgerLocation(o.Path)
	return p, err
}

// Open opens the ledger for writing (project.Settings.OpenLedger).
func (o *Store) Open(ctx context.Context) (store.Store, error) {
	return o.g.OpenLedger(ctx, o.Path)
}

// OpenReadOnly opens the ledger for reading only where the store supports
// it (project.Settings.OpenLedgerReadOnly).
func (o *Store) OpenReadOnly(ctx context.Context) (store.Store, error) {
	return o.g.OpenLedgerReadOnly(ctx, o.Path)
}
