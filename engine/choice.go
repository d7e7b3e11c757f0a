package engine

import (
	"context"
	"fmt"

	"github.com/localizevideos/shipgate/policyset"
)

// LoadChoice loads and compiles the policy set c chooses with opts: c's
// bundle, verified with its key (the bundle's own data: c's data files
// are refused), or c's policy directory with the data of its files. The
// errors of a bundle name it.
func LoadChoice(ctx context.Context, c policyset.Choice, opts Options) (*Engine, error) {
	if c.Bundle != "" || c.VerifyKey != "" {
		b, err := c.OpenBundle()
		if err != nil {
			return nil, err
		}
		opts.Bundle = b
	} else {
		var err error
		if opts.Data, opts.DataFiles, err = c.Data(); err != nil {
			return nil, err
		}
		opts.Policies = c.Policies()
	}
	eng, err := Load(ctx, opts)
	if err != nil && c.Bundle != "" {
		return nil, fmt.Errorf("%s: %w", c.Bundle, err)
	}
	return eng, err
}
