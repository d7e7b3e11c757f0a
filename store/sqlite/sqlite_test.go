package sqlite

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/store/storetest"
)

var _ storetest.Store = (*DB)(nil)

func TestMain(m *testing.M) {
	// The crash test runs this binary again as the process it kills.
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	os.Exit(m.Run())
}

func TestStore(t *testing.T) {
	var paths sync.Map // *testing.T → database path: one database per test
	storetest.Run(t, func(t *testing.T) storetest.Store {
		p, ok := paths.Load(t)
		if !ok {
			p, _ = paths.LoadOrStore(t, filepath.Join(t.TempDir(), "ledger.db"))
		}
		return openT(t, p.(string))
	})
}

// openT opens the ledger at path and closes it when t ends.
func openT(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Every connection runs with the settings the ledger relies on.
func TestPragmas(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "ledger.db"))
	for _, tt := range []struct{ pragma, want string }{
		{"journal_mode", "wal"}, {"synchronous", "2"}, {"foreign_keys", "1"}, {"busy_timeout", "10000"},
	} {
		var got string
		if err := db.sql.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s = %s; want %s", tt.pragma, got, tt.want)
		}
	}
}

// Several processes opening a new file at once migrate it once.
func TestConcurrentFirstOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	const n = 8
	errs := make(chan error, n)
	dbs := make(chan *DB, n)
	for range n {
		go func() {
			db, err := Open(context.Background(), path)
			errs <- err
			dbs <- db
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("Open() = %v", err)
		}
		if db := <-dbs; db != nil {
			defer db.Close()
		}
	}
	db := openT(t, path)
	var versions, applied int
	if err := db.sql.QueryRow("SELECT COUNT(*), COUNT(DISTINCT version_id) FROM "+versionTable).Scan(&versions, &applied); err != nil {
		t.Fatal(err)
	}
	if versions != applied {
		t.Errorf("%s has %d rows for %d versions: a migration ran twice", versionTable, versions, applied)
	}
}

// Opening a file that another connection is writing in rollback mode, as one
// opener does while it switches a new file to WAL mode, waits for the writer
// instead of failing with SQLITE_BUSY: the switch upgrades a read lock, for
// which SQLite does not wait in the busy handler.
func TestOpenWaitsForJournalModeSwitch(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	other, err := sql.Open("sqlite", u.String()+"?_pragma=journal_mode(DELETE)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(ctx, "CREATE TABLE other (x)"); err != nil {
		t.Fatal(err)
	}
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	committed := make(chan error, 1)
	go func() {
		time.Sleep(200 * time.Millisecond) // long enough for Open to meet the lock
		_, err := conn.ExecContext(ctx, "COMMIT")
		committed <- err
	}()
	db := openT(t, path)
	if err := <-committed; err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := db.sql.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("PRAGMA journal_mode = %s; want wal", mode)
	}
}
