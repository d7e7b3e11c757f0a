package project

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/internal/inputfile"
	"github.com/localizevideos/shipgate/schemas"
)

// LoadConfig reads the shipgate.yaml at path into cfg, strictly (an
// unknown key is an error), and checks it. A missing file is an error only
// when required (the user named it).
func LoadConfig(path string, required bool, cfg interface{ Check(path string) error }) error {
	b, err := inputfile.Read(path, MaxConfigBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !required:
		return nil
	case err != nil:
		return fmt.Errorf("read config: %w", err)
	}
	if err := yaml.UnmarshalWithOptions(b, cfg, yaml.Strict()); err != nil {
		return fmt.Errorf("%s: %s", path, yaml.FormatError(err, false, true))
	}
	return cfg.Check(path)
}

// CheckpointKeyPath is the checkpoint key file to read: flag when given,
// else the config's (keys.private, or keys.public), else the default
// (CheckpointKey, or CheckpointPublicKey).
func (c *Config) CheckpointKeyPath(flag string, private bool) string {
	switch {
	case flag != "":
		return flag
	case private && c.Keys.Private != "":
		return c.Keys.Private
	case private:
		return CheckpointKey
	case c.Keys.Public != "":
		return c.Keys.Public
	}
	return CheckpointPublicKey
}

// SignFile validates the evidence document at path with v and returns it
// in a DSSE envelope signed by signer, read back with v to check it. An
// envelope already is refused. The canonical form is signed: the payload
// is then the document as its digest names it.
func SignFile(ctx context.Context, v *evidence.Validator, signer *evidence.Signer, path string) ([]byte, error) {
	doc, err := v.LoadFile(path)
	if err != nil {
		return nil, err
	}
	if doc.Envelope != nil {
		return nil, fmt.Errorf("%s: already a signed envelope (signed by %s)", path, strings.Join(doc.SignedBy, ", "))
	}
	env, err := signer.Seal(ctx, doc.Canonical)
	if err != nil {
		return nil, err
	}
	if _, err := v.Decode(path, env); err != nil {
		return nil, fmt.Errorf("verify the new envelope: %w", err)
	}
	return env, nil
}

// Validator compiles the evidence schemas once and returns a validator
// within the default limits (maxBytes, when positive, bounds a document
// instead) that trusts the evidence signing keys at trusted (Keyring).
func Validator(maxBytes int64, trusted []string) (*evidence.Validator, error) {
	reg, err := schemas.Compile()
	if err != nil {
		return nil, fmt.Errorf("compile schemas: %w", err)
	}
	lim := evidence.DefaultLimits
	if maxBytes > 0 {
		lim.MaxBytes = maxBytes
	}
	keys, err := Keyring(trusted)
	if err != nil {
		return nil, err
	}
	return evidence.NewValidator(reg, lim).WithKeys(keys), nil
}

// ValidatorSigning compiles the validator (Validator) and reads the key at
// keyPath that signs the evidence a command records (EvidenceSigner: the
// project's own, made on first use and said on errOut, when keyPath is
// ""), the validator trusting that key too (TrustSigner): a command that
// holds the private key vouches for its public half.
func ValidatorSigning(maxBytes int64, trusted []string, keyPath string, errOut io.Writer) (*evidence.Validator, *evidence.Signer, error) {
	v, err := Validator(maxBytes, trusted)
	if err != nil {
		return nil, nil, err
	}
	signer, err := EvidenceSigner(keyPath, errOut)
	if err != nil {
		return nil, nil, err
	}
	if v, err = TrustSigner(v, trusted, signer); err != nil {
		return nil, nil, err
	}
	return v, signer, nil
}
