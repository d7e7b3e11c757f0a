package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/store/storetest"
)

// dirState is what a read must not change: the names, sizes, modes and
// modification times in a directory, and the ledger's bytes.
func dirState(t *testing.T, dir, ledger string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s %s %d\n", e.Name(), fi.Mode(), fi.ModTime().Format(time.RFC3339Nano), fi.Size())
	}
	data, err := os.ReadFile(ledger)
	if err != nil {
		t.Fatal(err)
	}
	return b.String() + string(data)
}

// lockDown makes dir and the files in it unchangeable, even by root:
// chattr +i where it works, else the permission bits (which root ignores).
func lockDown(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			must(t, os.Chmod(filepath.Join(dir, e.Name()), 0o444))
		}
		must(t, os.Chmod(dir, 0o555))
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return
	}
	if _, err := exec.LookPath("chattr"); err != nil {
		t.Skip("root ignores permission bits, and there is no chattr")
	}
	paths := []string{dir}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		paths = append(paths, filepath.Join(dir, e.Name()))
	}
	for _, p := range slices.Backward(paths) {
		if out, err := exec.Command("chattr", "+i", p).CombinedOutput(); err != nil {
			t.Skipf("chattr +i %s: %v: %s", p, err, out)
		}
	}
	t.Cleanup(func() {
		for _, p := range paths {
			exec.Command("chattr", "-i", p).Run()
		}
	})
	if f, err := os.Create(filepath.Join(dir, "probe")); err == nil {
		f.Close()
		t.Fatal("chattr +i did not stop root creating a file")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A ledger in a directory nothing may be written to (a read-only copy, as
// an auditor gets one) verifies: no -wal or -shm file is created, and the
// ledger's bytes and modification time stay as they were.
func TestOpenReadOnlyWritesNothing(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "copy")
	must(t, os.Mkdir(dir, 0o755))
	path := filepath.Join(dir, "ledger.db")
	n := writeOne(t, path)
	lockDown(t, dir)
	before := dirState(t, dir, path)
	db, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatalf("OpenReadOnly(a read-only copy) = %v", err)
	}
	head, err := db.Verify(ctx, nil)
	if err != nil || head.Size != n {
		t.Errorf("Verify() = %+v, %v; want %d entries intact", head, err, n)
	}
	if _, err := db.Decision(ctx, "dec_1"); err != nil {
		t.Errorf("Decision(dec_1) = %v", err)
	}
	if err := db.RecordDecision(ctx, t0, storetest.NewDecision(t, "dec_2", "lv-1", "app", true, t0), nil, nil); err == nil {
		t.Error("RecordDecision() on a read-only copy = nil; want an error")
	}
	must(t, db.Close())
	if after := dirState(t, dir, path); after != before {
		t.Errorf("reading changed the directory:\nbefore:\n%.300s\nafter:\n%.300s", before, after)
	}
}

// In a writable directory the ledger file is never written either, even
// when a write-ahead log with committed entries (a writer that crashed)
// must be read: the reader sees those entries, and the file keeps its
// bytes and time. Where no -shm index can be made, the reader says why
// rather than verify the older state the file alone holds.
func TestOpenReadOnlyWithAWriteAheadLog(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "live.db")
	w := openT(t, src)
	if err := w.RecordDecision(ctx, t0, storetest.NewDecision(t, "dec_1", "lv-1", "app", true, t0), nil, nil); err != nil {
		t.Fatal(err)
	}
	// Copied while the writer is open: the commit is in the log only.
	dir := filepath.Join(t.TempDir(), "crashed")
	must(t, os.Mkdir(dir, 0o755))
	path := filepath.Join(dir, "ledger.db")
	for _, suffix := range []string{"", "-wal"} {
		copyFile(t, src+suffix, path+suffix)
	}
	n, err := w.Len(ctx)
	must(t, err)
	w.Close()
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("the copy has no write-ahead log to read: %v", err)
	}
	ledger, err := os.ReadFile(path)
	must(t, err)
	mtime := modTime(t, path)

	db, err := OpenReadOnly(ctx, path)
	must(t, err)
	if head, err := db.Verify(ctx, nil); err != nil || head.Size != n {
		t.Errorf("Verify() = %+v, %v; want the %d entries of the log too", head, err, n)
	}
	must(t, db.Close())
	if b, _ := os.ReadFile(path); !bytes.Equal(b, ledger) || !modTime(t, path).Equal(mtime) {
		t.Error("reading the log wrote the ledger file")
	}

	// The same copy where no index can be made.
	locked := filepath.Join(t.TempDir(), "locked")
	must(t, os.Mkdir(locked, 0o755))
	for _, suffix := range []string{"", "-wal"} {
		copyFile(t, path+suffix, filepath.Join(locked, "ledger.db"+suffix))
	}
	lockDown(t, locked)
	if db, err := OpenReadOnly(ctx, filepath.Join(locked, "ledger.db")); err == nil {
		head, verr := db.Verify(ctx, nil)
		db.Close()
		if verr != nil || head.Size != n {
			t.Errorf("OpenReadOnly(no index possible) read %+v, %v; want all %d entries or an error", head, verr, n)
		}
	} else if !strings.Contains(err.Error(), "write-ahead log") {
		t.Errorf("OpenReadOnly(no index possible) = %v; want it to say why", err)
	} else {
		t.Logf("OpenReadOnly(no index possible) = %v", err)
	}
}

func modTime(t *testing.T, path string) time.Time {
	t.Helper()
	fi, err := os.Stat(path)
	must(t, err)
	return fi.ModTime()
}
