package options

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/internal/inputfile"
	"github.com/localizevideos/shipgate/internal/project"
)

// Limits of the files the commands read from a path a user gives
// (inputfile.Read): far above what such a file holds, they keep a mistaken
// path, a log or a disk image, from being read whole into memory.
const (
	MaxKeyBytes  = project.MaxKeyBytes // a PEM key
	MaxDataBytes = 4 << 20             // policy data and sources; checks, signals, SLO and mapping files
)

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

// Evidence sets the decoding limits and the keys trusted to sign
// evidence (DSSE envelopes).
type Evidence struct {
	MaxBytes    int64
	TrustedKeys []string
}

// AddFlags binds the options to fs.
func (o *Evidence) AddFlags(fs *pflag.FlagSet) {
	fs.Int64Var(&o.MaxBytes, "max-bytes", evidence.DefaultLimits.MaxBytes, "largest evidence document accepted, in bytes")
	fs.StringSliceVar(&o.TrustedKeys, "trusted-key", nil, "PEM ed25519 public key whose signatures on evidence envelopes are trusted, or a directory of them (*.pub) (repeatable; default: every *.pub in "+project.KeyDir+")")
}

// Validator compiles the schemas once and returns the validator
// (project.Validator).
func (o *Evidence) Validator() (*evidence.Validator, error) {
	return project.Validator(o.MaxBytes, o.TrustedKeys)
}
