// Package sqlite is the embedded default store: the ledger and its query
// tables in one SQLite file (conventionally .shipgate/ledger.db in the
// working directory), through the pure-Go driver modernc.org/sqlite, so
// static builds stay possible and nothing needs setting up.
//
// The schema (migrations/, applied with goose) has the ledger, entries(seq,
// type, key, hash, body), where body is the entry's canonical JSON exactly
// as ledger.Entry.Body returned it, and the query tables projected from
// it: evidence, policies (one row per recorded policy set), decisions and
// violations. Times in the query tables are
// RFC 3339 UTC with nine fractional digits.
//
// The store itself is package sqlstore's, over this file: every write is
// one BEGIN IMMEDIATE transaction that reads the ledger's head, appends
// entries chained to it and updates the query tables, then commits with
// synchronous=FULL in WAL mode; concurrent writes on one handle share it
// (group commit). Writers in other processes wait for each other (busy
// timeout), so concurrent gates leave one linear chain; a write that
// returned nil survives a crash; a write that did not return nil left
// nothing behind. The query tables are filled from the entries as written,
// so Verify can rebuild them from the ledger and compare.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

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

// Open opens the ledger at path, creating the file and its tables when
// missing and migrating an older schema. The directory must exist (callers
// create .shipgate/). A file that cannot be written fails here, where
// migrating takes the write lock, or at the first write; a file that is not
// a SQLite database is refused, never overwritten.
func Open(ctx context.Context, path string) (*DB, error) {
	db, err := open(ctx, path, readWrite)
	if err != nil {
		return nil, err
	}
	if err := useWAL(ctx, db.sql); err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("open ledger %s: journal mode: %w", path, err)
	}
	if err := sqlstore.Migrate(ctx, db.sql, &dialect); err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("open ledger %s: migrate: %w", path, err)
	}
	return db, nil
}

// OpenReadOnly opens an existing ledger without ever writing to it: for
// verifying a copy, or a file this process may not change. Every write
// method returns an error.
//
// The ledger file is never written: a read-only connection neither
// checkpoints nor deletes the write-ahead log. Where the directory takes
// no new file (a read-only mount, an immutable directory, or no write
// permission) and holds no write-ahead log (ledger.db-wal), nobody can
// write the ledger while it is read, so it is opened immutable: no lock,
// no -wal or -shm file is created, and nothing in the directory changes.
// Where it holds a write-ahead log (a writer crashed, or one is open), the
// log holds committed entries that only a reader with a ledger.db-shm
// index can see: SQLite builds it there if it can (the ledger file stays
// untouched), and if it can create none, OpenReadOnly says so rather than
// verify an old state. In a writable directory SQLite reads through its
// locks, so a writer may run meanwhile, and may create the -wal and -shm
// files every WAL database has while in use.
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
	db, err := open(ctx, path, mode)
	if err != nil {
		if _, werr := os.Stat(path + "-wal"); werr == nil && !canCreateIn(filepath.Dir(path)) {
			return nil, fmt.Errorf("%w (the ledger has a write-ahead log, %s-wal, which SQLite reads only through a %s-shm index it cannot create in this directory: copy the ledger and its -wal to a writable directory and verify the copy)", err, path, path)
		}
		return nil, err
	}
	if err := sqlstore.CheckSchema(ctx, db.sql, &dialect); err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	return db, nil
}

// unchangeable reports whether nobody can write the WAL database at path
// while it is read, so it may be opened immutable: its directory takes no
// new file, and it has no -wal file (a writer needs one, and could not
// create it), or an empty one and no -shm (a writer needs both). A
// database in another journal mode is never taken for unchangeable.
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
		return isWAL(path)
	}
	return false, nil
}

// isWAL reports whether the database header says WAL mode (its read and
// write format versions are 2).
func isWAL(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var h [20]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return false, nil // too short for a header: not one to open immutable
	}
	return string(h[:len(sqliteHeader)]) == sqliteHeader && h[18] == 2 && h[19] == 2, nil
}

// Ways open opens a file.
type openMode int

const (
	readWrite openMode = iota
	readOnly
	readImmutable
)

func open(ctx context.Context, path string, mode openMode) (*DB, error) {
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
	if err := checkHeader(abs); err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	sdb, err := sql.Open("sqlite", dsn(abs, mode))
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	// sql.Open connects lazily; connect now so a bad path fails here.
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	return &DB{DB: sqlstore.New(sdb, &dialect, path), sql: sdb}, nil
}

// sqliteHeader opens every SQLite database file.
const sqliteHeader = "SQLite format 3\x00"

// checkHeader refuses a non-empty file that is not a SQLite database.
// SQLite itself reports most of them, but takes a file shorter than its
// header for an empty database and overwrites it.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	n, err := io.ReadFull(f, head)
	if n == 0 && errors.Is(err, io.EOF) {
		return nil // empty: SQLite makes a new database of it
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	if string(head[:n]) != sqliteHeader {
		return fmt.Errorf("%s is not a SQLite database", path)
	}
	return nil
}

// dsn is the URI of the file at the absolute path abs, with the settings
// every connection needs. The journal mode is not one of them: it is stored
// in the file, and useWAL sets it once.
func dsn(abs string, mode openMode) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	q := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busyTimeout)
	switch mode {
	case readOnly:
		// The file is in WAL mode already; asking for it again would write.
		return u.String() + "?mode=ro&" + q
	case readImmutable:
		// No lock and no -wal or -shm: see OpenReadOnly.
		return u.String() + "?mode=ro&immutable=1&" + q
	}
	return u.String() + "?" + q + "&_pragma=synchronous(FULL)&_txlock=immediate"
}

// walAttempts bounds how often useWAL asks for WAL mode; each failed
// attempt means another opener has just switched the file or written it.
const walAttempts = 10

// useWAL puts the file in WAL mode. Switching reads the file's header under
// a read lock and then upgrades it to a write lock, and SQLite does not wait
// in the busy handler for such an upgrade, since two connections that both
// hold the read lock would wait for each other forever: when several
// processes open a new file at once, an opener that meets another one
// switching fails with SQLITE_BUSY at once, whatever the busy timeout. It
// waits for the other with BEGIN IMMEDIATE, which takes the write lock
// holding no lock before and so does wait, and asks again; by then the file
// is in WAL mode and asking writes nothing.
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
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			return err
		}
	}
}

//go:embed migrations/*.sql
var migrations embed.FS

// versionTable is goose's bookkeeping table.
const versionTable = "goose_db_version"

// dialect is SQLite's: ? placeholders, BEGIN IMMEDIATE for the write lock
// (the DSN's _txlock), duplicates by extended result code, a list of
// strings as a JSON array in text.
var dialect = sqlstore.Dialect{
	Goose:        goose.DialectSQLite3,
	VersionTable: versionTable,
	Migrations:   migrationFiles(),
	Begin:        "BEGIN IMMEDIATE",
	// A read-only transaction is a plain (deferred) BEGIN: a snapshot
	// that writers do not wait for.
	Snapshot: sql.TxOptions{ReadOnly: true},
	Unique: func(err error) bool {
		var se *modernc.Error
		if !errors.As(err, &se) {
			return false
		}
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
	Strings: func(l []string) (any, error) {
		b, err := json.Marshal(l)
		return string(b), err
	},
	ParseStrings: func(src any) ([]string, error) {
		var l []string
		switch v := src.(type) {
		case string:
			return l, json.Unmarshal([]byte(v), &l)
		case []byte:
			return l, json.Unmarshal(v, &l)
		}
		return nil, fmt.Errorf("a list of strings stored as %T", src)
	},
}

// migrationFiles is the migrations folder, at the root.
func migrationFiles() fs.FS {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // a fixed, embedded path
	}
	return fsys
}
