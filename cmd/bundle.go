package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/internal/inputfile"
	"github.com/localizevideos/shipgate/policyset"
)

// policyBundleOptions are the flags of `shipgate policy bundle`.
type policyBundleOptions struct {
	Policy   PolicyOptions
	Out      string
	SignKey  string
	Revision string
}

func newPolicyBundleCmd(s Streams, g *globals) *cobra.Command {
	o := &policyBundleOptions{Policy: PolicyOptions{g: g}}
	c := &cobra.Command{
		Use:   "bundle [DIR] --out FILE.tar.gz [--sign KEY] [--revision REV]",
		Short: "Build an OPA bundle of a policy set, signed with --sign, for gate --bundle",
		Long: `Compile the policy set strictly (as a gate would; a set that does not
compile is refused) and write it as an OPA bundle: its .rego modules
(tests left out), its data as data.json (shipgate/config/data.yaml is
mounted at data.shipgate.config) and a .manifest with the revision and the
root "shipgate". With --sign the bundle carries a .signatures.json: a JWT
over the hash of every file, checked by shipgate gate --bundle FILE
--verify-key PUB and by OPA itself.

Signing keys are PEM private keys: the ed25519 key of shipgate init
(.shipgate/keys/checkpoint.key; JWT algorithm EdDSA), ECDSA P-256/P-384/
P-521 (ES256/ES384/ES512) or RSA of 2048 bits or more (RS256). OPA verifies
all of them with --verification-key and --signing-alg, but its
configuration file (keys: ... algorithm:) accepts no EdDSA: sign with an
ECDSA or RSA key when OPA agents configured that way must verify the
bundle.

DIR defaults to the config's policies, or the embedded policy set; the
revision to the policy revision digest that decisions record.`,
		Example: `  shipgate policy bundle --out policies.tar.gz --sign .shipgate/keys/checkpoint.key
  shipgate gate deploy --release lv-2026-11-26.1 --bundle policies.tar.gz --verify-key .shipgate/keys/checkpoint.pub
  openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out es256.key
  openssl pkey -in es256.key -pubout -out es256.pub
  shipgate policy bundle policies/ --out policies.tar.gz --sign es256.key --revision "$(git rev-parse HEAD)"`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Policy.Dir = args[0]
			}
			return policyBundleRun(c.Context(), s, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Out, "out", "", "bundle file to write, a .tar.gz (required)")
	f.StringVar(&o.SignKey, "sign", "", "PEM private key to sign the bundle with (ed25519, ECDSA or RSA)")
	f.StringVar(&o.Revision, "revision", "", "manifest revision (default: the policy revision digest)")
	f.StringVar(&o.Policy.DataFile, "data", "", "policy data file, YAML or JSON, bundled at data.shipgate.config")
	_ = c.MarkFlagRequired("out")
	return c
}

func policyBundleRun(ctx context.Context, s Streams, o *policyBundleOptions) error {
	if err := o.Policy.resolve(); err != nil {
		return err
	}
	data, files, err := o.Policy.data()
	if err != nil {
		return err
	}
	var key []byte
	if o.SignKey != "" {
		if key, err = inputfile.Read(o.SignKey, maxKeyBytes); err != nil {
			return fmt.Errorf("read signing key: %w", err)
		}
	}
	b, err := engine.BuildBundle(ctx, engine.BundleOptions{Policies: o.Policy.source(), Data: data, DataFiles: files, Revision: o.Revision, SigningKey: key})
	if err != nil {
		return err
	}
	if err := writeFileAtomic(o.Out, func(w io.Writer) error { return policyset.WriteBundle(w, b) }); err != nil {
		return err
	}
	signed := "unsigned"
	if key != nil {
		signed = "signed"
	}
	_, err = fmt.Fprintf(s.Out, "bundle %s: %s, revision %s, %d modules, %s\n", o.Out, o.Policy.describe(), b.Manifest.Revision, len(b.Modules), signed)
	return err
}

// writeFileAtomic writes path through a temporary file in its directory,
// renamed into place once complete: a failure leaves no half-written file.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
