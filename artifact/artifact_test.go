package artifact_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/artifact"
)

// tree returns the files under dir (relative path → content; symlinks as
// "-> target").
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			out[rel] = "-> " + target
			return err
		case d.IsDir():
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "-> "); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func newStore(t *testing.T) *artifact.Store {
	return &artifact.Store{Dir: filepath.Join(t.TempDir(), "artifacts")}
}

func TestPutRestore(t *testing.T) {
	root := t.TempDir()
	v1 := map[string]string{
		"dist/index.html":        "<h1>v1</h1>",
		"dist/assets/app.js":     "console.log(1)",
		"dist/latest.js":         "-> assets/app.js",
		"build-info.json":        `{"commit":"c1"}`,
		"server.js":              "// source, not build output",
		"dist/assets/empty.css":  "",
		"dist/assets/deep/x.txt": "x",
	}
	write(t, root, v1)
	s := newStore(t)
	a, err := s.Put(root, []string{"dist/", "build-info.json"})
	if err != nil {
		t.Fatalf("Put = %v", err)
	}
	if diff := cmp.Diff([]string{"build-info.json", "dist"}, a.Paths); diff != "" {
		t.Errorf("Paths (-want +got):\n%s", diff)
	}
	b, err := os.ReadFile(a.File)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); a.Digest != "sha256:"+hex.EncodeToString(sum[:]) || a.Size != int64(len(b)) {
		t.Errorf("Put = %+v; the file has digest %x and %d bytes", a, sum, len(b))
	}
	if filepath.Base(a.File) != strings.TrimPrefix(a.Digest, "sha256:")+".tar.gz" {
		t.Errorf("File = %s; want it named by the digest", a.File)
	}
	// The same content gives the same archive.
	again, err := s.Put(root, []string{"build-info.json", "dist"})
	if err != nil || again.Digest != a.Digest {
		t.Errorf("Put again = %+v, %v; want digest %s", again, err, a.Digest)
	}

	// A new build replaces dist/ (a file gone, one added, one changed).
	must(t, os.RemoveAll(filepath.Join(root, "dist")))
	write(t, root, map[string]string{"dist/index.html": "<h1>v2</h1>", "dist/new.js": "new", "build-info.json": `{"commit":"c2"}`})
	want := tree(t, root)
	for k, v := range v1 {
		want[k] = v
	}
	delete(want, "dist/new.js")

	got, err := s.Restore(a.Digest, root, a.Paths)
	if err != nil {
		t.Fatalf("Restore = %v", err)
	}
	if got.Digest != a.Digest || got.File != a.File {
		t.Errorf("Restore = %+v; want %+v", got, a)
	}
	if diff := cmp.Diff(want, tree(t, root)); diff != "" {
		t.Errorf("after Restore (-want +got):\n%s", diff)
	}
}

func TestRestoreRefuses(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{"dist/index.html": "v1"})
	s := newStore(t)
	a, err := s.Put(root, []string{"dist"})
	must(t, err)
	must(t, os.WriteFile(filepath.Join(root, "dist", "index.html"), []byte("v2"), 0o644))
	good, err := os.ReadFile(a.File)
	must(t, err)

	// evil writes an archive with the entries to the file of digest.
	evil := func(entries ...*tar.Header) string {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		for _, h := range entries {
			must(t, tw.WriteHeader(h))
			if h.Size > 0 {
				_, err := tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
				must(t, err)
			}
		}
		must(t, tw.Close())
		must(t, zw.Close())
		sum := sha256.Sum256(buf.Bytes())
		d := "sha256:" + hex.EncodeToString(sum[:])
		f, err := s.File(d)
		must(t, err)
		must(t, os.WriteFile(f, buf.Bytes(), 0o644))
		return d
	}

	tests := []struct {
		name   string
		setup  func() string // returns the digest to restore
		paths  []string
		target error
		msg    string
	}{
		{"missing", func() string { return "sha256:" + strings.Repeat("ab", 32) }, []string{"dist"}, artifact.ErrMissing, "not in the store"},
		{"changed", func() string {
			must(t, os.WriteFile(a.File, append(bytes.Clone(good[:len(good)-1]), good[len(good)-1]^1), 0o644))
			return a.Digest
		}, []string{"dist"}, artifact.ErrMismatch, ""},
		{"truncated", func() string {
			must(t, os.WriteFile(a.File, good[:len(good)/2], 0o644))
			return a.Digest
		}, []string{"dist"}, artifact.ErrMismatch, ""},
		{"another archive under its name", func() string {
			d := evil(&tar.Header{Name: "dist/index.html", Typeflag: tar.TypeReg, Size: 3, Mode: 0o644})
			other, err := s.File(d)
			must(t, err)
			b, err := os.ReadFile(other)
			must(t, err)
			must(t, os.WriteFile(a.File, b, 0o644))
			return a.Digest
		}, []string{"dist"}, artifact.ErrMismatch, "the Build recorded"},
		{"entry outside the paths", func() string {
			return evil(&tar.Header{Name: "server.js", Typeflag: tar.TypeReg, Size: 3, Mode: 0o644})
		}, []string{"dist"}, nil, "outside the build output paths"},
		{"entry climbing out", func() string {
			return evil(&tar.Header{Name: "dist/../../etc/x", Typeflag: tar.TypeReg, Size: 3, Mode: 0o644})
		}, []string{"dist"}, nil, "outside the build output paths"},
		{"symlink out", func() string {
			return evil(&tar.Header{Name: "dist/passwd", Typeflag: tar.TypeSymlink, Linkname: "../../etc/passwd"})
		}, []string{"dist"}, nil, "leads out of dist"},
		{"a recorded path it lacks", func() string {
			return evil(&tar.Header{Name: "dist/index.html", Typeflag: tar.TypeReg, Size: 3, Mode: 0o644})
		}, []string{"dist", "public"}, nil, "has no public"},
		{"bad digest", func() string { return "md5:abc" }, []string{"dist"}, nil, "want sha256:"},
		{"bad path", func() string { return a.Digest }, []string{"../dist"}, nil, "inside the checkout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			must(t, os.WriteFile(a.File, good, 0o644))
			d := tt.setup()
			_, err := s.Restore(d, root, tt.paths)
			if err == nil {
				t.Fatal("Restore = nil error")
			}
			if tt.target != nil && !errors.Is(err, tt.target) {
				t.Errorf("Restore = %v; want %v", err, tt.target)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Restore = %v; want it to say %q", err, tt.msg)
			}
			if diff := cmp.Diff(map[string]string{"dist/index.html": "v2"}, tree(t, root)); diff != "" {
				t.Errorf("a refused Restore changed the checkout (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{"dist/big.bin": strings.Repeat("0123456789", 200)})
	s := &artifact.Store{Dir: filepath.Join(t.TempDir(), "a"), MaxBytes: 1000}
	if _, err := s.Put(root, []string{"dist"}); !errors.Is(err, artifact.ErrTooLarge) {
		t.Errorf("Put of 2000 bytes with MaxBytes 1000 = %v; want ErrTooLarge", err)
	}
	if left, _ := s.List(); len(left) != 0 {
		t.Errorf("a refused Put left %v", left)
	}
	big := &artifact.Store{Dir: s.Dir}
	a, err := big.Put(root, []string{"dist"})
	must(t, err)
	if _, err := s.Restore(a.Digest, root, a.Paths); !errors.Is(err, artifact.ErrTooLarge) {
		t.Errorf("Restore of 2000 bytes with MaxBytes 1000 = %v; want ErrTooLarge", err)
	}

	for _, tt := range []struct {
		paths []string
		msg   string
	}{
		{nil, "no build output paths"},
		{[]string{"."}, "inside the checkout"},
		{[]string{"/srv/app/dist"}, "inside the checkout"},
		{[]string{"dist/../.."}, "inside the checkout"},
		{[]string{".git"}, "repository itself"},
		{[]string{"dist", "dist/js"}, "one contains the other"},
		{[]string{"missing"}, "build output missing"},
	} {
		if _, err := big.Put(root, tt.paths); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Put(%q) = %v; want an error saying %q", tt.paths, err, tt.msg)
		}
	}
	write(t, root, map[string]string{"dist/abs": "-> /etc/passwd"})
	if _, err := big.Put(root, []string{"dist"}); err == nil || !strings.Contains(err.Error(), "absolute path") {
		t.Errorf("Put with a link to /etc/passwd = %v; want it refused", err)
	}
}

func TestKeep(t *testing.T) {
	root := t.TempDir()
	clock := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	s := &artifact.Store{Dir: filepath.Join(t.TempDir(), "a"), Keep: 3, Now: func() time.Time { clock = clock.Add(time.Minute); return clock }}
	var digests []string
	for i := range 5 {
		write(t, root, map[string]string{"dist/v": strings.Repeat("v", i+1)})
		must(t, os.RemoveAll(filepath.Join(root, "dist")))
		write(t, root, map[string]string{"dist/v": strings.Repeat("v", i+1)})
		a, err := s.Put(root, []string{"dist"})
		must(t, err)
		digests = append(digests, a.Digest)
		if i == 2 {
			// Restoring the first one makes it recent: it outlives 1 and 2.
			_, err := s.Restore(digests[0], root, []string{"dist"})
			must(t, err)
		}
	}
	all, err := s.List()
	must(t, err)
	var got []string
	for _, a := range all {
		got = append(got, a.Digest)
	}
	if diff := cmp.Diff([]string{digests[4], digests[3], digests[0]}, got); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
