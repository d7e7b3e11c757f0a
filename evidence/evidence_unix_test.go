//go:build unix

package evidence

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/internal/inputfile"
)

// TestLoadPathsRefusesAFIFO: a FIFO given as evidence, or as a *.json in
// a directory, is refused without being opened; opening it would wait for
// a writer forever.
func TestLoadPathsRefusesAFIFO(t *testing.T) {
	v := newValidator(t, DefaultLimits)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "in.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plan.json"), readFile(t, "plan.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, paths := range [][]string{{fifo}, {dir}} {
		done := make(chan error, 1)
		go func() {
			_, err := v.LoadPaths(paths)
			done <- err
		}()
		select {
		case err := <-done:
			var nr *inputfile.NotRegularError
			if !errors.As(err, &nr) || nr.Path != fifo || nr.Type != "FIFO" {
				t.Errorf("LoadPaths(%q) = %v; want %s refused as a FIFO", paths, err, fifo)
			}
			if want := "load evidence: " + fifo + ": not a regular file: FIFO"; err == nil || err.Error() != want {
				t.Errorf("LoadPaths(%q) = %v; want %q", paths, err, want)
			}
		case <-time.After(time.Second):
			t.Fatalf("LoadPaths(%q) still blocked after 1s", paths)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := v.LoadFile(fifo)
		done <- err
	}()
	select {
	case err := <-done:
		var nr *inputfile.NotRegularError
		if !errors.As(err, &nr) {
			t.Errorf("LoadFile(FIFO) = %v; want a *inputfile.NotRegularError", err)
		}
	case <-time.After(time.Second):
		t.Fatal("LoadFile(FIFO) still blocked after 1s")
	}
}
