package cmd

import (
	"context"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/store"
)

// ConfigFile is read from the working directory when --config is not given.
const ConfigFile = project.ConfigFile

// config is shipgate.yaml: the project's defaults (project.Config) and the
// artifacts kept for rollback (cmd/rollback.go).
type config struct {
	project.Config `yaml:",inline"`
	Artifacts      artifactConfig `yaml:"artifacts"`
}

// globals are the options every command shares: the config file and the
// environment, read once.
type globals struct {
	ConfigPath string
	Getenv     func(string) string
	// Now is the wall clock (Streams.Now); nil is time.Now.
	Now func() time.Time
	// NewID names decisions, violations and tokens (Streams.NewID).
	NewID func(prefix string, now time.Time) string

	loaded bool
	cfg    config
}

func (g *globals) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&g.ConfigPath, "config", "", "configuration file (default: ./"+ConfigFile+" when present)")
}

// config loads shipgate.yaml once. A file named with --config must exist;
// the default one is optional.
func (g *globals) config() (config, error) {
	if g.loaded {
		return g.cfg, nil
	}
	path, required := g.ConfigPath, true
	if path == "" {
		path, required = ConfigFile, false
	}
	if err := project.LoadConfig(path, required, &g.cfg); err != nil {
		g.cfg = config{}
		return config{}, err
	}
	g.loaded = true
	return g.cfg, nil
}

// people reads the config's people: each person's key ids, from the
// public key files the config names for them (project.People).
func (g *globals) people() (map[string][]string, error) {
	if g == nil {
		return nil, nil
	}
	cfg, err := g.config()
	if err != nil {
		return nil, err
	}
	return project.People(cfg.People)
}

// hasConfig reports whether a shipgate.yaml applies: --config, or the file
// in the working directory.
func (g *globals) hasConfig() bool {
	if g == nil {
		return false
	}
	if g.ConfigPath != "" {
		return true
	}
	_, err := os.Stat(ConfigFile)
	return err == nil
}

// clock reads the wall clock.
func (g *globals) clock() time.Time {
	if g == nil || g.Now == nil {
		return time.Now()
	}
	return g.Now()
}

func (g *globals) getenv(k string) string {
	if g.Getenv == nil {
		return ""
	}
	return g.Getenv(k)
}

// StoreOptions choose the ledger.
type StoreOptions struct {
	Path string
	g    *globals
}

// AddFlags binds the options to fs.
func (o *StoreOptions) AddFlags(fs *pflag.FlagSet, g *globals) {
	o.g = g
	fs.StringVar(&o.Path, "store", "", "ledger: an SQLite file or a postgres:// URL (default: $SHIPGATE_STORE, the config's store, or "+project.DefaultStore+")")
}

func (o *StoreOptions) path() (string, error) {
	p, _, err := o.where()
	return p, err
}

// where is the ledger's location, and whether a project chose it: --store,
// $SHIPGATE_STORE or a shipgate.yaml. Without one, the default file is
// used only if `shipgate init` made it.
func (o *StoreOptions) where() (string, bool, error) {
	if o.Path != "" {
		return o.Path, true, nil
	}
	if p := o.g.getenv("SHIPGATE_STORE"); p != "" {
		return p, true, nil
	}
	cfg, err := o.g.config()
	if err != nil {
		return "", false, err
	}
	if cfg.Store != "" {
		return cfg.Store, true, nil
	}
	return project.DefaultStore, o.g.hasConfig(), nil
}

// ledgerStore is the store contract (store.Store) the commands use.
type ledgerStore = store.Store

// Open opens the ledger for writing: a PostgreSQL URL (postgres://...), or
// an SQLite file (a path, or sqlite://PATH). A file that --store,
// $SHIPGATE_STORE or a shipgate.yaml names is created on first use, in a
// directory that must exist; outside a project (no shipgate.yaml, no
// --store) the default file must exist already (shipgate init makes it).
func (o *StoreOptions) Open(ctx context.Context) (ledgerStore, error) {
	p, chosen, err := o.where()
	if err != nil {
		return nil, err
	}
	if !chosen && !project.IsPostgres(p) {
		if err := project.Existing(p); err != nil {
			return nil, err
		}
	}
	return project.OpenStore(ctx, p)
}

// OpenReadOnly opens the ledger for reading only where the store supports
// it (SQLite); a PostgreSQL store is opened as usual.
func (o *StoreOptions) OpenReadOnly(ctx context.Context) (ledgerStore, error) {
	p, err := o.path()
	if err != nil {
		return nil, err
	}
	if project.IsPostgres(p) {
		return o.Open(ctx)
	}
	return project.OpenStoreReadOnly(ctx, p)
}
