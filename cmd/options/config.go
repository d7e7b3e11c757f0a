package options

import (
	"context"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/artifact"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/store"
)

// ConfigFile is read from the working directory when --config is not given.
const ConfigFile = project.ConfigFile

// Config is shipgate.yaml: the project's defaults (project.Config) and the
// artifacts kept for rollback (Artifacts).
type Config struct {
	project.Config `yaml:",inline"`
	Artifacts      artifact.Config `yaml:"artifacts"`
}

// Globals are the options every command shares: the config file and the
// environment, read once.
type Globals struct {
	ConfigPath string
	Getenv     func(string) string
	// Now is the wall clock (Streams.Now); nil is time.Now.
	Now func() time.Time
	// NewID names decisions, violations and tokens (Streams.NewID).
	NewID func(prefix string, now time.Time) string

	loaded bool
	cfg    Config
}

// AddFlags binds --config to fs.
func (g *Globals) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&g.ConfigPath, "config", "", "configuration file (default: ./"+ConfigFile+" when present)")
}

// Config loads shipgate.yaml once. A file named with --config must exist;
// the default one is optional.
func (g *Globals) Config() (Config, error) {
	if g.loaded {
		return g.cfg, nil
	}
	path, required := g.ConfigPath, true
	if path == "" {
		path, required = ConfigFile, false
	}
	if err := project.LoadConfig(path, required, &g.cfg); err != nil {
		g.cfg = Config{}
		return Config{}, err
	}
	g.loaded = true
	return g.cfg, nil
}

// People reads the config's people: each person's key ids, from the
// public key files the config names for them (project.People).
func (g *Globals) People() (map[string][]string, error) {
	if g == nil {
		return nil, nil
	}
	cfg, err := g.Config()
	if err != nil {
		return nil, err
	}
	return project.People(cfg.People)
}

// HasConfig reports whether a shipgate.yaml applies: --config, or the file
// in the working directory.
func (g *Globals) HasConfig() bool {
	if g == nil {
		return false
	}
	if g.ConfigPath != "" {
		return true
	}
	_, err := os.Stat(ConfigFile)
	return err == nil
}

// Clock reads the wall clock.
func (g *Globals) Clock() time.Time {
	if g == nil || g.Now == nil {
		return time.Now()
	}
	return g.Now()
}

// Env reads the environment variable k; none without Getenv.
func (g *Globals) Env(k string) string {
	if g.Getenv == nil {
		return ""
	}
	return g.Getenv(k)
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

// Location is where the ledger is: a file or a PostgreSQL URL.
func (o *Store) Location() (string, error) {
	p, _, err := o.where()
	return p, err
}

// where is the ledger's location, and whether a project chose it: --store,
// $SHIPGATE_STORE or a shipgate.yaml. Without one, the default file is
// used only if `shipgate init` made it.
func (o *Store) where() (string, bool, error) {
	if o.Path != "" {
		return o.Path, true, nil
	}
	if p := o.g.Env("SHIPGATE_STORE"); p != "" {
		return p, true, nil
	}
	cfg, err := o.g.Config()
	if err != nil {
		return "", false, err
	}
	if cfg.Store != "" {
		return cfg.Store, true, nil
	}
	return project.DefaultStore, o.g.HasConfig(), nil
}

// Open opens the ledger for writing: a PostgreSQL URL (postgres://...), or
// an SQLite file (a path, or sqlite://PATH). A file that --store,
// $SHIPGATE_STORE or a shipgate.yaml names is created on first use, in a
// directory that must exist; outside a project (no shipgate.yaml, no
// --store) the default file must exist already (shipgate init makes it).
func (o *Store) Open(ctx context.Context) (store.Store, error) {
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
func (o *Store) OpenReadOnly(ctx context.Context) (store.Store, error) {
	p, err := o.Location()
	if err != nil {
		return nil, err
	}
	if project.IsPostgres(p) {
		return o.Open(ctx)
	}
	return project.OpenStoreReadOnly(ctx, p)
}
