package artifact_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/artifact"
)

func treeOf(t *testing.T, root string, paths ...string) string {
	t.Helper()
	d, err := artifact.Tree(root, paths)
	if err != nil {
		t.Fatalf("Tree(%q) = %v", paths, err)
	}
	return d
}

func TestTreeFormat(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{"dist/a.js": "a", "dist/sub/b.css": "", "dist/latest.js": "-> a.js", "info.json": "{}"})
	must(t, os.Chmod(filepath.Join(root, "dist"), 0o755))
	must(t, os.Chmod(filepath.Join(root, "dist", "sub"), 0o750))
	must(t, os.Chmod(filepath.Join(root, "dist", "a.js"), 0o600))
	// Set whatever the umask made of the rest.
	must(t, os.Chmod(filepath.Join(root, "dist", "sub", "b.css"), 0o644))
	must(t, os.Chmod(filepath.Join(root, "info.json"), 0o644))
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	listing := "shipgate-tree-v1\n" +
		`dir 0755 "dist"` + "\n" +
		`file 0600 1 ` + sum("a") + ` "dist/a.js"` + "\n" +
		`symlink "a.js" "dist/latest.js"` + "\n" +
		`dir 0750 "dist/sub"` + "\n" +
		`file 0644 0 ` + sum("") + ` "dist/sub/b.css"` + "\n" +
		`file 0644 2 ` + sum("{}") + ` "info.json"` + "\n"
	want := "sha256:" + sum(listing)
	// The paths in any order, with a trailing slash: the same tree.
	if got := treeOf(t, root, "info.json", "dist/"); got != want {
		t.Errorf("Tree = %s; want %s, the digest of\n%s", got, want, listing)
	}
}

// The same files give the same digest, whatever their times and the order
// they were written in; any change to a path, a mode or a content gives
// another.
func TestTreeDeterministic(t *testing.T) {
	files := map[string]string{"dist/index.html": "<h1>v1</h1>", "dist/assets/app.js": "1", "dist/assets/app.css": "", "dist/latest.js": "-> assets/app.js"}
	a, b := t.TempDir(), t.TempDir()
	write(t, a, files)
	// b: written in another order, an hour later, with other times.
	for _, name := range []string{"dist/latest.js", "dist/assets/app.css", "dist/index.html", "dist/assets/app.js"} {
		write(t, b, map[string]string{name: files[name]})
	}
	later := time.Now().Add(time.Hour)
	must(t, os.Chtimes(filepath.Join(b, "dist", "index.html"), later, later))
	base := treeOf(t, a, "dist")
	if got := treeOf(t, b, "dist"); got != base {
		t.Fatalf("the same files elsewhere: %s; want %s", got, base)
	}
	if again := treeOf(t, a, "dist"); again != base {
		t.Fatalf("Tree twice = %s, %s", base, again)
	}

	tests := []struct {
		name   string
		change func(dir string)
	}{
		{"content", func(d string) { write(t, d, map[string]string{"dist/index.html": "<h1>v2</h1>"}) }},
		{"same size", func(d string) { write(t, d, map[string]string{"dist/assets/app.js": "2"}) }},
		{"mode", func(d string) { must(t, os.Chmod(filepath.Join(d, "dist", "index.html"), 0o755)) }},
		{"directory mode", func(d string) { must(t, os.Chmod(filepath.Join(d, "dist", "assets"), 0o700)) }},
		{"added", func(d string) { write(t, d, map[string]string{"dist/new.js": ""}) }},
		{"empty directory", func(d string) { must(t, os.Mkdir(filepath.Join(d, "dist", "empty"), 0o755)) }},
		{"removed", func(d string) { must(t, os.Remove(filepath.Join(d, "dist", "assets", "app.css"))) }},
		{"renamed", func(d string) {
			must(t, os.Rename(filepath.Join(d, "dist", "index.html"), filepath.Join(d, "dist", "home.html")))
		}},
		{"link target", func(d string) {
			must(t, os.Remove(filepath.Join(d, "dist", "latest.js")))
			write(t, d, map[string]string{"dist/latest.js": "-> assets/app.css"})
		}},
		{"link replaced by its file", func(d string) {
			must(t, os.Remove(filepath.Join(d, "dist", "latest.js")))
			write(t, d, map[string]string{"dist/latest.js": "1"})
		}},
	}
	seen := map[string]string{base: "the original"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			write(t, d, files)
			tt.change(d)
			got := treeOf(t, d, "dist")
			if prev, ok := seen[got]; ok {
				t.Errorf("Tree after a %s change = %s, the digest of %s", tt.name, got, prev)
			}
			seen[got] = tt.name
		})
	}
}

// Put archives what Tree hashes: its tree digest is Tree's, and a restore
// gives the tree back.
func TestPutTree(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{"dist/index.html": "v1", "dist/js/app.js": "1", "dist/latest.js": "-> js/app.js", "build-info.json": "{}"})
	want := treeOf(t, root, "dist", "build-info.json")
	s := newStore(t)
	a, err := s.Put(root, []string{"dist", "build-info.json"})
	must(t, err)
	if a.Tree != want {
		t.Errorf("Put tree = %s; Tree = %s", a.Tree, want)
	}
	if a.Tree == a.Digest {
		t.Errorf("the tree digest is the archive's: %s", a.Tree)
	}
	write(t, root, map[string]string{"dist/index.html": "edited"})
	if treeOf(t, root, "dist", "build-info.json") == want {
		t.Fatal("an edited file kept the tree digest")
	}
	_, err = s.Restore(a.Digest, root, a.Paths)
	must(t, err)
	if got := treeOf(t, root, "dist", "build-info.json"); got != want {
		t.Errorf("Tree after Restore = %s; want the stored %s", got, want)
	}
}

func TestTreeRefuses(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{"dist/a.js": "a", "link": "-> dist"})
	for _, tt := range []struct {
		paths []string
		msg   string
	}{
		{nil, "no build output paths"},
		{[]string{"../dist"}, "inside the checkout"},
		{[]string{"missing"}, "build output missing"},
		{[]string{"link"}, "want a directory or a regular file"},
	} {
		if d, err := artifact.Tree(root, tt.paths); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Tree(%q) = %s, %v; want an error saying %q", tt.paths, d, err, tt.msg)
		}
	}
}
