// Package targz reads gzip-compressed tar archives within limits: the
// decompressed stream, one file, and the number of entries.
//
// A few kilobytes of gzip can inflate to gigabytes, and a tar header can
// claim any size: an archive nobody vouches for yet (an audit pack, a
// policy bundle, an artifact whose digest is checked only once it is read)
// must never be read without a bound. Every reader of a .tar.gz in shipgate
// goes through this package, so the bounds are the same everywhere and the
// errors say which one was passed.
package targz

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/localizevideos/shipgate/internal/inputfile"
)

// Limits bound what a Reader decompresses.
type Limits struct {
	// MaxEntries is the most tar entries (files, directories, links) an
	// archive may hold.
	MaxEntries int
	// MaxFileBytes is the largest one file, uncompressed.
	MaxFileBytes int64
	// MaxTotalBytes bounds the decompressed stream: every file, header
	// and padding block.
	MaxTotalBytes int64
}

// ErrLimit is what every *LimitError is (errors.Is).
var ErrLimit = errors.New("archive past its limits")

// LimitError is an archive that goes past one of its Limits; it was read no
// further.
type LimitError struct {
	// Entry names the tar entry, when the limit is about one.
	Entry string
	// Reason says which limit, e.g. "decompressed size exceeds 64 MiB".
	Reason string
}

func (e *LimitError) Error() string {
	if e.Entry == "" {
		return e.Reason
	}
	return e.Entry + ": " + e.Reason
}

// Is makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// Reader reads the entries of a gzip tar within its Limits. Use it as a
// tar.Reader: Next, then Read (or ReadFile) the entry.
type Reader struct {
	lim     Limits
	zr      *gzip.Reader
	cr      *countReader
	tr      *tar.Reader
	entries int
	claimed int64
	name    string
}

// NewReader starts reading the gzip tar r within lim. A zero field in lim
// is no bound: give every one.
func NewReader(r io.Reader, lim Limits) (*Reader, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	cr := &countReader{r: zr, max: lim.MaxTotalBytes}
	return &Reader{lim: lim, zr: zr, cr: cr, tr: tar.NewReader(cr)}, nil
}

// Next advances to the next entry, refusing it when it would pass a
// limit: one entry too many, a file larger than MaxFileBytes, or files
// whose sizes add up past MaxTotalBytes (caught from the headers, before
// anything of them is inflated). It returns io.EOF at the end.
func (r *Reader) Next() (*tar.Header, error) {
	h, err := r.tr.Next()
	if r.cr.err != nil {
		return nil, r.cr.err
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("tar: %w", err)
	}
	r.name = h.Name
	if r.entries++; r.lim.MaxEntries > 0 && r.entries > r.lim.MaxEntries {
		return nil, &LimitError{Reason: fmt.Sprintf("more than %d entries", r.lim.MaxEntries)}
	}
	if h.Size < 0 {
		return nil, fmt.Errorf("tar: %s: negative size", h.Name)
	}
	if r.lim.MaxFileBytes > 0 && h.Size > r.lim.MaxFileBytes {
		return nil, &LimitError{Entry: h.Name, Reason: fmt.Sprintf("%d bytes exceeds the limit of %s for one file", h.Size, inputfile.Size(r.lim.MaxFileBytes))}
	}
	if r.claimed += h.Size; r.lim.MaxTotalBytes > 0 && r.claimed > r.lim.MaxTotalBytes {
		return nil, r.cr.tooLarge()
	}
	return h, nil
}

// Read reads the current entry.
func (r *Reader) Read(p []byte) (int, error) {
	n, err := r.tr.Read(p)
	if r.cr.err != nil {
		return n, r.cr.err
	}
	return n, err
}

// ReadFile reads the whole current entry, which Next checked is within
// MaxFileBytes.
func (r *Reader) ReadFile(h *tar.Header) ([]byte, error) {
	b := make([]byte, h.Size)
	if n, err := io.ReadFull(r, b); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("tar: %s: holds %d bytes, its header says %d", h.Name, n, h.Size)
		}
		return nil, err
	}
	return b, nil
}

// Drain reads what is left of the gzip stream (the tar's end blocks, the
// gzip trailer and anything after), within MaxTotalBytes, and closes the
// gzip reader.
func (r *Reader) Drain() error {
	if _, err := io.Copy(io.Discard, r.cr); err != nil {
		return err
	}
	return r.zr.Close()
}

// Multistream says whether the gzip reader goes on after the first gzip
// member (as gzip -d does; the default) or stops at its end.
func (r *Reader) Multistream(ok bool) { r.zr.Multistream(ok) }

// Close releases the gzip reader; it does not close the source.
func (r *Reader) Close() error { return r.zr.Close() }

// countReader fails once more than max bytes come through it, and keeps
// failing.
type countReader struct {
	r   io.Reader
	n   int64
	max int64
	err error
}

func (c *countReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.max > 0 && int64(len(p)) > c.max-c.n+1 {
		p = p[:c.max-c.n+1]
	}
	n, err := c.r.Read(p)
	if c.n += int64(n); c.max > 0 && c.n > c.max {
		c.err = c.tooLarge()
		return 0, c.err
	}
	return n, err
}

func (c *countReader) tooLarge() error {
	return &LimitError{Reason: "decompressed size exceeds " + inputfile.Size(c.max)}
}
