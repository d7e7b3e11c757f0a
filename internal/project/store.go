package project

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/postgres"
	"github.com/localizevideos/shipgate/store/sqlite"
)

var (
	_ store.Store = (*sqlite.DB)(nil)
	_ store.Store = (*postgres.DB)(nil)
)

// NoLedgerError is a ledger command run where there is no project: it
// creates nothing, so a typo in a folder never starts a record.
type NoLedgerError struct{ Path string }

func (e NoLedgerError) Error() string {
	return fmt.Sprintf("no ledger here (%s does not exist): run `shipgate init` or pass --store", e.Path)
}

// Existing refuses an SQLite ledger file that is not there: commands that
// only read never create one.
func Existing(p string) error {
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return NoLedgerError{p}
	}
	return nil
}

// IsPostgres reports whether a store location is a PostgreSQL URL.
func IsPostgres(p string) bool {
	return strings.HasPrefix(p, "postgres://") || strings.HasPrefix(p, "postgresql://")
}

// OpenStore opens the ledger at p for writing: a PostgreSQL URL
// (postgres://...), or an SQLite file (a path, or sqlite://PATH), created
// on first use; the default file's directory is created too.
func OpenStore(ctx context.Context, p string) (store.Store, error) {
	if IsPostgres(p) {
		db, err := postgres.Open(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return db, nil
	}
	p = strings.TrimPrefix(p, "sqlite://")
	if filepath.Clean(p) == filepath.Clean(DefaultStore) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("create store directory: %w", err)
		}
	}
	db, err := sqlite.Open(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", p, err)
	}
	return db, nil
}

// OpenStoreReadOnly opens an existing SQLite ledger at p for reading only.
// A PostgreSQL store (IsPostgres) is opened with OpenStore by the caller.
func OpenStoreReadOnly(ctx context.Context, p string) (store.Store, error) {
	p = strings.TrimPrefix(p, "sqlite://")
	if err := Existing(p); err != nil {
		return nil, err
	}
	db, err := sqlite.OpenReadOnly(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", p, err)
	}
	return db, nil
}
