package options

import (
	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/internal/project"
)

// Signing chooses the key that signs the evidence a command produces
// (project.Signing).
type Signing struct{ project.Signing }

// AddFlags binds the options to fs.
func (o *Signing) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Key, "signing-key", "", "ed25519 private key (PEM, PKCS #8) that signs the recorded evidence (default: "+project.EvidenceKey+", made by shipgate init or on first use; "+project.CheckpointKey+" in a project whose init made none)")
}
