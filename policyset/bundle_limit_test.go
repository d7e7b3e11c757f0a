package policyset_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/internal/targz"
	"github.com/localizevideos/shipgate/internal/targz/targztest"
	"github.com/localizevideos/shipgate/policyset"
)

// A policy bundle that inflates to gigabytes (a gzip bomb: a 1 GiB file
// of zeros in about 1 MiB) is refused from its header, before it is
// inflated, and the heap stays small.
func TestBundleBomb(t *testing.T) {
	manifest := []byte(`{"revision":"r","roots":["shipgate"]}`)
	bombs := map[string][]byte{
		"one file of 1 GiB": targztest.Archive(
			targztest.File{Name: ".manifest", Data: manifest},
			targztest.File{Name: "data.json", Zeros: 1 << 30}),
		// Each file is within the per-file limit, together they are not.
		"three files of 30 MiB": targztest.Archive(
			targztest.File{Name: "a/data.json", Zeros: 30 << 20},
			targztest.File{Name: "b/data.json", Zeros: 30 << 20},
			targztest.File{Name: "c/data.json", Zeros: 30 << 20}),
	}
	want := map[string]string{
		"one file of 1 GiB":     fmt.Sprintf("data.json: %d bytes exceeds the limit of 32 MiB for one file", 1<<30),
		"three files of 30 MiB": "decompressed size exceeds 64 MiB",
	}
	for name, b := range bombs {
		t.Run(name, func(t *testing.T) {
			var err error
			start := time.Now()
			peak := targztest.PeakHeap(func() { _, err = policyset.ReadBundle(bytes.NewReader(b), nil) })
			var be *policyset.BundleError
			if !errors.As(err, &be) || !errors.Is(err, targz.ErrLimit) || !strings.Contains(err.Error(), want[name]) {
				t.Fatalf("ReadBundle(bomb) = %v; want a *BundleError naming the limit %q", err, want[name])
			}
			if peak > 256<<20 {
				t.Errorf("ReadBundle(bomb) used %d MiB of heap; want at most 256", peak>>20)
			}
			t.Logf("refused in %v, heap peak +%d MiB", time.Since(start), peak>>20)
		})
	}
}

// A bundle of more entries than MaxBundleFiles is refused.
func TestBundleTooManyFiles(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for i := range policyset.MaxBundleFiles + 1 {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("f%d.json", i), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	zw.Close()
	_, err := policyset.ReadBundle(&buf, nil)
	if !errors.Is(err, targz.ErrLimit) || !strings.Contains(err.Error(), "more than 10000 entries") {
		t.Fatalf("ReadBundle(10 001 files) = %v; want refused for its entries", err)
	}
}
