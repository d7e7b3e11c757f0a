package artifact

import (
	"cmp"
	"fmt"
	"time"
)

// Config is the artifacts section of shipgate.yaml: the build output a
// passed `shipgate run build` keeps for a fast rollback, and where.
type Config struct {
	// Paths are the build output, relative to the checkout (dist); none
	// keeps nothing.
	Paths []string `yaml:"paths"`
	// Dir is the store (default DefaultDir, relative to the working
	// directory like the default ledger).
	Dir string `yaml:"dir"`
	// Keep is how many artifacts the store keeps (default DefaultKeep).
	Keep int `yaml:"keep"`
	// MaxBytes limits one artifact (default DefaultMaxBytes).
	MaxBytes int64 `yaml:"maxBytes"`
}

// Store is the store c configures, in dir when it is not empty (a flag
// over the config's dir); file names the config in errors.
func (c Config) Store(dir, file string, now func() time.Time) (*Store, error) {
	switch {
	case c.Keep < 0:
		return nil, fmt.Errorf("%s: artifacts.keep is %d: want a count of 1 or more (0 for the default, %d)", file, c.Keep, DefaultKeep)
	case c.MaxBytes < 0:
		return nil, fmt.Errorf("%s: artifacts.maxBytes is %d: want a size in bytes (0 for the default, %d)", file, c.MaxBytes, DefaultMaxBytes)
	}
	return &Store{Dir: cmp.Or(dir, c.Dir, DefaultDir), Keep: c.Keep, MaxBytes: c.MaxBytes, Now: now}, nil
}

// OutputPaths are the build output paths c names, cleaned (CleanPaths);
// file names the config in errors.
func (c Config) OutputPaths(file string) ([]string, error) {
	if len(c.Paths) == 0 {
		return nil, nil
	}
	p, err := CleanPaths(c.Paths)
	if err != nil {
		return nil, fmt.Errorf("%s: artifacts.paths: %w", file, err)
	}
	return p, nil
}
