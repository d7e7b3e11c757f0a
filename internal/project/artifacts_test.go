package project

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestArtifacts: --artifact wins over the config's artifacts.paths, and
// the store is the config's unless --artifact-store names one.
func TestArtifacts(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "shipgate.yaml")
	if err := os.WriteFile(cfg, []byte("artifacts:\n  paths: [dist]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g := &Settings{ConfigPath: cfg}
	for _, c := range []struct {
		paths, want []string
	}{
		{nil, []string{"dist"}},
		{[]string{"build"}, []string{"build"}},
	} {
		got, err := (&Artifacts{Paths: c.paths, Settings: g}).OutputPaths()
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("OutputPaths(--artifact %q) = %q, %v; want %q", c.paths, got, err, c.want)
		}
	}
	if _, err := (&Artifacts{Dir: filepath.Join(dir, "artifacts"), Settings: g}).Store(); err != nil {
		t.Errorf("Store(--artifact-store) = %v", err)
	}
}
