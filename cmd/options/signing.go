package options

import (
	"io"

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/internal/project"
)

// Signing chooses the key that signs the evidence a command produces.
type Signing struct {
	Key string
}

// AddFlags binds the options to fs.
func (o *Signing) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Key, "signing-key", "", "ed25519 private key (PEM, PKCS #8) that signs the recorded evidence (default: "+project.EvidenceKey+", made by shipgate init or on first use; "+project.CheckpointKey+" in a project whose init made none)")
}

// ValidatorSigning loads the validator and the signing key of sign, the
// validator trusting that key too (project.ValidatorSigning): a command
// that holds the private key vouches for its public half.
func (o *Evidence) ValidatorSigning(sign *Signing, errOut io.Writer) (*evidence.Validator, *evidence.Signer, error) {
	return project.ValidatorSigning(o.MaxBytes, o.TrustedKeys, sign.Key, errOut)
}

// Signer reads the signing key, or the project's default
// (project.EvidenceSigner), creating it if need be and saying so on errOut.
func (o *Signing) Signer(errOut io.Writer) (*evidence.Signer, error) {
	return project.EvidenceSigner(o.Key, errOut)
}
