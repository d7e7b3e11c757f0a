package sqlite

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/storetest"
)

func TestOpenWhereNothingCanBeWritten(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file, short := filepath.Join(dir, "file"), filepath.Join(dir, "short")
	if err := os.WriteFile(file, []byte(`{"not": "a database, but longer than SQLite's header"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// SQLite would take a file shorter than its header for an empty
	// database and overwrite it.
	if err := os.WriteFile(short, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		want       string // in the message
	}{
		{"missing directory", filepath.Join(dir, ".shipgate", "ledger.db"), filepath.Join(dir, ".shipgate")},
		{"parent is a file", filepath.Join(file, "ledger.db"), file},
		{"path is a directory", dir, ""},
		{"not a database", file, "not a SQLite database"},
		{"short, not a database", short, "not a SQLite database"},
	}
	if runtime.GOOS == "linux" {
		// Fails even for root: nothing can be created in /proc.
		tests = append(tests, struct{ name, path, want string }{"in /proc", "/proc/self/ledger.db", ""})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(ctx, tt.path)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%s) = nil; want an error", tt.path)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%s) = %v; want it to name %s", tt.path, err, tt.want)
			}
		})
	}
	if b, err := os.ReadFile(short); err != nil || string(b) != "x" {
		t.Errorf("the short file was changed: %q, %v", b, err)
	}
	if _, err := Open(ctx, tests[0].path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing directory) = %v; want fs.ErrNotExist", err)
	}
}

// writeOne records one decision and returns the ledger's length.
func writeOne(t *testing.T, path string) int64 {
	t.Helper()
	ctx := context.Background()
	db := openT(t, path)
	if err := db.RecordDecision(ctx, t0, storetest.NewDecision(t, "dec_1", "lv-1", "app", true, t0), nil, nil); err != nil {
		t.Fatal(err)
	}
	n, err := db.Len(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkIntact reopens path for writing and checks it still holds n entries
// that verify.
func checkIntact(t *testing.T, path string, n int64) {
	t.Helper()
	ctx := context.Background()
	db := openT(t, path)
	if got, err := db.Len(ctx); err != nil || got != n {
		t.Errorf("Len() = %d, %v; want %d: nothing lost, nothing added", got, err, n)
	}
	if _, err := db.Verify(ctx, nil); err != nil {
		t.Errorf("Verify() = %v", err)
	}
}

// A file its owner may not write: root ignores the permission bits, so the
// test needs another user.
func TestReadOnlyFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes read-only files; TestImmutableFile and TestOpenReadOnly cover this case")
	}
	dir := filepath.Join(t.TempDir(), ".shipgate")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ledger.db")
	n := writeOne(t, path)
	for _, p := range []string{path, dir} {
		if err := os.Chmod(p, 0o444|0o111*boolInt(p == dir)); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755); os.Chmod(path, 0o644) })
	failWrites(t, path)
	os.Chmod(dir, 0o755)
	os.Chmod(path, 0o644)
	checkIntact(t, path, n)
}

func boolInt(b bool) os.FileMode {
	if b {
		return 1
	}
	return 0
}

// An immutable file (chattr +i) cannot be written even by root.
func TestImmutableFile(t *testing.T) {
	if _, err := exec.LookPath("chattr"); err != nil {
		t.Skip("no chattr")
	}
	path := filepath.Join(t.TempDir(), "ledger.db")
	n := writeOne(t, path)
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Skipf("chattr +i: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", path).Run() })
	failWrites(t, path)
	if out, err := exec.Command("chattr", "-i", path).CombinedOutput(); err != nil {
		t.Fatalf("chattr -i: %v: %s", err, out)
	}
	checkIntact(t, path, n)
}

// failWrites checks that the ledger at path cannot be written: Open fails,
// or else the first write does.
func failWrites(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		t.Logf("Open() = %v", err)
		return
	}
	defer db.Close()
	err = db.RecordDecision(ctx, t0, storetest.NewDecision(t, "dec_2", "lv-1", "app", true, t0), nil, nil)
	if err == nil {
		t.Fatalf("Open() and RecordDecision() on an unwritable file = nil; want an error")
	}
	t.Logf("RecordDecision() = %v", err)
}

// A handle opened read-only reads and verifies, and refuses every write.
func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	n := writeOne(t, path)
	db, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Verify(ctx, nil); err != nil {
		t.Errorf("Verify() = %v", err)
	}
	if _, err := db.Decision(ctx, "dec_1"); err != nil {
		t.Errorf("Decision(dec_1) = %v", err)
	}
	d := storetest.NewDecision(t, "dec_2", "lv-1", "app", true, t0)
	ev := storetest.NewEvidence(t, "Postmortem", "lv-1", "app", t0, 1)
	writes := map[string]error{
		"RecordDecision": db.RecordDecision(ctx, t0, d, nil, nil),
		"AddEvidence": func() error {
			_, err := db.AddEvidence(ctx, t0, []store.Evidence{ev})
			return err
		}(),
		"ClosePostmortem": func() error {
			_, err := db.ClosePostmortem(ctx, t0, ev, []string{"vio_1"})
			return err
		}(),
	}
	for name, err := range writes {
		if err == nil {
			t.Errorf("%s() on a read-only handle = nil; want an error", name)
		}
	}
	db.Close()
	checkIntact(t, path, n)

	if _, err := OpenReadOnly(ctx, filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Errorf("OpenReadOnly(missing file) = nil; want an error")
	}
}
