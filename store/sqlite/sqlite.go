// Package sqlite is the embedded default store: the ledger and its query
// tables in one SQLite file (conventionally .shipgate/ledger.db in the
// working directory), through the pure-Go driver modernc.org/sqlite, so
// static builds stay possible and nothing needs setting up.
//
// The schema is in migrations/ (applied with goose), the store itself is
// package sqlstore's: every write is one BEGIN IMMEDIATE transaction,
// shared by the concurrent writes of a handle, that commits with
// synchronous=FULL in WAL mode. Writers in other processes wait for each
// other (busy timeout), so concurrent gates leave one linear chain; a write
// that returned nil survives a crash; one that did not left nothing behind.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/pressly/goose/v3"
	modernc "modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/localizevideos/shipgate/store/sqlstore"
)

// DB is a ledger in one SQLite file (the methods are sqlstore.DB's). It is
// safe for concurrent use, and several DBs (in one process or several) may
// share the file.
type DB struct {
	*sqlstore.DB
	sql *sql.DB
}

// busyTimeout is how long a writer waits for another one, in milliseconds.
const busyTimeout = 10000

// maxIdleConns bounds the connections kept open while unused, and
// connMaxIdleTime how long one is kept unused: as many as a busy server
// uses at once, for as long as it stays busy. (With database/sql's default
// of two, each burst of requests opened the others again: a file, its
// pragmas, the statements prepared on it.)
const (
	maxIdleConns    = 32
	connMaxIdleTime = time.Minute
)

// Open opens the ledger at path, creating the file and its tables when
// missing and migrating an older schema. The directory must exist (callers
// create .shipgate/). A file that cannot be written fails here, where
// migrating takes the write lock, or at the first write; a file that is not
// a SQLite database is refused, never overwritten.
func Open(ctx context.Context, path string) (*DB, error) {
	sdb, err := open(ctx, path, readWrite)
	if err != nil {
		return nil, err
	}
	if err = useWAL(ctx, sdb); err != nil {
		err = fmt.Errorf("journal mode: %w", err)
	} else if err = sqlstore.Migrate(ctx, sdb, &dialect); err != nil {
		err = fmt.Errorf("migrate: %w", err)
	}
	return ready(sdb, path, err)
}

// ready returns the store over sdb, or closes sdb and says why not.
func ready(sdb *sql.DB, path string, err error) (*DB, error) {
	if err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	return &DB{DB: sqlstore.New(sdb, &dialect, path), sql: sdb}, nil
}

// OpenReadOnly opens an existing ledger without ever writing to it: for
// verifying a copy, or a file this process may not change. Every write
// method returns an error. A read-only connection neither checkpoints nor
// deletes the write-ahead log. Where the directory takes no new file (a
// read-only mount, an immutable directory, no write permission) and holds
// no ledger.db-wal, nobody can write the ledger meanwhile: it is opened
// immutable, with no lock, and nothing in the directory changes. A -wal
// holds committed entries that only a reader with a ledger.db-shm index
// sees: SQLite builds it if it can, and where it cannot, OpenReadOnly says
// so rather than verify an old state. In a writable directory SQLite reads
// through its locks, and a writer may run meanwhile.
func OpenReadOnly(ctx context.Context, path string) (*DB, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("open ledger %s: not a regular file", path)
	}
	mode := readOnly
	if immutable, err := unchangeable(path); err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	} else if immutable {
		mode = readImmutable
	}
	sdb, err := open(ctx, path, mode)
	if err != nil {
		if _, werr := os.Stat(path + "-wal"); werr == nil && !canCreateIn(filepath.Dir(path)) {
			return nil, fmt.Errorf("%w (the ledger has a write-ahead log, %s-wal, which SQLite reads only through a %s-shm index it cannot create in this directory: copy the ledger and its -wal to a writable directory and verify the copy)", err, path, path)
		}
		return nil, err
	}
	return ready(sdb, path, sqlstore.CheckSchema(ctx, sdb, &dialect))
}

// unchangeable reports whether nobody can write the WAL database at path
// while it is read: its directory takes no new file, and it has no -wal
// (or an empty one and no -shm), both of which a writer needs.
func unchangeable(path string) (bool, error) {
	if !canCreateIn(filepath.Dir(path)) {
		wal, err := os.Stat(path + "-wal")
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return false, err
		case wal.Size() > 0:
			return false, nil
		default:
			if _, err := os.Stat(path + "-shm"); !errors.Is(err, fs.ErrNotExist) {
				return false, err
			}
		}
		h, err := fileHeader(path)
		return isWAL(h), err
	}
	return false, nil
}

// The ways open opens a file, as the settings its DSN adds for them:
// writing takes the write lock at BEGIN and syncs every commit; reading
// leaves the journal mode alone (the file is in WAL mode already, and
// asking again would write); reading a file nobody can change takes no
// lock and no -wal or -shm (see OpenReadOnly).
type openMode string

const (
	readWrite     openMode = "_pragma=synchronous(FULL)&_txlock=immediate"
	readOnly      openMode = "mode=ro"
	readImmutable openMode = "mode=ro&immutable=1"
)

func open(ctx context.Context, path string, mode openMode) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("open ledger %s: directory %s: %w", path, dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("open ledger %s: %s is not a directory", path, dir)
	}
	if _, err := fileHeader(abs); err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	sdb, err := sql.Open("sqlite", dsn(abs, mode))
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	sdb.SetMaxIdleConns(maxIdleConns)
	sdb.SetConnMaxIdleTime(connMaxIdleTime)
	// sql.Open connects lazily; connect now so a bad path fails here.
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	return sdb, nil
}

// sqliteHeader opens every SQLite database file.
const sqliteHeader = "SQLite format 3\x00"

// fileHeader reads the first 20 bytes of the file at path (none when it
// is missing or empty: SQLite makes a new database of it) and refuses a
// file that is not a SQLite database. SQLite itself reports most of them,
// but takes a file shorter than its header for an empty database and
// overwrites it.
func fileHeader(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	h := make([]byte, 20)
	n, err := io.ReadFull(f, h)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	if h = h[:n]; n > 0 && (n < len(sqliteHeader) || string(h[:len(sqliteHeader)]) != sqliteHeader) {
		return nil, fmt.Errorf("%s is not a SQLite database", path)
	}
	return h, nil
}

// isWAL reports whether a database header says WAL mode (its read and
// write format versions are 2).
func isWAL(h []byte) bool { return len(h) == 20 && h[18] == 2 && h[19] == 2 }

// dsn is the URI of the file at the absolute path abs, with the settings
// every connection needs and those of mode. The journal mode is not one of
// them: it is stored in the file, and useWAL sets it once.
func dsn(abs string, mode openMode) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	return fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&%s", u.String(), busyTimeout, mode)
}

// walAttempts bounds how often useWAL asks for WAL mode; each failed
// attempt means another opener has just switched the file or written it.
const walAttempts = 10

// useWAL puts the file in WAL mode. Switching upgrades a read lock to a
// write lock, which SQLite does not wait for in the busy handler (two
// readers upgrading would wait for each other forever): an opener that
// meets another one switching a new file fails with SQLITE_BUSY at once.
// It waits for the other with BEGIN IMMEDIATE, which does wait, and asks
// again; by then the file is in WAL mode and asking writes nothing.
func useWAL(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for i := 1; ; i++ {
		_, err := conn.ExecContext(ctx, "PRAGMA journal_mode=WAL")
		var serr *modernc.Error
		if err == nil || i == walAttempts || !errors.As(err, &serr) || serr.Code()&0xff != sqlite3.SQLITE_BUSY {
			return err
		}
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE; ROLLBACK"); err != nil {
			return err
		}
	}
}

//go:embed migrations/*.sql
var migrations embed.FS

// versionTable is goose's bookkeeping table.
const versionTable = "goose_db_version"

// dialect is SQLite's: ? placeholders, prepared reads, BEGIN IMMEDIATE for
// the write lock (the DSN's _txlock), a read-only (deferred) BEGIN for
// Verify's snapshot, duplicates by extended result code, a list of strings
// as a JSON array in text (and json_each to look one up).
var dialect = sqlstore.Dialect{
	Goose:        goose.DialectSQLite3,
	VersionTable: versionTable,
	Migrations:   migrations,
	Prepare:      true,
	Begin:        "BEGIN IMMEDIATE",
	Snapshot:     sql.TxOptions{ReadOnly: true},
	Unique: func(err error) bool {
		var se *modernc.Error
		if !errors.As(err, &se) {
			return false
		}
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
	Strings:      sqlstore.JSONStrings,
	ParseStrings: sqlstore.ParseJSONStrings,
	Lookup: func(table, col string) string {
		return "SELECT '" + table + "', " + col + " FROM " + table + " WHERE " + col + " IN (SELECT value FROM json_each(?))"
	},
}
