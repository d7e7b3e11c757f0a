//go:build unix

package inputfile

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// within fails the test when f does not return within a second: a read
// that blocks on a special file never returns.
func within(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Second):
		t.Fatal("still blocked after 1s")
		return nil
	}
}

func TestReadRefusesSpecialFiles(t *testing.T) {
	// A short directory: a socket path must fit in sun_path.
	dir, err := os.MkdirTemp("", "if")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })

	for _, tc := range []struct {
		name, path, typ string
	}{
		{"FIFO", fifo, "FIFO"},
		{"character device", "/dev/zero", "character device"},
		{"socket", sock, "socket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := within(t, func() error { _, err := Read(tc.path, 1<<20); return err })
			var nr *NotRegularError
			if !errors.As(err, &nr) || nr.Type != tc.typ || nr.Path != tc.path {
				t.Fatalf("Read(%s) = %v; want a *NotRegularError of a %s", tc.path, err, tc.typ)
			}
			if want := tc.path + ": not a regular file: " + tc.typ; err.Error() != want {
				t.Errorf("Read(%s) = %q; want %q", tc.path, err, want)
			}
		})
	}
}

// TestOpenRefusesASwappedFIFO opens a FIFO past the stat, as when the path
// is replaced between the two: the open must not wait for a writer, and
// the descriptor's type must be checked.
func TestOpenRefusesASwappedFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	err := within(t, func() error {
		f, err := openRegular(fifo)
		if err == nil {
			f.Close()
		}
		return err
	})
	var nr *NotRegularError
	if !errors.As(err, &nr) || nr.Type != "FIFO" {
		t.Errorf("openRegular(FIFO) = %v; want a *NotRegularError of a FIFO", err)
	}
}

func TestOpenLeavesARegularFileBlocking(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	var ferr error
	if err := rc.Control(func(fd uintptr) { flags, ferr = fcntlFlags(fd) }); err != nil || ferr != nil {
		t.Fatal(err, ferr)
	}
	if flags&syscall.O_NONBLOCK != 0 {
		t.Errorf("Open(regular file): O_NONBLOCK still set")
	}
}

func fcntlFlags(fd uintptr) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}
