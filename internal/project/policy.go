package project

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/internal/atomicfile"
	"github.com/localizevideos/shipgate/internal/inputfile"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policyset"
)

// Policy is the policy set a command chose (--policies, --data, --bundle,
// --verify-key, --timeout) and its data, completed from the config.
type Policy struct {
	Dir string
	// DataFile is the first --data (commands with a single --data bind it
	// alone); DataFiles every --data in order. A name starting with + is an
	// overlay, merged over what comes before it (Policy.Data).
	DataFile  string
	DataFiles []string
	// Bundle is an OPA bundle file (shipgate policy bundle) to load instead
	// of a directory; VerifyKey the PEM public key it must be signed with.
	Bundle    string
	VerifyKey string
	Timeout   time.Duration
	// ServerKeys are the keys of shipgate servers (key id → name) the
	// engine counts as such besides the data's signing.servers: shipgate
	// serve gives its own.
	ServerKeys map[string]string
	// Settings give the config's defaults; nil has none.
	Settings *Settings
}

// Resolve fills what the flags left empty from the config file.
func (o *Policy) Resolve() error {
	if o.Settings == nil {
		return nil
	}
	cfg, err := o.Settings.Config()
	if err != nil {
		return err
	}
	if o.Dir == "" {
		o.Dir = cfg.Policies
	}
	// The config's data is the base an overlay applies to, like the policy
	// set's own data without it.
	if files := o.DataPaths(); cfg.Data != "" && (len(files) == 0 || policyset.IsOverlay(files[0])) {
		o.DataFiles = append([]string{cfg.Data}, files...)
		o.DataFile = cfg.Data
	}
	return nil
}

// AddData adds a --data file: the first one is also DataFile.
func (o *Policy) AddData(path string) {
	o.DataFiles = append(o.DataFiles, path)
	if o.DataFile == "" {
		o.DataFile = path
	}
}

// DataPaths are the --data files in order (DataFiles, or DataFile alone).
func (o *Policy) DataPaths() []string {
	if len(o.DataFiles) == 0 && o.DataFile != "" {
		return []string{o.DataFile}
	}
	return o.DataFiles
}

// Choice is the policy set the flags choose (policyset.Choice).
func (o *Policy) Choice() policyset.Choice {
	return policyset.Choice{Dir: o.Dir, Embedded: policies.FS, DataFiles: o.DataPaths(), Bundle: o.Bundle, VerifyKey: o.VerifyKey}
}

// Source is the chosen policy directory, or the embedded set.
func (o *Policy) Source() fs.FS { return o.Choice().Policies() }

// Data is the policy data the --data files make (policyset.Choice.Data).
func (o *Policy) Data() (map[string]any, []policyset.DataFile, error) {
	return o.Choice().Data()
}

// Engine loads and compiles the chosen policy set (engine.LoadChoice):
// --bundle, verified with --verify-key (its own data; the config's
// policies and data do not apply), or the policy directory with its data.
func (o *Policy) Engine(ctx context.Context) (*engine.Engine, error) {
	if o.Bundle == "" && o.VerifyKey == "" {
		if err := o.Resolve(); err != nil {
			return nil, err
		}
	}
	people, err := o.Settings.People()
	if err != nil {
		return nil, err
	}
	return engine.LoadChoice(ctx, o.Choice(), engine.Options{Timeout: o.Timeout, ServerKeys: o.ServerKeys, People: people})
}

// ReadVerifyKey reads --verify-key, nil when not given.
func (o *Policy) ReadVerifyKey() ([]byte, error) { return o.Choice().ReadVerifyKey() }

// PolicySets returns the policy set of --policies/--data or --bundle,
// then each bundle of with (auditpack.PolicySets), checked with
// --verify-key when given.
func (o *Policy) PolicySets(ctx context.Context, with []string) ([]*bundle.Bundle, error) {
	key, err := o.ReadVerifyKey()
	if err != nil {
		return nil, err
	}
	if o.Bundle == "" {
		if err := o.Resolve(); err != nil {
			return nil, err
		}
	}
	return auditpack.PolicySets(ctx, o.Choice(), key, with)
}

// Describe names the policy set for messages.
func (o *Policy) Describe() string { return o.Choice().Describe() }

// WriteBundle builds the chosen policy set with its data, completed from
// the config, into an OPA bundle (engine.BuildBundle) of revision (default:
// the policy revision digest), signed with the PEM private key at signKey
// when given, and writes it to out, whole or not at all. It reports
// whether a key signed it.
func (o *Policy) WriteBundle(ctx context.Context, out, signKey, revision string) (*bundle.Bundle, bool, error) {
	if err := o.Resolve(); err != nil {
		return nil, false, err
	}
	data, files, err := o.Data()
	if err != nil {
		return nil, false, err
	}
	var key []byte
	if signKey != "" {
		if key, err = inputfile.Read(signKey, MaxKeyBytes); err != nil {
			return nil, false, fmt.Errorf("read signing key: %w", err)
		}
	}
	b, err := engine.BuildBundle(ctx, engine.BundleOptions{Policies: o.Source(), Data: data, DataFiles: files, Revision: revision, SigningKey: key})
	if err != nil {
		return nil, false, err
	}
	if err := atomicfile.Write(out, 0o644, func(w io.Writer) error { return policyset.WriteBundle(w, b) }); err != nil {
		return nil, false, err
	}
	return b, key != nil, nil
}
