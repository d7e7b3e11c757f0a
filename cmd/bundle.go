package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
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
	b, signedBy, err := o.Policy.WriteBundle(ctx, o.Out, o.SignKey, o.Revision)
	if err != nil {
		return err
	}
	signed := "unsigned"
	if signedBy {
		signed = "signed"
	}
	_, err = fmt.Fprintf(s.Out, "bundle %s: %s, revision %s, %d modules, %s\n", o.Out, o.Policy.Describe(), b.Manifest.Revision, len(b.Modules), signed)
	return err
}
