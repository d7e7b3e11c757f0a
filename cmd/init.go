package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/ledger"
)

// DefaultDocs is the release document shipgate init names in docs: (the
// one policy review holds rollout data changes to), where the example
// pipelines in examples/ci expect it.
const DefaultDocs = "docs/RELEASE.md"

type initOptions struct {
	Service     string
	Environment string
	Force       bool
	// KeyDir holds the checkpoint key pair; empty is .shipgate/keys.
	KeyDir string
}

func newInitCmd(s Streams, g *globals) *cobra.Command {
	o := &initOptions{}
	c := &cobra.Command{
		Use:   "init",
		Short: "Write shipgate.yaml and .shipgate/ (ledger, checkpoint key) in the working directory",
		Long: `Write shipgate.yaml (service, environment, store, policies, the release
document for policy review, keys) and create .shipgate/ with the ledger and
an ed25519 key pair for signed checkpoints. Refuses to overwrite an
existing file without --force.

--key-dir DIR writes the key pair to DIR instead of .shipgate/keys, and
shipgate.yaml names it there: keep the private key where the ledger's
writers cannot read it (someone who can rewrite the database and read the
key beside it can sign a checkpoint of the rewritten ledger).`,
		Example: `  shipgate init --service localizevideos-app
  shipgate init --service localizevideos-app --environment staging
  shipgate init --service localizevideos-app --key-dir ~/.config/shipgate/keys`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfgPath := g.ConfigPath
			if cfgPath == "" {
				cfgPath = ConfigFile
			}
			privPath, pubPath := DefaultPrivateKey, DefaultPublicKey
			if o.KeyDir != "" {
				dir := filepath.Clean(o.KeyDir)
				privPath, pubPath = filepath.Join(dir, "checkpoint.key"), filepath.Join(dir, "checkpoint.pub")
			}
			for _, p := range []string{cfgPath, privPath, pubPath} {
				if _, err := os.Stat(p); err == nil && !o.Force {
					return fmt.Errorf("%s exists: refusing to overwrite it without --force", p)
				} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			if err := os.MkdirAll(filepath.Dir(DefaultStore), 0o700); err != nil {
				return fmt.Errorf("create .shipgate: %w", err)
			}
			if err := os.MkdirAll(filepath.Dir(privPath), 0o700); err != nil {
				return fmt.Errorf("create the key directory: %w", err)
			}
			// The ledger and the keys never belong in the repository, and an
			// untracked file would make every deploy look like a hot patch.
			if err := os.WriteFile(filepath.Join(filepath.Dir(DefaultStore), ".gitignore"), []byte("*\n"), 0o644); err != nil {
				return fmt.Errorf("write .shipgate/.gitignore: %w", err)
			}
			priv, pub, err := ledger.GenerateKey()
			if err != nil {
				return err
			}
			if err := os.WriteFile(privPath, priv, 0o600); err != nil {
				return fmt.Errorf("write key: %w", err)
			}
			if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
				return fmt.Errorf("write key: %w", err)
			}
			cfg := fmt.Sprintf(`# shipgate configuration: defaults for every command run in this directory.
# Flags override these; see shipgate COMMAND --help.
service: %q
environment: %q
# The ledger: an SQLite file (the embedded default).
store: %s
# Policy directory and data file; empty uses the embedded LocalizeVideos set.
policies: ""
data: ""
# The release document: shipgate policy review fails when rollout data
# (capabilities, flags, pipeline triggers, freeze) changes without it.
docs: %s
# ed25519 key pair for signed checkpoints (shipgate audit checkpoint).
# Keep a copy of the public key, and the checkpoints, outside this directory;
# keep the private key where the ledger's writers cannot read it
# (shipgate init --key-dir DIR): with the database and the key, anyone can
# sign a checkpoint of a rewritten ledger.
keys:
  private: %q
  public: %q
`, o.Service, o.Environment, DefaultStore, DefaultDocs, privPath, pubPath)
			if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
				return fmt.Errorf("write config: %w", err)
			}
			so := &StoreOptions{Path: DefaultStore, g: g}
			db, err := so.Create(c.Context())
			if err != nil {
				return err
			}
			if err := db.Close(); err != nil {
				return err
			}
			_, err = fmt.Fprintf(s.Out, "wrote %s, %s, %s and %s\n", cfgPath, DefaultStore, privPath, pubPath)
			return err
		},
	}
	nameVar(c.Flags(), &o.Service, "service", "", "the service this repository releases")
	nameVar(c.Flags(), &o.Environment, "environment", "production", "the environment it releases to")
	c.Flags().BoolVar(&o.Force, "force", false, "overwrite an existing configuration and key")
	c.Flags().StringVar(&o.KeyDir, "key-dir", "", "write the checkpoint key pair to DIR (default: "+filepath.Dir(DefaultPrivateKey)+"); shipgate.yaml names it")
	return c
}
