package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/internal/inputfile"
	"github.com/localizevideos/shipgate/ledger"
)

// Evidence signing keys. shipgate init makes an evidence key beside its
// checkpoint key; the first signed step makes one where init did not.
// shipgate serve signs what it records itself (approvals, overrides,
// holds) with the server key. Every public key in DefaultKeyDir is trusted
// by default.
const (
	DefaultKeyDir            = ".shipgate/keys"
	DefaultEvidenceKey       = ".shipgate/keys/evidence.key"
	DefaultEvidencePublicKey = ".shipgate/keys/evidence.pub"
	DefaultServerKey         = ".shipgate/keys/server.key"
	DefaultServerPublicKey   = ".shipgate/keys/server.pub"
)

// keyring reads the trusted public keys: paths (a directory stands for
// the *.pub files in it), or every *.pub of DefaultKeyDir. A key file that
// cannot be read or parsed is an error, never a key silently left out.
func keyring(paths []string) (*evidence.Keyring, error) {
	k := evidence.NewKeyring()
	if len(paths) == 0 {
		paths = []string{DefaultKeyDir}
		if _, err := os.Stat(DefaultKeyDir); errors.Is(err, fs.ErrNotExist) {
			return k, nil
		}
	}
	for _, p := range paths {
		files := []string{p}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			if files, err = filepath.Glob(filepath.Join(p, "*.pub")); err != nil {
				return nil, fmt.Errorf("read trusted keys in %s: %w", p, err)
			}
		}
		for _, f := range files {
			b, err := inputfile.Read(f, maxKeyBytes)
			if err != nil {
				return nil, fmt.Errorf("read trusted key: %w", err)
			}
			pub, err := ledger.ParsePublicKey(b)
			if err != nil {
				return nil, fmt.Errorf("trusted key %s: %w", f, err)
			}
			k.Add(pub)
		}
	}
	return k, nil
}

// SigningOptions choose the key that signs the evidence a command produces.
type SigningOptions struct {
	Key string
}

// AddFlags binds the options to fs.
func (o *SigningOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Key, "signing-key", "", "ed25519 private key (PEM, PKCS #8) that signs the recorded evidence (default: "+DefaultEvidenceKey+", made by shipgate init or on first use; "+DefaultPrivateKey+" in a project whose init made none)")
}

// Signer reads the signing key. Without --signing-key it takes the
// evidence key, else (a project from before init made one) shipgate init's
// checkpoint key, else it creates the evidence key (and its public half),
// saying so on errOut.
func (o *SigningOptions) Signer(errOut io.Writer) (*evidence.Signer, error) {
	path := o.Key
	if path == "" {
		path = DefaultEvidenceKey
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			if _, err := os.Stat(DefaultPrivateKey); err == nil {
				path = DefaultPrivateKey
			} else if err := createKey(path, DefaultEvidencePublicKey, errOut); err != nil {
				return nil, err
			}
		}
	}
	return readSigner(path)
}

// readSigner reads the private key at path.
func readSigner(path string) (*evidence.Signer, error) {
	b, err := inputfile.Read(path, maxKeyBytes)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	key, err := ledger.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return evidence.NewSigner(key), nil
}

// createKey writes a new key pair at priv and pub unless priv exists.
func createKey(priv, pub string, errOut io.Writer) error {
	if _, err := os.Stat(priv); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(priv), 0o700); err != nil {
		return fmt.Errorf("create evidence key: %w", err)
	}
	// As shipgate init does: keys never belong in the repository, and an
	// untracked .shipgate/ would make the next deploy look like a hot patch.
	ignore := filepath.Join(filepath.Dir(filepath.Dir(priv)), ".gitignore")
	if _, err := os.Stat(ignore); errors.Is(err, fs.ErrNotExist) {
		if err := os.WriteFile(ignore, []byte("*\n"), 0o644); err != nil {
			return fmt.Errorf("create evidence key: %w", err)
		}
	}
	privPEM, pubPEM, err := ledger.GenerateKey()
	if err != nil {
		return fmt.Errorf("create evidence key: %w", err)
	}
	// O_EXCL: two steps starting at once must not overwrite each other's key.
	f, err := os.OpenFile(priv, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create evidence key: %w", err)
	}
	if _, err := f.Write(privPEM); err != nil {
		f.Close()
		return fmt.Errorf("create evidence key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create evidence key: %w", err)
	}
	if err := os.WriteFile(pub, pubPEM, 0o644); err != nil {
		return fmt.Errorf("create evidence key: %w", err)
	}
	p, _ := ledger.ParsePublicKey(pubPEM)
	fmt.Fprintf(errOut, "shipgate: created the evidence signing key %s (key id %s); trust %s wherever this evidence is checked\n",
		priv, evidence.KeyID(p), pub)
	return nil
}

// seal signs the evidence document b in a DSSE envelope and decodes that
// with v, which must trust signer (trustSigner): the document comes back
// with its verified signer, and gate.StoreEvidence keeps the envelope in the
// ledger beside it. Every command that records evidence it produced
// itself records it through seal.
func seal(ctx context.Context, v *evidence.Validator, signer *evidence.Signer, source string, b []byte) (*evidence.Document, error) {
	env, err := signer.Seal(ctx, b)
	if err != nil {
		return nil, err
	}
	return v.Decode(source, env)
}

// trustSigner returns v trusting also the key that signs what this command
// records: a command holding the private key can vouch for its public half.
func trustSigner(v *evidence.Validator, o *EvidenceOptions, s *evidence.Signer) (*evidence.Validator, error) {
	k, err := keyring(o.TrustedKeys)
	if err != nil {
		return nil, err
	}
	k.Add(s.Public())
	return v.WithKeys(k), nil
}

type evidenceSignOptions struct {
	Path string
	Ev   EvidenceOptions
	Sign SigningOptions
}

func newEvidenceSignCmd(s Streams) *cobra.Command {
	o := &evidenceSignOptions{}
	c := &cobra.Command{
		Use:   "sign FILE",
		Short: "Validate an evidence document and write it signed, as a DSSE envelope, to stdout",
		Long: `Validate the evidence document FILE and write it to stdout in a DSSE
envelope (payloadType ` + evidence.PayloadType + `) signed with
--signing-key. Evidence that shipgate records itself (run, collect) is signed
already; this is for documents produced elsewhere by a trusted system.`,
		Example: `  openssl genpkey -algorithm ed25519 -out ci.key
  openssl pkey -in ci.key -pubout -out ci.pub
  shipgate evidence sign examples/localizevideos/evidence/allowed/plan.json --signing-key ci.key > plan.dsse.json
  shipgate evidence add plan.dsse.json --trusted-key ci.pub`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.Path = args[0]
			return evidenceSignRun(c.Context(), s, o)
		},
	}
	o.Ev.AddFlags(c.Flags())
	o.Sign.AddFlags(c.Flags())
	return c
}

func evidenceSignRun(ctx context.Context, s Streams, o *evidenceSignOptions) error {
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	signer, err := o.Sign.Signer(s.Err)
	if err != nil {
		return err
	}
	if v, err = trustSigner(v, &o.Ev, signer); err != nil {
		return err
	}
	doc, err := v.LoadFile(o.Path)
	if err != nil {
		return err
	}
	if doc.Envelope != nil {
		return fmt.Errorf("%s: already a signed envelope (signed by %s)", o.Path, strings.Join(doc.SignedBy, ", "))
	}
	// The canonical form is signed: the payload is then the document as its
	// digest names it.
	env, err := signer.Seal(ctx, doc.Canonical)
	if err != nil {
		return err
	}
	if _, err := v.Decode(o.Path, env); err != nil {
		return fmt.Errorf("verify the new envelope: %w", err)
	}
	_, err = fmt.Fprintf(s.Out, "%s\n", env)
	return err
}
