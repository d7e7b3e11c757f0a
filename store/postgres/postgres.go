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
// The store itself is package sqlstore's, over database/sql on the pool:
// every write is one transaction that first takes a transaction-level
// advisory lock (pg_advisory_xact_lock), then reads the ledger's head,
// appends entries chained to it, updates the query tables and commits,
// which releases the lock; concurrent writes on one handle share it (group
// commit). Writers on any connection of any process or server wait for
// each other there, so the ledger stays one linear chain; each statement
// after the lock reads what the previous holder committed (READ
// COMMITTED). Readers never wait. A write that did not return nil left
// nothing behind. One ledger per database: the lock is per database.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/localizevideos/shipgate/store/sqlstore"
)

// DB is a ledger in a PostgreSQL database (the methods are sqlstore.DB's).
// It is safe for concurrent use, and any number of DBs, in any number of
// processes, may share the database.
type DB struct {
	*sqlstore.DB
	pool *pgxpool.Pool
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
	name := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", name, err)
	}
	// The pool connects lazily; connect now so a bad URL fails here.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open ledger %s: %w", name, err)
	}
	sdb := stdlib.OpenDBFromPool(pool)
	if err := sqlstore.Migrate(ctx, sdb, &dialect); err != nil {
		sdb.Close()
		pool.Close()
		return nil, fmt.Errorf("open ledger %s: migrate: %w", name, err)
	}
	return &DB{DB: sqlstore.New(sdb, &dialect, name), pool: pool}, nil
}

// Close closes the store, then the pool's connections.
func (db *DB) Close() error {
	err := db.DB.Close()
	db.pool.Close()
	return err
}

//go:embed migrations/*.sql
var migrations embed.FS

// versionTable is goose's bookkeeping table, named for shipgate: a database
// shared with an application may hold that application's goose_db_version.
const versionTable = "shipgate_db_version"

// dialect is PostgreSQL's: $n placeholders, the advisory lock ledgerLock
// for writes and migrations, duplicates by SQLSTATE, a list of strings as
// text[] (looked up key by key from unnest), and Verify in a REPEATABLE
// READ READ ONLY transaction.
var dialect = sqlstore.Dialect{
	Goose:        goose.DialectPostgres,
	VersionTable: versionTable,
	Migrations:   migrations,
	Dollar:       true,
	FoldReads:    true,
	Begin:        "BEGIN",
	Lock:         fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", ledgerLock),
	Snapshot:     sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
	Unique: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == uniqueViolation
	},
	// pgx writes a []string as text[]; database/sql reads text[] back as
	// its text form, which pgtype parses.
	Strings: func(l []string) (any, error) { return l, nil },
	ParseStrings: func(src any) ([]string, error) {
		var l []string
		err := pgtype.NewMap().SQLScanner(&l).Scan(src)
		return l, err
	},
	// A LATERAL subquery with a LIMIT is not flattened into a join: each
	// key is one probe of the index, where "col = ANY(…)" scans a table
	// the planner takes for small (a new ledger's, before ANALYZE).
	Lookup: func(table, col string) string {
		return "SELECT '" + table + "', t." + col + " FROM unnest(?::text[]) AS k(key) CROSS JOIN LATERAL (SELECT " +
			col + " FROM " + table + " WHERE " + col + " = k.key LIMIT 1) t"
	},
}

// uniqueViolation is PostgreSQL's SQLSTATE for a duplicate key.
const uniqueViolation = "23505"
