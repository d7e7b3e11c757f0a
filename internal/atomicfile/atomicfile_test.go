package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	if err := Write(path, 0o640, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatalf("Write = %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "new" {
		t.Fatalf("ReadFile = %q, %v; want \"new\"", b, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, %v; want -rw-r-----", fi.Mode(), err)
	}

	// A write that fails halfway leaves the old file, and no temporary one.
	boom := errors.New("boom")
	err = Write(path, 0o644, func(w io.Writer) error { _, _ = io.WriteString(w, "half"); return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Write(failing) = %v; want %v", err, boom)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("after a failed Write, the file holds %q; want \"new\"", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d files after a failed Write; want 1", len(ents))
	}

	// A directory that does not exist is an error naming the path.
	missing := filepath.Join(dir, "no", "such.txt")
	if err := Write(missing, 0o644, func(io.Writer) error { return nil }); err == nil {
		t.Errorf("Write(%s) = nil; want an error", missing)
	}
}
