package options

import (
	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/internal/project"
)

// MaxKeyBytes bounds a PEM key a command reads from a path a user gives
// (project.MaxKeyBytes).
const MaxKeyBytes = project.MaxKeyBytes

// Evidence sets the decoding limits and the keys trusted to sign
// evidence (project.Evidence).
type Evidence struct{ project.Evidence }

// AddFlags binds the options to fs.
func (o *Evidence) AddFlags(fs *pflag.FlagSet) {
	fs.Int64Var(&o.MaxBytes, "max-bytes", evidence.DefaultLimits.MaxBytes, "largest evidence document accepted, in bytes")
	fs.StringSliceVar(&o.TrustedKeys, "trusted-key", nil, "PEM ed25519 public key whose signatures on evidence envelopes are trusted, or a directory of them (*.pub) (repeatable; default: every *.pub in "+project.KeyDir+")")
}
