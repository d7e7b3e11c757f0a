package project

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"os"
	"time"

	"github.com/localizevideos/shipgate/artifact"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
)

// Settings are what every command of a project shares: its shipgate.yaml
// and the environment, read once, and the clock and the ids of what the
// ledger records. A flag that overrides a setting (--store, --key, ...)
// is passed to the method that resolves it; "" leaves the choice to the
// environment, the config and the defaults.
type Settings struct {
	// ConfigPath is the config file a user named (--config); "" reads
	// ConfigFile when present.
	ConfigPath string
	// Getenv reads the environment; nil reads none.
	Getenv func(string) string
	// Now is the wall clock; nil is time.Now.
	Now func() time.Time
	// NewID names decisions, violations and tokens; nil is random,
	// time-ordered ids.
	NewID func(prefix string, now time.Time) string

	loaded bool
	cfg    Config
}

// Config loads shipgate.yaml once. A file named with ConfigPath must
// exist; the default one is optional.
func (g *Settings) Config() (Config, error) {
	if g.loaded {
		return g.cfg, nil
	}
	path, required := g.ConfigPath, true
	if path == "" {
		path, required = ConfigFile, false
	}
	if err := LoadConfig(path, required, &g.cfg); err != nil {
		g.cfg = Config{}
		return Config{}, err
	}
	g.loaded = true
	return g.cfg, nil
}

// ConfigName names the config in messages: ConfigPath, or ConfigFile.
func (g *Settings) ConfigName() string {
	if g != nil && g.ConfigPath != "" {
		return g.ConfigPath
	}
	return ConfigFile
}

// People reads the config's people: each person's key ids, from the
// public key files the config names for them (People).
func (g *Settings) People() (map[string][]string, error) {
	if g == nil {
		return nil, nil
	}
	cfg, err := g.Config()
	if err != nil {
		return nil, err
	}
	return People(cfg.People)
}

// HasConfig reports whether a shipgate.yaml applies: ConfigPath, or the
// file in the working directory.
func (g *Settings) HasConfig() bool {
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
func (g *Settings) Clock() time.Time {
	if g == nil || g.Now == nil {
		return time.Now()
	}
	return g.Now()
}

// Env reads the environment variable k; none without Getenv.
func (g *Settings) Env(k string) string {
	if g.Getenv == nil {
		return ""
	}
	return g.Getenv(k)
}

// Actor names who runs the command: flag (--actor), then the CI's user,
// then the login name.
func (g *Settings) Actor(flag string) string {
	if flag != "" {
		return flag
	}
	for _, k := range []string{"SHIPGATE_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "USER"} {
		if v := g.Env(k); v != "" {
			return v
		}
	}
	return "unknown"
}

// Server is the URL of the shipgate serve a command talks to instead of
// a local ledger: flag (--server), then $SHIPGATE_SERVER, then the
// config's server, unless local (--store was given) or $SHIPGATE_STORE
// names a local ledger; "" is none.
func (g *Settings) Server(flag string, local bool) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if u := g.Env("SHIPGATE_SERVER"); u != "" {
		return u, nil
	}
	if local || g.Env("SHIPGATE_STORE") != "" {
		return "", nil
	}
	cfg, err := g.Config()
	return cfg.Server, err
}

// Token is the API token to give the server: flag (--token), then
// $SHIPGATE_TOKEN.
func (g *Settings) Token(flag string) string {
	if flag != "" {
		return flag
	}
	return g.Env("SHIPGATE_TOKEN")
}

// LedgerLocation is where the ledger is, a file or a PostgreSQL URL, and
// whether a project chose it: flag (--store), $SHIPGATE_STORE or a
// shipgate.yaml. Without one, the default file is used only if `shipgate
// init` made it.
func (g *Settings) LedgerLocation(flag string) (string, bool, error) {
	if flag != "" {
		return flag, true, nil
	}
	if p := g.Env("SHIPGATE_STORE"); p != "" {
		return p, true, nil
	}
	cfg, err := g.Config()
	if err != nil {
		return "", false, err
	}
	if cfg.Store != "" {
		return cfg.Store, true, nil
	}
	return DefaultStore, g.HasConfig(), nil
}

// OpenLedger opens the ledger (LedgerLocation) for writing: a PostgreSQL
// URL (postgres://...), or an SQLite file (a path, or sqlite://PATH). A
// file that the flag, $SHIPGATE_STORE or a shipgate.yaml names is created
// on first use, in a directory that must exist; outside a project (no
// shipgate.yaml, no flag) the default file must exist already (shipgate
// init makes it).
func (g *Settings) OpenLedger(ctx context.Context, flag string) (store.Store, error) {
	p, chosen, err := g.LedgerLocation(flag)
	if err != nil {
		return nil, err
	}
	if !chosen && !IsPostgres(p) {
		if err := Existing(p); err != nil {
			return nil, err
		}
	}
	return OpenStore(ctx, p)
}

// OpenLedgerReadOnly opens the ledger for reading only where the store
// supports it (SQLite); a PostgreSQL store is opened as OpenLedger does.
func (g *Settings) OpenLedgerReadOnly(ctx context.Context, flag string) (store.Store, error) {
	p, _, err := g.LedgerLocation(flag)
	if err != nil {
		return nil, err
	}
	if IsPostgres(p) {
		return g.OpenLedger(ctx, flag)
	}
	return OpenStoreReadOnly(ctx, p)
}

// PolicyDir is the policy directory a command works on: flag (the [DIR]
// of shipgate policy fmt), the config's policies, or ./policies.
func (g *Settings) PolicyDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	cfg, err := g.Config()
	if err != nil {
		return "", err
	}
	return cmp.Or(cfg.Policies, "policies"), nil
}

// ArtifactStore opens the artifact store of the config, in dir when it is
// not empty (--artifact-store).
func (g *Settings) ArtifactStore(dir string) (*artifact.Store, error) {
	cfg, err := g.artifacts()
	if err != nil {
		return nil, err
	}
	return cfg.Store(dir, g.ConfigName(), g.Clock)
}

// OutputPaths are the build output paths of the config (artifacts.paths),
// cleaned.
func (g *Settings) OutputPaths() ([]string, error) {
	cfg, err := g.artifacts()
	if err != nil {
		return nil, err
	}
	return cfg.OutputPaths(g.ConfigName())
}

func (g *Settings) artifacts() (artifact.Config, error) {
	if g == nil {
		return artifact.Config{}, nil
	}
	cfg, err := g.Config()
	return cfg.Artifacts, err
}

// CheckpointSigner reads the checkpoint key: flag (--key), the config's,
// or the default.
func (g *Settings) CheckpointSigner(flag string) (ed25519.PrivateKey, error) {
	path, err := g.checkpointKeyPath(flag, true)
	if err != nil {
		return nil, err
	}
	return CheckpointSigner(path)
}

// CheckpointKey reads the checkpoint public key: flag (--public-key), the
// config's, or the default.
func (g *Settings) CheckpointKey(flag string) (ed25519.PublicKey, error) {
	path, err := g.checkpointKeyPath(flag, false)
	if err != nil {
		return nil, err
	}
	return CheckpointKeyAt(path)
}

// ReadCheckpoint reads the signed checkpoint at path (--checkpoint) and
// checks it with the public key of publicKey (--public-key,
// CheckpointKey); no path is no checkpoint.
func (g *Settings) ReadCheckpoint(path, publicKey string) (*ledger.Checkpoint, ed25519.PublicKey, error) {
	if path == "" {
		return nil, nil, nil
	}
	pub, err := g.CheckpointKey(publicKey)
	if err != nil {
		return nil, nil, err
	}
	cp, err := ReadCheckpoint(path, pub)
	return cp, pub, err
}

func (g *Settings) checkpointKeyPath(flag string, private bool) (string, error) {
	if flag != "" {
		return flag, nil
	}
	cfg, err := g.Config()
	if err != nil {
		return "", err
	}
	return cfg.CheckpointKeyPath(flag, private), nil
}
