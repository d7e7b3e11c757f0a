package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/localizevideos/shipgate/store"
)

// CreateToken stores t, active. An id or hash the table holds already is an
// error wrapping store.ErrDuplicate.
func (db *DB) CreateToken(ctx context.Context, t store.Token) error {
	if err := t.CheckNew(); err != nil {
		return err
	}
	_, err := db.sql.ExecContext(ctx, db.q("INSERT INTO tokens ("+store.TokenColumns+") VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)"),
		t.ID, t.Name, t.Role, t.Hash, store.FormatTime(t.CreatedAt), t.CreatedBy)
	if err != nil {
		if db.d.Unique(err) {
			return fmt.Errorf("create token %s: %w", t.ID, store.ErrDuplicate)
		}
		return fmt.Errorf("create token %s: %w", t.ID, err)
	}
	return nil
}

// TokenByHash returns the token whose secret hashes to hash, active or
// revoked; none is an error wrapping store.ErrNotFound.
func (db *DB) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	t, err := store.ScanToken(db.queryRow(ctx, "SELECT "+store.TokenColumns+" FROM tokens WHERE hash = ?", hash))
	return t, notFound(err, "token")
}

// Tokens lists every token, revoked ones included, oldest first.
func (db *DB) Tokens(ctx context.Context) ([]store.Token, error) {
	out, err := collect(ctx, db, store.ScanToken, "SELECT "+store.TokenColumns+" FROM tokens ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes the token id at the time at, by the principal by, and
// returns it as revoked. An unknown id wraps store.ErrNotFound, a revoked
// one store.ErrRevoked.
func (db *DB) RevokeToken(ctx context.Context, id, by string, at time.Time) (store.Token, error) {
	if by == "" || at.IsZero() {
		return store.Token{}, fmt.Errorf("revoke token %s: who and when are required", id)
	}
	res, err := db.sql.ExecContext(ctx, db.q("UPDATE tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL"),
		store.FormatTime(at), by, id)
	if err != nil {
		return store.Token{}, fmt.Errorf("revoke token %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return store.Token{}, fmt.Errorf("revoke token %s: %w", id, err)
	}
	t, err := store.ScanToken(db.queryRow(ctx, "SELECT "+store.TokenColumns+" FROM tokens WHERE id = ?", id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Token{}, fmt.Errorf("revoke token %s: %w", id, store.ErrNotFound)
	case err != nil:
		return store.Token{}, err
	case n == 0:
		return t, fmt.Errorf("revoke token %s: %w", id, store.ErrRevoked)
	}
	return t, nil
}

// Ping runs a real query on the database: the server's readiness check.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.queryRow(ctx, "SELECT 1 FROM tokens LIMIT 1").Scan(&one); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("ledger %s: %w", db.name, err)
	}
	return nil
}
