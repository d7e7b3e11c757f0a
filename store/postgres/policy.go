package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/localizevideos/shipgate/store"
)

// Policy returns the policy set recorded under revision, modules and data
// included; one the ledger does not hold is an error wrapping
// store.ErrNotFound (decisions recorded before policy sets were kept have
// none).
func (db *DB) Policy(ctx context.Context, revision string) (store.Policy, error) {
	var seq int64
	var body []byte
	err := db.pool.QueryRow(ctx, "SELECT p.seq, en.body FROM policies p JOIN entries en ON en.seq = p.seq WHERE p.revision = $1",
		revision).Scan(&seq, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Policy{}, fmt.Errorf("policy %s: %w", revision, store.ErrNotFound)
	}
	if err != nil {
		return store.Policy{}, fmt.Errorf("policy %s: %w", revision, err)
	}
	return store.PolicyRecord(seq, body)
}
