package cmd

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/internal/atomicfile"
	"github.com/localizevideos/shipgate/internal/inputfile"
	"github.com/localizevideos/shipgate/policyset"
)

// policyBundleOptions are the flags of `shipgate policy bundle`.
type policyBundleOptions struct {
	Policy   options.Policy
	Out      string
	SignKey  string
	Revision string
}

func (o *policyBundleOptions) flags(c *cobra.Command, g *options.Globals) {
	o.Policy.Use(g)
	f := c.Flags()
	f.StringVar(&o.Out, "out", "", "bundle file to write, a .tar.gz (required)")
	f.StringVar(&o.SignKey, "sign", "", "PEM private key to sign the bundle with (ed25519, ECDSA or RSA)")
	f.StringVar(&o.Revision, "revision", "", "manifest revision (default: the policy revision digest)")
	f.StringVar(&o.Policy.DataFile, "data", "", "policy data file, YAML or JSON, bundled at data.shipgate.config")
	required(c, "out")
}

func (o *policyBundleOptions) run(ctx context.Context, s Streams, _ *options.Globals, args []string) error {
	optionalDir(&o.Policy.Dir, args)
	if err := o.Policy.Resolve(); err != nil {
		return err
	}
	data, files, err := o.Policy.Data()
	if err != nil {
		return err
	}
	var key []byte
	if o.SignKey != "" {
		if key, err = inputfile.Read(o.SignKey, options.MaxKeyBytes); err != nil {
			return fmt.Errorf("read signing key: %w", err)
		}
	}
	b, err := engine.BuildBundle(ctx, engine.BundleOptions{Policies: o.Policy.Source(), Data: data, DataFiles: files, Revision: o.Revision, SigningKey: key})
	if err != nil {
		return err
	}
	if err := atomicfile.Write(o.Out, 0o644, func(w io.Writer) error { return policyset.WriteBundle(w, b) }); err != nil {
		return err
	}
	signed := "unsigned"
	if key != nil {
		signed = "signed"
	}
	_, err = fmt.Fprintf(s.Out, "bundle %s: %s, revision %s, %d modules, %s\n", o.Out, o.Policy.Describe(), b.Manifest.Revision, len(b.Modules), signed)
	return err
}
