package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/localizevideos/shipgate/store"
)

// uniqueViolation is PostgreSQL's SQLSTATE for a duplicate key.
const uniqueViolation = "23505"

// CreateToken stores t, active. An id or hash the table holds already is an
// error wrapping store.ErrDuplicate.
func (db *DB) CreateToken(ctx context.Context, t store.Token) error {
	if err := t.CheckNew(); err != nil {
		return err
	}
	_, err := db.pool.Exec(ctx, "INSERT INTO tokens ("+store.TokenColumns+") VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)",
		t.ID, t.Name, t.Role, t.Hash, store.FormatTime(t.CreatedAt), t.CreatedBy)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == uniqueViolation {
			return fmt.Errorf("create token %s: %w", t.ID, store.ErrDuplicate)
		}
		return fmt.Errorf("create token %s: %w", t.ID, err)
	}
	return nil
}

// TokenByHash returns the token whose secret hashes to hash, active or
// revoked; none is an error wrapping store.ErrNotFound.
func (db *DB) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	t, err := store.ScanToken(db.pool.QueryRow(ctx, "SELECT "+store.TokenColumns+" FROM tokens WHERE hash = $1", hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Token{}, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	return t, err
}

// Tokens lists every token, revoked ones included, oldest first.
func (db *DB) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+store.TokenColumns+" FROM tokens ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := store.ScanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
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
	tag, err := db.pool.Exec(ctx, "UPDATE tokens SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL",
		store.FormatTime(at), by, id)
	if err != nil {
		return store.Token{}, fmt.Errorf("revoke token %s: %w", id, err)
	}
	t, err := store.ScanToken(db.pool.QueryRow(ctx, "SELECT "+store.TokenColumns+" FROM tokens WHERE id = $1", id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Token{}, fmt.Errorf("revoke token %s: %w", id, store.ErrNotFound)
	case err != nil:
		return store.Token{}, err
	case tag.RowsAffected() == 0:
		return t, fmt.Errorf("revoke token %s: %w", id, store.ErrRevoked)
	}
	return t, nil
}

// Ping runs a real query on the database: the server's readiness check.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.pool.QueryRow(ctx, "SELECT 1 FROM tokens LIMIT 1").Scan(&one); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("ledger %s: %w", db.name, err)
	}
	return nil
}
