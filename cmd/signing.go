package cmd

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/internal/project"
)

// SigningOptions choose the key that signs the evidence a command produces.
type SigningOptions struct {
	Key string
}

// AddFlags binds the options to fs.
func (o *SigningOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Key, "signing-key", "", "ed25519 private key (PEM, PKCS #8) that signs the recorded evidence (default: "+project.EvidenceKey+", made by shipgate init or on first use; "+project.CheckpointKey+" in a project whose init made none)")
}

// Signer reads the signing key, or the project's default
// (project.EvidenceSigner), creating it if need be and saying so on errOut.
func (o *SigningOptions) Signer(errOut io.Writer) (*evidence.Signer, error) {
	return project.EvidenceSigner(o.Key, errOut)
}

type evidenceSignOptions struct {
	Path string
	Ev   EvidenceOptions
	Sign SigningOptions
}

func newEvidenceSignCmd(s Streams) *cobra.Command {
	o := &evidenceSignOptions{}
	c := &cobra.Command{
		Use:  "sign FILE",
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
	if v, err = project.TrustSigner(v, o.Ev.TrustedKeys, signer); err != nil {
		return err
	}
	env, err := project.SignFile(ctx, v, signer, o.Path)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.Out, "%s\n", env)
	return err
}
