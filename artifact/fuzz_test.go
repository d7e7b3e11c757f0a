package artifact_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/artifact"
)

// FuzzRestore stores arbitrary bytes under their own digest (so the digest
// check passes) and restores them: whatever the archive holds, the restore
// fails and leaves the checkout as it was, or it succeeds and changes
// nothing but dist/.
func FuzzRestore(f *testing.F) {
	seedRoot := f.TempDir()
	if err := os.MkdirAll(filepath.Join(seedRoot, "dist", "js"), 0o755); err != nil {
		f.Fatal(err)
	}
	os.WriteFile(filepath.Join(seedRoot, "dist", "index.html"), []byte("<h1>seed</h1>"), 0o644)
	os.WriteFile(filepath.Join(seedRoot, "dist", "js", "app.js"), []byte("1"), 0o644)
	os.Symlink("js/app.js", filepath.Join(seedRoot, "dist", "latest.js"))
	seed := &artifact.Store{Dir: filepath.Join(f.TempDir(), "a")}
	a, err := seed.Put(seedRoot, []string{"dist"})
	if err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(a.File)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, archive []byte) {
		root := t.TempDir()
		write(t, root, map[string]string{"dist/old.js": "old", "server.js": "source"})
		outside := map[string]string{"server.js": "source"}
		s := &artifact.Store{Dir: filepath.Join(t.TempDir(), "a"), MaxBytes: 1 << 20}
		must(t, os.MkdirAll(s.Dir, 0o755))
		sum := sha256.Sum256(archive)
		digest := "sha256:" + hex.EncodeToString(sum[:])
		file, err := s.File(digest)
		must(t, err)
		must(t, os.WriteFile(file, archive, 0o644))

		before := tree(t, root)
		_, err = s.Restore(digest, root, []string{"dist"})
		after := tree(t, root)
		if err != nil {
			if diff := cmp.Diff(before, after); diff != "" {
				t.Fatalf("a failed Restore (%v) changed the checkout (-before +after):\n%s", err, diff)
			}
			return
		}
		for name, content := range outside {
			if after[name] != content {
				t.Errorf("Restore changed %s outside dist/", name)
			}
		}
		entries, _ := os.ReadDir(root)
		for _, e := range entries {
			if e.Name() != "dist" && e.Name() != "server.js" {
				t.Errorf("Restore left %s in the checkout", e.Name())
			}
		}
	})
}
