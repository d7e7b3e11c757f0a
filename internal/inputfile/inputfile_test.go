package inputfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	exact := write("exact", strings.Repeat("x", 10))
	over := write("over", strings.Repeat("x", 11))
	empty := write("empty", "")

	for _, tc := range []struct {
		name string
		path string
		want string
	}{
		{"at the limit", exact, strings.Repeat("x", 10)},
		{"empty", empty, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Read(tc.path, 10)
			if err != nil || string(b) != tc.want {
				t.Errorf("Read(%q, 10) = %q, %v; want %q", tc.path, b, err, tc.want)
			}
		})
	}

	_, err := Read(over, 10)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Path != over || tl.Limit != 10 {
		t.Errorf("Read(11 bytes, 10) = %v; want a *TooLargeError", err)
	}
	if want := over + ": larger than the limit of 10 bytes"; err == nil || err.Error() != want {
		t.Errorf("Read(11 bytes, 10) = %v; want %q", err, want)
	}

	_, err = Read(filepath.Join(dir, "missing"), 10)
	if want := "open " + filepath.Join(dir, "missing") + ": "; !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Read(missing) = %v; want fs.ErrNotExist starting %q", err, want)
	}

	_, err = Read(dir, 10)
	var nr *NotRegularError
	if !errors.As(err, &nr) || nr.Type != "directory" {
		t.Errorf("Read(directory) = %v; want a *NotRegularError of a directory", err)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{
		100: "100 bytes", 1024: "1 KiB", 64 << 10: "64 KiB", 1 << 20: "1 MiB", 4 << 20: "4 MiB", 1<<20 + 1: "1048577 bytes",
	} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q; want %q", n, got, want)
		}
	}
}
