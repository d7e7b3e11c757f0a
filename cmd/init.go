package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

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
	// Approvers get a key pair each, bound to them in shipgate.yaml's
	// people: their approvals, overrides and holds count when signed
	// with it.
	Approvers []string
	Force     bool
	// KeyDir holds the checkpoint key pair; empty is .shipgate/keys.
	KeyDir string
}

func newInitCmd(s Streams, g *globals) *cobra.Command {
	o := &initOptions{}
	c := &cobra.Command{
		Use:   "init",
		Short: "Write shipgate.yaml and .shipgate/ (ledger, checkpoint and evidence keys) in the working directory",
		Long: `Write shipgate.yaml (service, environment, store, policies, the release
document for policy review, keys, people) and create .shipgate/ with the
ledger, an ed25519 key pair for signed checkpoints and one that signs the
evidence shipgate records (Build, Deploy, Verification, Monitoring,
Rollback, Hold: by default only signed copies count). Every public key in
.shipgate/keys/ is trusted by default.

--approver NAME also makes NAME a key pair (.shipgate/keys/NAME.key) and
binds it to NAME in shipgate.yaml (people:, added to the policy data's
signing.people): an approval, override or hold of NAME's counts only when
signed with it (shipgate evidence sign --signing-key). On a server,
approvers approve with their approver token instead.

--key-dir DIR writes the checkpoint key pair to DIR instead of
.shipgate/keys, and shipgate.yaml names it there: keep the private key where
the ledger's writers cannot read it (someone who can rewrite the database
and read the key beside it can sign a checkpoint of the rewritten ledger).

Refuses to overwrite an existing file without --force.`,
		Example: `  shipgate init --service localizevideos-app
  shipgate init --service localizevideos-app --environment staging --approver alice
  shipgate init --service localizevideos-app --key-dir ~/.config/shipgate/keys`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := initRun(s, g, o); err != nil {
				return err
			}
			so := &StoreOptions{Path: DefaultStore, g: g}
			db, err := so.Create(c.Context())
			if err != nil {
				return err
			}
			return db.Close()
		},
	}
	nameVar(c.Flags(), &o.Service, "service", "", "the service this repository releases")
	nameVar(c.Flags(), &o.Environment, "environment", "production", "the environment it releases to")
	c.Flags().StringSliceVar(&o.Approvers, "approver", nil, "make a signing key for this approver and bind it to them in shipgate.yaml (repeatable)")
	c.Flags().BoolVar(&o.Force, "force", false, "overwrite an existing configuration and keys")
	c.Flags().StringVar(&o.KeyDir, "key-dir", "", "write the checkpoint key pair to DIR (default: "+filepath.Dir(DefaultPrivateKey)+"); shipgate.yaml names it")
	return c
}

var approverName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// initRun writes the keys and shipgate.yaml.
func initRun(s Streams, g *globals, o *initOptions) error {
	cfgPath := g.ConfigPath
	if cfgPath == "" {
		cfgPath = ConfigFile
	}
	privPath, pubPath := DefaultPrivateKey, DefaultPublicKey
	if o.KeyDir != "" {
		dir := filepath.Clean(o.KeyDir)
		privPath, pubPath = filepath.Join(dir, "checkpoint.key"), filepath.Join(dir, "checkpoint.pub")
	}
	pairs := [][2]string{{privPath, pubPath}, {DefaultEvidenceKey, DefaultEvidencePublicKey}}
	people := ""
	for _, a := range o.Approvers {
		key := filepath.Join(DefaultKeyDir, a+".key")
		if !approverName.MatchString(a) || slices.ContainsFunc(pairs, func(p [2]string) bool { return p[0] == key }) || key == DefaultServerKey {
			return fmt.Errorf("--approver %q: want a person's name (letters, digits, . _ @ -), not one of shipgate's own keys", a)
		}
		pub := filepath.Join(DefaultKeyDir, a+".pub")
		pairs = append(pairs, [2]string{key, pub})
		people += fmt.Sprintf("  %s: [%s]\n", a, pub)
	}
	if people == "" {
		people = "  {}\n"
	} else {
		people = "\n" + people
	}
	check := []string{cfgPath}
	for _, p := range pairs {
		check = append(check, p[0], p[1])
	}
	for _, p := range check {
		if _, err := os.Stat(p); err == nil && !o.Force {
			return fmt.Errorf("%s exists: refusing to overwrite it without --force", p)
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := os.MkdirAll(DefaultKeyDir, 0o700); err != nil {
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
	// A key each: the checkpoints' is kept for the auditors, the evidence
	// key is the one a pipeline replaces with its own, and a person's
	// signs for that person only.
	for _, k := range pairs {
		priv, pub, err := ledger.GenerateKey()
		if err != nil {
			return err
		}
		if err := os.WriteFile(k[0], priv, 0o600); err != nil {
			return fmt.Errorf("write key: %w", err)
		}
		if err := os.WriteFile(k[1], pub, 0o644); err != nil {
			return fmt.Errorf("write key: %w", err)
		}
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
# The evidence shipgate records is signed with %s (--signing-key);
# every public key in %s/ is trusted (--trusted-key), and the default
# policy data counts Build, Deploy, Verification, Monitoring, Rollback and
# Hold only when so signed (signing.required).
keys:
  private: %q
  public: %q
# People and the public keys that sign their approvals, overrides and holds
# (added to the policy data's signing.people): a grant counts only when it
# is signed by the key of the person it names, e.g.
#   shipgate evidence sign approval.json --signing-key .shipgate/keys/alice.key
# (shipgate init --approver NAME makes such a key). A pipeline's key is
# never one of them.
people:%s`, o.Service, o.Environment, DefaultStore, DefaultDocs, DefaultEvidenceKey, DefaultKeyDir, privPath, pubPath, people)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	var approvers string
	if len(o.Approvers) > 0 {
		approvers = fmt.Sprintf(", and a signing key for %s", strings.Join(o.Approvers, ", "))
	}
	_, err := fmt.Fprintf(s.Out, "wrote %s, %s, %s and %s, the evidence signing key %s%s\n",
		cfgPath, DefaultStore, privPath, pubPath, DefaultEvidenceKey, approvers)
	return err
}
