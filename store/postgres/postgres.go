// Package postgres is the store for several shipgate servers sharing one
// ledger: the ledger and its query tables in a PostgreSQL database, through
// a pgx connection pool.
//
// The schema (migrations/, applied with goose) is the SQLite store's: the
// ledger, entries(seq, type, key, hash, body), where body is the entry's
// canonical JSON exactly as ledger.Entry.Body returned it (bytea), and the
// query tables evidence, decisions and violations projected from it, with
// times as store.FormatTime text. Both stores build their entries with the
// same code (package store), so they write the same bytes.
//
// Every write is one transaction that first takes a transaction-level
// advisory lock (pg_advisory_xact_lock), then reads the ledger's head,
// appends entries chained to it, updates the query tables and commits,
// which releases the lock. Writers on any connection of any process or
// server wait for each other there, so the ledger stays one linear chain;
// each statement after the lock reads what the previous holder committed
// (READ COMMITTED). Readers never wait. A write that did not return nil
// left nothing behind. One ledger per database: the lock is per database.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/localizevideos/shipgate/store"
)

// DB is a ledger in a PostgreSQL database. It is safe for concurrent use,
// and any number of DBs, in any number of processes, may share the database.
type DB struct {
	pool *pgxpool.Pool
	// name is host:port/database, for messages: never the password.
	name string
	// heads spares each write a parse of the head it read or wrote last.
	heads store.HeadCache
}

// ledgerLock is the advisory lock key every write, and every migration,
// holds for its transaction: "shipgate" in ASCII.
const ledgerLock int64 = 0x7368697067617465

// Open connects to the database at url (a PostgreSQL URL or key=value
// string, as pgx takes it: pool_max_conns and the like included), creating
// the tables when missing and migrating an older schema. The database must
// exist.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx leaves the password out of its parse errors.
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	db := &DB{name: fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)}
	db.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", db.name, err)
	}
	// The pool connects lazily; connect now so a bad URL fails here.
	if err := db.pool.Ping(ctx); err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("open ledger %s: %w", db.name, err)
	}
	if err := migrate(ctx, db.pool); err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("open ledger %s: migrate: %w", db.name, err)
	}
	return db, nil
}

// Close closes the pool's connections.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

//go:embed migrations/*.sql
var migrations embed.FS

// versionTable is goose's bookkeeping table, named for shipgate: a database
// shared with an application may hold that application's goose_db_version.
const versionTable = "shipgate_db_version"

// migrate brings the schema up to date with goose's Provider, on a
// database/sql handle over the pool. The session lock goose takes is a
// transaction holding ledgerLock, and WithIsolateDDL makes goose run every
// statement on that connection without transactions of its own: applying a
// migration, and creating the version table before the first, is one
// transaction (PostgreSQL's DDL is transactional), which concurrent first
// opens wait for and which an error or a crash leaves undone.
//
// Migrations are applied one by one with ApplyVersion, which checks inside
// the lock whether the version is applied: Up first asks HasPending, which
// creates the version table outside the lock and races with other opens.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	sdb := stdlib.OpenDBFromPool(pool)
	defer sdb.Close()
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	l := &txLocker{}
	p, err := goose.NewProvider(goose.DialectPostgres, sdb, fsys, goose.WithTableName(versionTable),
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

// txLocker is a goose session locker holding ledgerLock in a transaction
// while one migration is applied. It commits only if that migration is
// recorded as applied, and rolls everything back otherwise.
type txLocker struct{ version int64 }

func (l *txLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", ledgerLock); err != nil {
		_, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return errors.Join(err, rerr)
	}
	return nil
}

func (l *txLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	var n int
	err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+versionTable+" WHERE version_id = $1", l.version).Scan(&n)
	if err == nil && n > 0 {
		_, err = conn.ExecContext(ctx, "COMMIT")
		return err
	}
	_, rerr := conn.ExecContext(ctx, "ROLLBACK")
	return errors.Join(err, rerr)
}
