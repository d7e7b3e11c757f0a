package artifact_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/artifact"
)

// An archive of more entries than MaxEntries (here the same directory,
// again and again: each costs 512 bytes of tar and nearly nothing of gzip)
// is refused when restored, even under its own digest, and the checkout is
// left as it was.
func TestRestoreRefusesTooManyEntries(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for range artifact.MaxEntries + 1 {
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "dist/", Mode: 0o755}))
	}
	must(t, tw.Close())
	must(t, zw.Close())
	root := t.TempDir()
	write(t, root, map[string]string{"dist/old.js": "old"})
	s := &artifact.Store{Dir: filepath.Join(t.TempDir(), "a")}
	must(t, os.MkdirAll(s.Dir, 0o755))
	sum := sha256.Sum256(buf.Bytes())
	digest := "sha256:" + hex.EncodeToString(sum[:])
	file, err := s.File(digest)
	must(t, err)
	must(t, os.WriteFile(file, buf.Bytes(), 0o644))
	_, err = s.Restore(digest, root, []string{"dist"})
	if !errors.Is(err, artifact.ErrTooLarge) || !strings.Contains(err.Error(), "more than 100000 entries") {
		t.Fatalf("Restore(%d entries) = %v; want ErrTooLarge for the entries", artifact.MaxEntries+1, err)
	}
	if got := tree(t, root); got["dist/old.js"] != "old" {
		t.Errorf("a refused Restore changed the checkout: %v", got)
	}
}
