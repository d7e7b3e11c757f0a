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

// Signer reads the signing key, or the project's default
// (project.EvidenceSigner), creating it if need be and saying so on errOut.
func (o *Signing) Signer(errOut io.Writer) (*evidence.Signer, error) {
	return project.EvidenceSigner(o.Key, errOut)
}
