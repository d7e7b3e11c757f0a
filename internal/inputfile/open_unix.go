//go:build unix

package inputfile

import (
	"os"
	"syscall"
)

// openNonblocking opens path with O_NONBLOCK, so that a FIFO put in place
// of the file after the stat does not block the open waiting for a
// writer.
func openNonblocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// setBlocking clears O_NONBLOCK on a regular file, which the runtime does
// not poll, so that reads behave as on any file.
func setBlocking(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), false) }); err != nil {
		return err
	}
	return serr
}
