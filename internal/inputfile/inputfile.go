// Package inputfile reads the files a user names on the command line:
// evidence, policy data, checks, signals, keys, configuration. Only a
// regular file is read, and never more than a limit.
//
// A FIFO, a device or a socket named by mistake would otherwise block the
// reader forever (opening a FIFO waits for a writer) or feed it without
// end (/dev/zero). The path is checked with stat before it is opened, then
// opened without blocking and checked again through the descriptor, so a
// path swapped for a FIFO in between is refused too; and the read is
// bounded, so a file that grows while it is read is still cut at the limit.
package inputfile

import (
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
)

// NotRegularError is a path that names something other than a regular
// file; it was not read.
type NotRegularError struct {
	Path string
	// Type is what the path names: "directory", "FIFO", "character
	// device", "block device", "socket" or "irregular file".
	Type string
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s: not a regular file: %s", e.Path, e.Type)
}

// TooLargeError is a file that holds more than the limit it was read with.
type TooLargeError struct {
	Path  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s: larger than the limit of %s", e.Path, Size(e.Limit))
}

// Open opens path for reading when it is a regular file, and returns a
// *NotRegularError without reading anything otherwise. The caller bounds
// what it reads (Read does) and closes the file.
func Open(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		// Reported as the open it stands for: "open x: no such file or
		// directory", as os.Open says.
		if pe, ok := err.(*fs.PathError); ok {
			err = &fs.PathError{Op: "open", Path: pe.Path, Err: pe.Err}
		}
		return nil, err
	}
	if err := regular(path, fi.Mode()); err != nil {
		return nil, err
	}
	return openRegular(path)
}

// openRegular opens path and refuses it unless what was opened is a
// regular file: the path may have changed since it was checked.
func openRegular(path string) (*os.File, error) {
	f, err := openNonblocking(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = regular(path, fi.Mode())
	}
	if err == nil {
		err = setBlocking(f)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Read returns the content of the regular file at path. A file of more
// than limit bytes is a *TooLargeError, found from its size when it is
// opened, or after reading one byte past the limit when it grows.
func Read(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > limit {
		return nil, &TooLargeError{Path: path, Limit: limit}
	}
	n := limit
	if n < math.MaxInt64 {
		n++
	}
	b, err := io.ReadAll(io.LimitReader(f, n))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Path: path, Limit: limit}
	}
	return b, nil
}

// Check returns a *NotRegularError when fi, the stat of path, is not a
// regular file; a caller that lists a directory uses it to refuse an
// entry before anything is opened.
func Check(path string, fi fs.FileInfo) error { return regular(path, fi.Mode()) }

func regular(path string, m fs.FileMode) error {
	if m.IsRegular() {
		return nil
	}
	t := "irregular file"
	switch {
	case m.IsDir():
		t = "directory"
	case m&fs.ModeNamedPipe != 0:
		t = "FIFO"
	case m&fs.ModeCharDevice != 0:
		t = "character device"
	case m&fs.ModeDevice != 0:
		t = "block device"
	case m&fs.ModeSocket != 0:
		t = "socket"
	}
	return &NotRegularError{Path: path, Type: t}
}

// Size spells a byte count the way a limit is given: "64 KiB", "1 MiB",
// else in bytes.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
