package auditpack_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/ledger"
)

// fuzzLimits are small, so the fuzzer reaches them.
var fuzzLimits = auditpack.Limits{MaxFiles: 64, MaxFileBytes: 1 << 20, MaxTotalBytes: 4 << 20}

// FuzzRead feeds untrusted archives to Read and, when they read, to Check.
// Properties: nothing panics; what Read accepts is within the limits, with
// clean relative names; and Check, with the seed pack's key pinned, passes
// only a pack whose every decision and evidence file is byte for byte one
// of the seed pack's (which that key signed).
func FuzzRead(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*.tar.gz")
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds in testdata/: %v", err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	seed, err := os.ReadFile("testdata/fuzz-seed.tar.gz")
	if err != nil {
		f.Fatal(err)
	}
	orig, err := auditpack.Read(bytes.NewReader(seed), auditpack.Limits{})
	if err != nil {
		f.Fatal(err)
	}
	pub, err := ledger.ParsePublicKey(orig.Files[auditpack.PublicKeyFile])
	if err != nil {
		f.Fatal(err)
	}
	known := map[string]bool{}
	for name, b := range orig.Files {
		if strings.HasPrefix(name, "decisions/") || strings.HasPrefix(name, "evidence/") {
			known[string(b)] = true
		}
	}
	v := validator(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := auditpack.Read(bytes.NewReader(data), fuzzLimits)
		if err != nil {
			return
		}
		var total int64
		if len(a.Names) > fuzzLimits.MaxFiles {
			t.Fatalf("Read() accepted %d files; limit %d", len(a.Names), fuzzLimits.MaxFiles)
		}
		for _, n := range a.Names {
			if path.IsAbs(n) || path.Clean(n) != n || n == ".." || strings.HasPrefix(n, "../") || strings.Contains(n, `\`) {
				t.Fatalf("Read() accepted the name %q", n)
			}
			total += int64(len(a.Files[n]))
		}
		if total > fuzzLimits.MaxTotalBytes {
			t.Fatalf("Read() accepted %d bytes; limit %d", total, fuzzLimits.MaxTotalBytes)
		}
		res, err := auditpack.Check(context.Background(), a, auditpack.Options{Validator: v, PublicKey: pub})
		var fe *auditpack.FormatError
		if errors.As(err, &fe) {
			return // a policy bundle past its limits
		}
		if err != nil {
			t.Fatalf("Check() = %v", err)
		}
		if !res.OK {
			return
		}
		for _, ref := range a.Manifest.Decisions {
			if !known[string(a.Files[ref.File])] {
				t.Fatalf("Check() passed decision %s that the signed pack does not hold", ref.File)
			}
		}
		for _, ref := range a.Manifest.Evidence {
			if !known[string(a.Files[ref.File])] {
				t.Fatalf("Check() passed evidence %s that the signed pack does not hold", ref.File)
			}
		}
	})
}

// Hostile archives are refused with a FormatError naming the member.
func TestReadRefusesHostileArchives(t *testing.T) {
	for name, want := range map[string]string{
		"testdata/traversal.tar.gz": "../evil",
		"testdata/symlink.tar.gz":   "evidence/link.json",
		"testdata/absolute.tar.gz":  "/etc/passwd",
		"testdata/duplicate.tar.gz": "manifest.json",
	} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		_, err = auditpack.Read(bytes.NewReader(b), auditpack.Limits{})
		fe, ok := err.(*auditpack.FormatError)
		if !ok || fe.File != want {
			t.Errorf("Read(%s) = %v; want a FormatError naming %s", name, err, want)
		}
	}
	// Limits on count and size.
	many := archive(t, func(tw *tar.Writer) {
		for i := range 70 {
			put(tw, tar.TypeReg, strings.Repeat("a", i+1), "x")
		}
	})
	if _, err := auditpack.Read(bytes.NewReader(many), fuzzLimits); err == nil || !strings.Contains(err.Error(), "more than 64 entries") {
		t.Errorf("Read(70 files) = %v; want the file limit", err)
	}
	big := archive(t, func(tw *tar.Writer) { put(tw, tar.TypeReg, "big", strings.Repeat("x", 2<<20)) })
	if _, err := auditpack.Read(bytes.NewReader(big), fuzzLimits); err == nil || err.Error() != "not a readable audit pack: big: 2097152 bytes exceeds the limit of 1 MiB for one file" {
		t.Errorf("Read(2 MiB file) = %v; want the size limit", err)
	}
	if _, err := auditpack.Read(strings.NewReader("not gzip"), auditpack.Limits{}); err == nil {
		t.Error("Read(not gzip) = nil; want an error")
	}
}

// TestWriteHostileSeeds rewrites the hostile seed archives with -update.
func TestWriteHostileSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/")
	}
	write := func(name string, fn func(*tar.Writer)) {
		if err := os.WriteFile(filepath.Join("testdata", name), archive(t, fn), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	manifest := `{"format":"shipgate-audit-pack/v1","created":"2026-12-01T09:00:00Z","selection":{},"files":[],"entries":[],"decisions":[],"evidence":[],"policies":[]}`
	write("traversal.tar.gz", func(tw *tar.Writer) {
		put(tw, tar.TypeReg, "manifest.json", manifest)
		put(tw, tar.TypeReg, "../evil", "x")
	})
	write("symlink.tar.gz", func(tw *tar.Writer) {
		put(tw, tar.TypeReg, "manifest.json", manifest)
		put(tw, tar.TypeSymlink, "evidence/link.json", "")
	})
	write("absolute.tar.gz", func(tw *tar.Writer) { put(tw, tar.TypeReg, "/etc/passwd", "x") })
	write("duplicate.tar.gz", func(tw *tar.Writer) {
		put(tw, tar.TypeReg, "manifest.json", manifest)
		put(tw, tar.TypeReg, "manifest.json", manifest)
	})
	write("empty-pack.tar.gz", func(tw *tar.Writer) { put(tw, tar.TypeReg, "manifest.json", manifest) })
}

func archive(t *testing.T, fn func(*tar.Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	fn(tw)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func put(tw *tar.Writer, typ byte, name, body string) {
	h := &tar.Header{Typeflag: typ, Name: name, Mode: 0o644}
	if typ == tar.TypeReg {
		h.Size = int64(len(body))
	} else {
		h.Linkname = "/etc/passwd"
	}
	_ = tw.WriteHeader(h)
	_, _ = tw.Write([]byte(body))
}
