package options

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/internal/project"
)

// Policy chooses the policy set and its data (project.Policy).
type Policy struct{ project.Policy }

// AddFlags binds the options to fs.
func (o *Policy) AddFlags(fs *pflag.FlagSet, g *Globals) {
	o.Settings = g
	fs.StringVar(&o.Dir, "policies", "", "policy directory (default: the config's policies, or the embedded LocalizeVideos policy set)")
	fs.Var(dataFlag{o}, "data", "policy data file, YAML or JSON, mounted at data.shipgate.config in place of the policy set's own data; +FILE overlays FILE on the data instead (objects merged, lists and values replaced, null removes a key); repeatable, applied in order")
	fs.StringVar(&o.Bundle, "bundle", "", "OPA bundle (tar.gz, from shipgate policy bundle) to load the policy set and its data from, instead of --policies; a signed one needs --verify-key")
	fs.StringVar(&o.VerifyKey, "verify-key", "", "PEM public key (ed25519, ECDSA or RSA) the --bundle must be signed with; an unsigned or altered bundle is refused")
	EvalTimeoutVar(fs, &o.Timeout)
}

// Use makes the options read their defaults from g's config, for a
// command that binds flags of its own instead of AddFlags.
func (o *Policy) Use(g *Globals) { o.Settings = g }

// dataFlag is --data: repeatable, and the first value is also DataFile.
type dataFlag struct{ o *Policy }

func (f dataFlag) String() string { return strings.Join(f.o.DataFiles, ",") }
func (f dataFlag) Type() string   { return "file" }

func (f dataFlag) Set(v string) error {
	if v == "" || v == "+" {
		return fmt.Errorf("want a data file, or +FILE to overlay one")
	}
	f.o.AddData(v)
	return nil
}
