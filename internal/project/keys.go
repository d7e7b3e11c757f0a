package project

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/internal/inputfile"
	"github.com/localizevideos/shipgate/ledger"
)

// Keyring reads the trusted public keys: paths (a directory stands for the
// *.pub files in it), or every *.pub of KeyDir. A key file that cannot be
// read or parsed is an error, never a key silently left out.
func Keyring(paths []string) (*evidence.Keyring, error) {
	k := evidence.NewKeyring()
	if len(paths) == 0 {
		paths = []string{KeyDir}
		if _, err := os.Stat(KeyDir); errors.Is(err, fs.ErrNotExist) {
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
			b, err := inputfile.Read(f, MaxKeyBytes)
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

// EvidenceSigner reads the key that signs recorded evidence: path, or
// without one the evidence key, else (a project from before init made one)
// the checkpoint key, else it creates the evidence key (and its public
// half), saying so on errOut.
func EvidenceSigner(path string, errOut io.Writer) (*evidence.Signer, error) {
	if path == "" {
		path = EvidenceKey
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			if _, err := os.Stat(CheckpointKey); err == nil {
				path = CheckpointKey
			} else if err := CreateKey(path, EvidencePublicKey, errOut); err != nil {
				return nil, err
			}
		}
	}
	return ReadSigner(path)
}

// ReadSigner reads the private key at path.
func ReadSigner(path string) (*evidence.Signer, error) {
	b, err := inputfile.Read(path, MaxKeyBytes)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	key, err := ledger.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return evidence.NewSigner(key), nil
}

// ServerSigner reads the key that signs what shipgate serve records
// itself: path, or without one ServerKey, created on first start. keys
// names it for the policy data's signing.servers
// (engine.Options.ServerKeys): "shipgate serve (PATH)" by its key id.
func ServerSigner(path string) (signer *evidence.Signer, keys map[string]string, err error) {
	if path == "" {
		path = ServerKey
		if err := CreateKey(path, ServerPublicKey, io.Discard); err != nil {
			return nil, nil, err
		}
	}
	if signer, err = ReadSigner(path); err != nil {
		return nil, nil, err
	}
	id, _ := signer.KeyID()
	return signer, map[string]string{id: "shipgate serve (" + path + ")"}, nil
}

// CreateKey writes a new key pair at priv and pub unless priv exists,
// saying so on errOut.
func CreateKey(priv, pub string, errOut io.Writer) error {
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

// Seal signs the evidence document b in a DSSE envelope and decodes that
// with v, which must trust signer (TrustSigner): the document comes back
// with its verified signer, and gate.StoreEvidence keeps the envelope in
// the ledger beside it. Every command that records evidence it produced
// itself records it through Seal.
func Seal(ctx context.Context, v *evidence.Validator, signer *evidence.Signer, source string, b []byte) (*evidence.Document, error) {
	env, err := signer.Seal(ctx, b)
	if err != nil {
		return nil, err
	}
	return v.Decode(source, env)
}

// TrustSigner returns v trusting the keys at trusted (Keyring) and also
// the key that signs what a command records: a command holding the
// private key can vouch for its public half.
func TrustSigner(v *evidence.Validator, trusted []string, s *evidence.Signer) (*evidence.Validator, error) {
	k, err := Keyring(trusted)
	if err != nil {
		return nil, err
	}
	k.Add(s.Public())
	return v.WithKeys(k), nil
}

// CheckpointSigner reads the private key at path that signs checkpoints.
func CheckpointSigner(path string) (ed25519.PrivateKey, error) {
	b, err := inputfile.Read(path, MaxKeyBytes)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint key (run shipgate init, or give --key): %w", err)
	}
	k, err := ledger.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// CheckpointKeyAt reads the public key at path that checkpoints are
// checked with.
func CheckpointKeyAt(path string) (ed25519.PublicKey, error) {
	b, err := inputfile.Read(path, MaxKeyBytes)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint public key (give --public-key): %w", err)
	}
	k, err := ledger.ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// ReadCheckpoint reads the checkpoint at path and checks its signature
// with pub.
func ReadCheckpoint(path string, pub ed25519.PublicKey) (*ledger.Checkpoint, error) {
	b, err := inputfile.Read(path, MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	var cp ledger.Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := cp.Verify(pub); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &cp, nil
}

// People reads each person's key ids from the public key files named for
// them (shipgate.yaml's people). A file that cannot be read is an error,
// never a person silently left without keys.
func People(people map[string][]string) (map[string][]string, error) {
	if len(people) == 0 {
		return nil, nil
	}
	out := map[string][]string{}
	for person, files := range people {
		for _, f := range files {
			b, err := inputfile.Read(f, MaxKeyBytes)
			if err != nil {
				return nil, fmt.Errorf("config people.%s: %w", person, err)
			}
			pub, err := ledger.ParsePublicKey(b)
			if err != nil {
				return nil, fmt.Errorf("config people.%s: %s: %w", person, f, err)
			}
			out[person] = append(out[person], evidence.KeyID(pub))
		}
	}
	return out, nil
}

// SignSample signs the documents of a sample release (sample.Files) as the
// project would have: the Build and the deploy request with signer (the
// evidence key, what shipgate run signs with), the approval with its
// approver's own key when people (shipgate.yaml's) binds one whose private
// half is here. It says what it signed.
func SignSample(ctx context.Context, signer *evidence.Signer, people map[string][]string, docs map[string][]byte) (string, error) {
	var err error
	for _, n := range []string{"build.json", "deploy-requested.json"} {
		if docs[n], err = signer.Seal(ctx, docs[n]); err != nil {
			return "", fmt.Errorf("sign the sample %s: %w", n, err)
		}
	}
	msg := "signed build.json and deploy-requested.json with the project's evidence key"
	var a struct {
		Data struct {
			Approver string `json:"approver"`
		} `json:"data"`
	}
	if err := json.Unmarshal(docs["approval.json"], &a); err != nil {
		return "", fmt.Errorf("sample approval: %w", err)
	}
	who := a.Data.Approver
	for _, pub := range people[who] {
		key := strings.TrimSuffix(pub, ".pub") + ".key"
		if _, err := os.Stat(key); err != nil {
			continue
		}
		approver, err := ReadSigner(key)
		if err != nil {
			return "", err
		}
		if docs["approval.json"], err = approver.Seal(ctx, docs["approval.json"]); err != nil {
			return "", fmt.Errorf("sign the sample approval: %w", err)
		}
		return fmt.Sprintf("%s, approval.json with %s's key %s", msg, who, key), nil
	}
	return fmt.Sprintf("%s; approval.json is %s's and unsigned: it counts once signed with a key shipgate.yaml binds to %s (shipgate init --approver %s makes one)", msg, who, who, who), nil
}
