package project

import (
	"fmt"
	"io"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/internal/inputfile"
)

// MaxDataBytes bounds the other files a command reads from a path a user
// gives (inputfile.Read): policy data and sources; checks, signals, SLO
// and mapping files.
const MaxDataBytes = 4 << 20

// Load reads the file a flag names (path), within MaxDataBytes, and
// decodes it with load; what names the file in a read error ("read
// signals: ...").
func Load[T any](path, what string, load func(path string, b []byte) (T, error)) (T, error) {
	b, err := inputfile.Read(path, MaxDataBytes)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("read %s: %w", what, err)
	}
	return load(path, b)
}

// Evidence are a command's decoding limits and the keys it trusts to sign
// evidence (DSSE envelopes): --max-bytes and --trusted-key.
type Evidence struct {
	MaxBytes    int64
	TrustedKeys []string
}

// Validator compiles the schemas once and returns the validator
// (Validator).
func (o *Evidence) Validator() (*evidence.Validator, error) {
	return Validator(o.MaxBytes, o.TrustedKeys)
}

// ValidatorSigning loads the validator and the signing key of sign, the
// validator trusting that key too (ValidatorSigning): a command that
// holds the private key vouches for its public half.
func (o *Evidence) ValidatorSigning(sign *Signing, errOut io.Writer) (*evidence.Validator, *evidence.Signer, error) {
	return ValidatorSigning(o.MaxBytes, o.TrustedKeys, sign.Key, errOut)
}

// Signing is the key that signs the evidence a command produces
// (--signing-key).
type Signing struct {
	Key string
}

// Signer reads the signing key, or the project's default
// (EvidenceSigner), creating it if need be and saying so on errOut.
func (o *Signing) Signer(errOut io.Writer) (*evidence.Signer, error) {
	return EvidenceSigner(o.Key, errOut)
}
