package cmd

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/schemas"
)

// PolicyOptions choose the policy set and its data.
type PolicyOptions struct {
	Dir      string
	DataFile string
	Timeout  time.Duration
	g        *globals
}

// AddFlags binds the options to fs.
func (o *PolicyOptions) AddFlags(fs *pflag.FlagSet, g *globals) {
	o.g = g
	fs.StringVar(&o.Dir, "policies", "", "policy directory (default: the config's policies, or the embedded LocalizeVideos policy set)")
	fs.StringVar(&o.DataFile, "data", "", "policy data file, YAML or JSON, mounted at data.shipgate.config")
	fs.DurationVar(&o.Timeout, "timeout", engine.DefaultTimeout, "limit for one policy evaluation")
}

// resolve fills what the flags left empty from the config file.
func (o *PolicyOptions) resolve() error {
	if o.g == nil {
		return nil
	}
	cfg, err := o.g.config()
	if err != nil {
		return err
	}
	if o.Dir == "" {
		o.Dir = cfg.Policies
	}
	if o.DataFile == "" {
		o.DataFile = cfg.Data
	}
	return nil
}

func (o *PolicyOptions) source() fs.FS {
	if o.Dir == "" {
		return policies.FS
	}
	return os.DirFS(o.Dir)
}

func (o *PolicyOptions) data() (map[string]any, error) {
	if o.DataFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(o.DataFile)
	if err != nil {
		return nil, fmt.Errorf("read data: %w", err)
	}
	return engine.ReadData(o.DataFile, b)
}

// Engine loads and compiles the chosen policy set.
func (o *PolicyOptions) Engine(ctx context.Context) (*engine.Engine, error) {
	if err := o.resolve(); err != nil {
		return nil, err
	}
	data, err := o.data()
	if err != nil {
		return nil, err
	}
	return engine.Load(ctx, engine.Options{Policies: o.source(), Data: data, Timeout: o.Timeout})
}

// EvidenceOptions set the decoding limits.
type EvidenceOptions struct {
	MaxBytes int64
}

// AddFlags binds the options to fs.
func (o *EvidenceOptions) AddFlags(fs *pflag.FlagSet) {
	fs.Int64Var(&o.MaxBytes, "max-bytes", evidence.DefaultLimits.MaxBytes, "largest evidence document accepted, in bytes")
}

// Validator compiles the schemas once and returns the validator.
func (o *EvidenceOptions) Validator() (*evidence.Validator, error) {
	reg, err := schemas.Compile()
	if err != nil {
		return nil, fmt.Errorf("compile schemas: %w", err)
	}
	lim := evidence.DefaultLimits
	if o.MaxBytes > 0 {
		lim.MaxBytes = o.MaxBytes
	}
	return evidence.NewValidator(reg, lim), nil
}

// OutputOptions choose the output format.
type OutputOptions struct {
	Format string
}

// AddFlags binds the options to fs.
func (o *OutputOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.Format, "output", "o", "text", "output format: text or json")
}

func (o *OutputOptions) validate() error {
	switch o.Format {
	case "text", "json":
		return nil
	}
	return fmt.Errorf("--output %q: want text or json", o.Format)
}
