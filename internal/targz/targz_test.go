package targz_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/internal/targz"
	"github.com/localizevideos/shipgate/internal/targz/targztest"
)

// tgz writes a gzip tar of files (in order), then extra after the tar's
// end, inside the same gzip stream.
func tgz(t *testing.T, files [][2]string, after []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f[0], Mode: 0o644, Size: int64(len(f[1]))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Write(after)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readAll reads every entry and then drains the stream.
func readAll(b []byte, lim targz.Limits) (map[string]string, error) {
	r, err := targz.NewReader(bytes.NewReader(b), lim)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, r.Drain()
		}
		if err != nil {
			return nil, err
		}
		body, err := r.ReadFile(h)
		if err != nil {
			return nil, err
		}
		out[h.Name] = string(body)
	}
}

func TestLimits(t *testing.T) {
	lim := targz.Limits{MaxEntries: 3, MaxFileBytes: 1000, MaxTotalBytes: 8 << 10}
	big := strings.Repeat("x", 1001)
	k := strings.Repeat("y", 900)
	cases := []struct {
		name string
		arc  []byte
		want string // "" = read
	}{
		{"within", tgz(t, [][2]string{{"a", "1"}, {"b", "2"}, {"c", k}}, nil), ""},
		{"too many entries", tgz(t, [][2]string{{"a", ""}, {"b", ""}, {"c", ""}, {"d", ""}}, nil), "more than 3 entries"},
		{"a file too large", tgz(t, [][2]string{{"a", "1"}, {"big", big}}, nil), "big: 1001 bytes exceeds the limit of 1000 bytes for one file"},
		{"files too large in all", tgz(t, [][2]string{{"a", k}, {"b", k}, {"c", k}}, nil), ""},
		{"zeros after the tar's end", tgz(t, [][2]string{{"a", "1"}}, make([]byte, 64<<10)), "decompressed size exceeds 8 KiB"},
	}
	// 3 × 900 bytes of files are 3 × 1.5 KiB of stream: within 8 KiB.
	lim2 := lim
	lim2.MaxTotalBytes = 2000
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := lim
			if c.name == "files too large in all" {
				l = lim2
				c.want = "decompressed size exceeds 2000 bytes"
			}
			_, err := readAll(c.arc, l)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("read = %v; want the files", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, targz.ErrLimit)):
				t.Fatalf("read = %v; want a limit error %q", err, c.want)
			}
		})
	}
}

// TestBomb reads a gzip tar that inflates to 1 GiB from about 1 MiB: the
// header's size is refused before any of it is inflated, and the streaming
// bound catches the same zeros when they hide after a small file.
func TestBomb(t *testing.T) {
	bomb := targztest.Bomb("zeros", 1<<30)
	if len(bomb) > 2<<20 {
		t.Fatalf("bomb is %d bytes; want about 1 MiB", len(bomb))
	}
	lim := targz.Limits{MaxEntries: 10, MaxFileBytes: 64 << 20, MaxTotalBytes: 64 << 20}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readAll(bomb, lim)
	if !errors.Is(err, targz.ErrLimit) || err.Error() != fmt.Sprintf("zeros: %d bytes exceeds the limit of 64 MiB for one file", 1<<30) {
		t.Fatalf("read(bomb) = %v; want the file refused", err)
	}
	// Sizes within the per-file limit, but too many of them: the total
	// is refused from the headers.
	lim.MaxFileBytes = 2 << 30
	if _, err := readAll(bomb, lim); err == nil || err.Error() != "decompressed size exceeds 64 MiB" {
		t.Fatalf("read(bomb) with no per-file limit = %v; want the total refused", err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("reading the bomb allocated %d MiB; want a few", grew>>20)
	}
}
