// Package sqlstore is the store over database/sql that the SQLite and
// PostgreSQL stores share: the ledger, entries(seq, type, key, hash, body),
// where body is the entry's canonical JSON exactly as ledger.Entry.Body
// returned it, and the query tables projected from it (evidence, policies,
// decisions, violations) and the token table, with times as
// store.FormatTime text. Both databases run the same queries and write the
// same bytes; what differs between them is a Dialect: placeholders, how a
// writer takes the ledger's write lock, how a duplicate key is reported,
// how a list of rules is kept, and goose's dialect.
//
// Writes go through one committer per handle (see group.go): concurrent
// decisions and evidence share one transaction and one commit, and each
// caller is answered only once its transaction committed. A write that
// returned nil survives a crash; a write that returned an error left
// nothing behind.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"

	"github.com/pressly/goose/v3"

	"github.com/localizevideos/shipgate/store"
)

// Dialect is what one database does its own way.
type Dialect struct {
	// Goose is goose's dialect, and VersionTable the table goose keeps
	// the applied migrations in.
	Goose        goose.Dialect
	VersionTable string
	// Migrations holds the migration files, migrations/NNNNN_name.sql.
	Migrations fs.FS
	// Dollar says the database takes $1, $2, … where this package writes
	// ? and ?N.
	Dollar bool
	// Prepare says to keep the reads' statements prepared, for a driver
	// that would compile each one again (PostgreSQL's pgx caches them
	// itself, on connections database/sql does not keep).
	Prepare bool
	// FoldReads says to read a decision's open violations in the query
	// that reads its evidence (ReleaseReads): a round trip less where each
	// query is one (PostgreSQL). In process (SQLite), the wider query cost
	// more than the two it replaces.
	FoldReads bool
	// Begin starts the transaction a migration runs in; Lock, when set,
	// then takes the ledger's write lock, in it and in every write
	// transaction. Where Lock is empty, beginning a write transaction
	// takes the lock (SQLite's BEGIN IMMEDIATE).
	Begin, Lock string
	// Snapshot is how Verify begins its read transaction: one consistent
	// snapshot that writers do not wait for.
	Snapshot sql.TxOptions
	// Unique reports whether err is the database refusing a duplicate key,
	// by its error code.
	Unique func(err error) bool
	// Strings is the value a list of strings (a violation's rules) is
	// written as; ParseStrings reads one back from the value the driver
	// scans.
	Strings      func([]string) (any, error)
	ParseStrings func(src any) ([]string, error)
	// Lookup selects the name table and col of the rows of table whose col
	// (a unique column) is one of a list of strings, given as one parameter
	// (the value Strings makes of the list): each key looked up in col's
	// index, however few rows the planner thinks table has.
	Lookup func(table, col string) string
}

// DB is a ledger in a SQL database. It is safe for concurrent use, and
// any number of DBs, in one process or several, may share the database.
type DB struct {
	sql *sql.DB
	d   *Dialect
	// name names the database in messages: a path, or host:port/database,
	// never a password.
	name string
	// rebound caches the queries rewritten for $n placeholders, stmts the
	// statements prepared (Dialect.Prepare).
	rebound, stmts sync.Map
	// group is the committer every write goes through.
	group *group
	// heads spares each write a parse of the head it read or wrote last.
	heads store.HeadCache
	// docs spares the evidence reads the documents read before.
	docs docCache
}

// New returns the store over sdb, whose schema is already up to date (see
// Migrate and CheckSchema), named name in messages. Close closes sdb.
func New(sdb *sql.DB, d *Dialect, name string) *DB {
	db := &DB{sql: sdb, d: d, name: name}
	db.group = newGroup(db)
	return db
}

// Close stops the committer, once every write it took is answered, and
// closes the database handle.
func (db *DB) Close() error {
	db.group.stop()
	db.stmts.Range(func(_, s any) bool {
		s.(*sql.Stmt).Close()
		return true
	})
	return db.sql.Close()
}

// q returns query with the dialect's placeholders. This package writes ?
// for the next parameter and ?N for the Nth, as SQLite reads them.
func (db *DB) q(query string) string {
	if !db.d.Dollar || !strings.Contains(query, "?") {
		return query
	}
	if s, ok := db.rebound.Load(query); ok {
		return s.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		j := i + 1
		for j < len(query) && query[j] >= '0' && query[j] <= '9' {
			j++
		}
		if j > i+1 {
			k, _ := strconv.Atoi(query[i+1 : j])
			n = max(n, k)
			b.WriteString("$" + query[i+1:j])
		} else {
			n++
			b.WriteString("$" + strconv.Itoa(n))
		}
		i = j - 1
	}
	s := b.String()
	db.rebound.Store(query, s)
	return s
}

// Migrate brings the schema of sdb up to date with goose's Provider. The
// session lock goose takes is a transaction holding the write lock (d.Begin
// and d.Lock), and WithIsolateDDL makes goose run every statement on that
// connection without transactions of its own: applying a migration, and
// creating the version table before the first, is one transaction, which
// concurrent first opens wait for and which an error or a crash leaves
// undone.
//
// Migrations are applied one by one with ApplyVersion, which checks inside
// the lock whether the version is applied: Up first asks HasPending, which
// creates the version table outside the lock and races with other opens.
func Migrate(ctx context.Context, sdb *sql.DB, d *Dialect) error {
	fsys, err := fs.Sub(d.Migrations, "migrations")
	if err != nil {
		return err
	}
	l := &txLocker{d: d}
	p, err := goose.NewProvider(d.Goose, sdb, fsys, goose.WithTableName(d.VersionTable),
		goose.WithSessionLocker(l), goose.WithIsolateDDL(true), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	var target int64
	for _, s := range p.ListSources() {
		l.version, target = s.Version, s.Version
		if _, err := p.ApplyVersion(ctx, s.Version, true); err != nil && !errors.Is(err, goose.ErrAlreadyApplied) {
			return err
		}
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return err
	}
	if v != target {
		return fmt.Errorf("schema version %d; this shipgate knows version %d", v, target)
	}
	return nil
}

// CheckSchema makes sure a database opened read-only has the schema this
// package writes, without writing anything.
func CheckSchema(ctx context.Context, sdb *sql.DB, d *Dialect) error {
	names, err := fs.Glob(d.Migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	var target int64
	for _, n := range names {
		n = strings.TrimPrefix(n, "migrations/")
		if v, err := strconv.ParseInt(n[:strings.IndexByte(n+"_", '_')], 10, 64); err == nil {
			target = max(target, v)
		}
	}
	var v sql.NullInt64
	if err := sdb.QueryRowContext(ctx, "SELECT MAX(version_id) FROM "+d.VersionTable).Scan(&v); err != nil {
		return fmt.Errorf("not a shipgate ledger: %w", err)
	}
	if v.Int64 != target {
		return fmt.Errorf("schema version %d; this shipgate knows version %d", v.Int64, target)
	}
	return nil
}

// txLocker is a goose session locker holding the write lock in a
// transaction while one migration is applied. It commits only if that
// migration is recorded as applied, and rolls everything back otherwise.
type txLocker struct {
	d       *Dialect
	version int64
}

func (l *txLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, l.d.Begin); err != nil {
		return err
	}
	if l.d.Lock == "" {
		return nil
	}
	if _, err := conn.ExecContext(ctx, l.d.Lock); err != nil {
		_, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return errors.Join(err, rerr)
	}
	return nil
}

func (l *txLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	var n int
	err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+l.d.VersionTable+" WHERE version_id = "+
		strconv.FormatInt(l.version, 10)).Scan(&n)
	if err == nil && n > 0 {
		_, err = conn.ExecContext(ctx, "COMMIT")
		return err
	}
	_, rerr := conn.ExecContext(ctx, "ROLLBACK")
	return errors.Join(err, rerr)
}

// JSONStrings keeps a list of strings as a JSON array in text, for a
// database without arrays; ParseJSONStrings reads it back.
func JSONStrings(l []string) (any, error) {
	b, err := json.Marshal(l)
	return string(b), err
}

// ParseJSONStrings reads a list JSONStrings wrote, as text or bytes.
func ParseJSONStrings(src any) ([]string, error) {
	var l []string
	switch v := src.(type) {
	case string:
		return l, json.Unmarshal([]byte(v), &l)
	case []byte:
		return l, json.Unmarshal(v, &l)
	}
	return nil, fmt.Errorf("a list of strings stored as %T", src)
}
