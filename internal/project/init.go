package project

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"

	"github.com/localizevideos/shipgate/ledger"
)

// InitOptions say what Init writes.
type InitOptions struct {
	// Config is the configuration file to write; empty is ConfigFile.
	Config      string
	Service     string
	Environment string
	// Approvers get a key pair each, bound to them in the config's people:
	// their approvals, overrides and holds count when signed with it.
	Approvers []string
	// Force overwrites existing files.
	Force bool
	// KeyDir holds the checkpoint key pair; empty is KeyDir.
	KeyDir string
}

// Initialized names what Init wrote besides the fixed locations
// (DefaultStore's directory, EvidenceKey).
type Initialized struct {
	Config                             string
	CheckpointKey, CheckpointPublicKey string
}

// approverName is compiled when a project is first initialised, not when
// any command starts.
var approverName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`) })

// Init writes the keys and the configuration of a new project: a key pair
// for checkpoints, one for evidence and one per approver, the .gitignore
// of .shipgate/, and the config naming them. It refuses to overwrite a
// file without o.Force. The ledger itself is created by opening it.
func Init(o InitOptions) (Initialized, error) {
	out := Initialized{Config: o.Config, CheckpointKey: CheckpointKey, CheckpointPublicKey: CheckpointPublicKey}
	if out.Config == "" {
		out.Config = ConfigFile
	}
	if o.KeyDir != "" {
		dir := filepath.Clean(o.KeyDir)
		out.CheckpointKey, out.CheckpointPublicKey = filepath.Join(dir, "checkpoint.key"), filepath.Join(dir, "checkpoint.pub")
	}
	pairs := [][2]string{{out.CheckpointKey, out.CheckpointPublicKey}, {EvidenceKey, EvidencePublicKey}}
	people := ""
	for _, a := range o.Approvers {
		key := filepath.Join(KeyDir, a+".key")
		if !approverName().MatchString(a) || slices.ContainsFunc(pairs, func(p [2]string) bool { return p[0] == key }) || key == ServerKey {
			return out, fmt.Errorf("--approver %q: want a person's name (letters, digits, . _ @ -), not one of shipgate's own keys", a)
		}
		pub := filepath.Join(KeyDir, a+".pub")
		pairs = append(pairs, [2]string{key, pub})
		people += fmt.Sprintf("  %s: [%s]\n", a, pub)
	}
	if people == "" {
		people = "  {}\n"
	} else {
		people = "\n" + people
	}
	check := []string{out.Config}
	for _, p := range pairs {
		check = append(check, p[0], p[1])
	}
	for _, p := range check {
		if _, err := os.Stat(p); err == nil && !o.Force {
			return out, fmt.Errorf("%s exists: refusing to overwrite it without --force", p)
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return out, err
		}
	}
	if err := os.MkdirAll(KeyDir, 0o700); err != nil {
		return out, fmt.Errorf("create .shipgate: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(out.CheckpointKey), 0o700); err != nil {
		return out, fmt.Errorf("create the key directory: %w", err)
	}
	// The ledger and the keys never belong in the repository, and an
	// untracked file would make every deploy look like a hot patch.
	if err := os.WriteFile(filepath.Join(filepath.Dir(DefaultStore), ".gitignore"), []byte("*\n"), 0o644); err != nil {
		return out, fmt.Errorf("write .shipgate/.gitignore: %w", err)
	}
	// A key each: the checkpoints' is kept for the auditors, the evidence
	// key is the one a pipeline replaces with its own, and a person's
	// signs for that person only.
	for _, k := range pairs {
		priv, pub, err := ledger.GenerateKey()
		if err != nil {
			return out, err
		}
		if err := os.WriteFile(k[0], priv, 0o600); err != nil {
			return out, fmt.Errorf("write key: %w", err)
		}
		if err := os.WriteFile(k[1], pub, 0o644); err != nil {
			return out, fmt.Errorf("write key: %w", err)
		}
	}
	cfg := fmt.Sprintf(configTemplate, o.Service, o.Environment, DefaultStore, DefaultDocs, EvidenceKey, KeyDir,
		out.CheckpointKey, out.CheckpointPublicKey, people)
	if err := os.WriteFile(out.Config, []byte(cfg), 0o644); err != nil {
		return out, fmt.Errorf("write config: %w", err)
	}
	return out, nil
}

// configTemplate is the shipgate.yaml Init writes.
const configTemplate = `# shipgate configuration: defaults for every command run in this directory.
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
people:%s`
