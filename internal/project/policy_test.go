package project

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteBundle: the embedded policy set is bundled whole, unsigned
// without a key; a key that cannot be read is named.
func TestWriteBundle(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "policies.tar.gz")
	b, signed, err := (&Policy{}).WriteBundle(context.Background(), out, "", "rev1")
	if err != nil {
		t.Fatal(err)
	}
	if signed || b.Manifest.Revision != "rev1" || len(b.Modules) == 0 {
		t.Errorf("WriteBundle() = revision %q, %d modules, signed %v; want rev1, the modules, unsigned", b.Manifest.Revision, len(b.Modules), signed)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("WriteBundle() wrote no file: %v", err)
	}
	if _, _, err := (&Policy{}).WriteBundle(context.Background(), out, filepath.Join(dir, "none.key"), ""); err == nil || !strings.Contains(err.Error(), "read signing key") {
		t.Errorf("WriteBundle(a missing key) = %v; want read signing key", err)
	}
}
