// Package targztest builds hostile gzip tar archives for tests.
package targztest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"runtime"
	"time"
)

// File is one regular file of an archive: Data, or Zeros zero bytes (a
// multiple of 1 MiB).
type File struct {
	Name  string
	Data  []byte
	Zeros int64
}

// Archive returns a gzip tar of files. Zeros cost about a thousandth of
// their size and are never held in memory: they are gzip members of 1 MiB
// of zeros each, repeated (a gzip stream may hold several members, and
// every gzip reader, gzip -d included, reads on through them). So a gzip
// bomb of gigabytes is made in milliseconds.
func Archive(files ...File) []byte {
	const chunk = 1 << 20
	var zeros bytes.Buffer
	member(&zeros, make([]byte, chunk))
	var out bytes.Buffer
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, f := range files {
		size := int64(len(f.Data))
		if f.Zeros > 0 {
			size = f.Zeros
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.Name, Mode: 0o644, Size: size}); err != nil {
			panic(err)
		}
		if f.Zeros == 0 {
			if _, err := tw.Write(f.Data); err != nil {
				panic(err)
			}
			continue
		}
		if f.Zeros%chunk != 0 {
			panic("targztest: Zeros must be a multiple of 1 MiB")
		}
		// WriteHeader wrote the header block to raw; the zeros follow it
		// as members of their own (no padding: a multiple of 512 bytes),
		// and a new tar writer goes on after them.
		member(&out, raw.Bytes())
		raw.Reset()
		for range f.Zeros / chunk {
			out.Write(zeros.Bytes())
		}
		tw = tar.NewWriter(&raw)
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	member(&out, raw.Bytes())
	return out.Bytes()
}

// Bomb is an archive of one file name holding size zero bytes.
func Bomb(name string, size int64) []byte {
	return Archive(File{Name: name, Zeros: size})
}

func member(out *bytes.Buffer, b []byte) {
	zw, _ := gzip.NewWriterLevel(out, gzip.BestCompression)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		panic(err)
	}
}

// PeakHeap samples the heap while f runs and returns the most it saw in
// use above what was in use before: what reading a bomb cost in memory.
func PeakHeap(f func()) uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base, peak := m.HeapAlloc, m.HeapAlloc
	done, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	<-sampled
	runtime.ReadMemStats(&m)
	return max(peak, m.HeapAlloc) - base
}
