package sample

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write writes the documents of Files (docs by name, in the order of
// names) to dir, creating it. Without force a file already there is
// refused before anything is written.
func Write(dir string, names []string, docs map[string][]byte, force bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if !force {
		for _, n := range names {
			p := filepath.Join(dir, n)
			if _, err := os.Lstat(p); err == nil {
				return fmt.Errorf("%s exists: refusing to overwrite it without --force", p)
			}
		}
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), docs[n], 0o644); err != nil {
			return fmt.Errorf("write sample: %w", err)
		}
	}
	return nil
}
