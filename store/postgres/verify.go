package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
)

// Verify checks the whole ledger, in one read snapshot (a REPEATABLE READ
// READ ONLY transaction, which writers do not wait for), and returns its
// head.
//
// First the chain: every row goes through ledger.NewVerifier(cp), and the
// first break is returned as its *ledger.BreakError. Then each entry is
// decoded: an entry that does not parse, or does not follow from the ones
// before (an evidence document that does not hash to its key, the close of
// an unknown violation), is a *ledger.BreakError naming it; entries columns
// (type, key, hash) that disagree with the body are a *store.ProjectionError.
// Last the query tables are rebuilt in memory from the entries and compared
// with the stored ones: a row changed, added or removed is a
// *store.ProjectionError.
//
// The chain pass is the cheap one and runs alone first, so a broken chain is
// reported after reading only the rows up to the break.
func (db *DB) Verify(ctx context.Context, cp *ledger.Checkpoint) (ledger.Head, error) {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return ledger.Head{}, fmt.Errorf("verify %s: %w", db.name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	head, err := verifyChain(ctx, tx, cp)
	if err != nil {
		return ledger.Head{}, err
	}
	p, err := project(ctx, tx)
	if err != nil {
		return ledger.Head{}, err
	}
	if err := compareProjection(ctx, tx, p); err != nil {
		return ledger.Head{}, err
	}
	return head, nil
}

// verifyChain streams the rows through a ledger.Verifier, which keeps
// nothing of them: a ledger of any size verifies in constant memory.
func verifyChain(ctx context.Context, tx pgx.Tx, cp *ledger.Checkpoint) (ledger.Head, error) {
	rows, err := tx.Query(ctx, "SELECT seq, body FROM entries ORDER BY seq")
	if err != nil {
		return ledger.Head{}, fmt.Errorf("verify: %w", err)
	}
	defer rows.Close()
	v := ledger.NewVerifier(cp)
	for rows.Next() {
		var r ledger.Row
		if err := rows.Scan(&r.Seq, &r.Body); err != nil {
			return ledger.Head{}, fmt.Errorf("verify: %w", err)
		}
		if err := v.Add(r); err != nil {
			return ledger.Head{}, err
		}
	}
	if err := rows.Err(); err != nil {
		return ledger.Head{}, fmt.Errorf("verify: %w", err)
	}
	return v.Finish()
}

// project rebuilds the query tables from the entries, checking each entry's
// columns against its body on the way.
func project(ctx context.Context, tx pgx.Tx) (*store.Projection, error) {
	rows, err := tx.Query(ctx, store.ProjectEntriesSQL)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer rows.Close()
	return store.ProjectRows(rows)
}

func compareProjection(ctx context.Context, tx pgx.Tx, p *store.Projection) error {
	if err := compareTable(ctx, tx, evidenceTable, store.RowsOf(p.Evidence, evidenceRow)); err != nil {
		return err
	}
	if err := compareTable(ctx, tx, decisionsTable, store.RowsOf(p.Decisions, decisionRow)); err != nil {
		return err
	}
	if err := compareTable(ctx, tx, policiesTable, store.RowsOf(p.Policies, policyRow)); err != nil {
		return err
	}
	want := map[string][]any{}
	for k, v := range p.Violations {
		want[k] = violationRow(v, p.Opened[k])
	}
	return compareTable(ctx, tx, violationsTable, want)
}

// compareTable compares the stored rows of t with want, keyed by t's first
// column, and reports the first difference in key order.
func compareTable(ctx context.Context, tx pgx.Tx, t table, want map[string][]any) error {
	rows, err := tx.Query(ctx, t.SelectSQL())
	if err != nil {
		return fmt.Errorf("verify %s: %w", t.Name, err)
	}
	defer rows.Close()
	got := map[string][]any{}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return fmt.Errorf("verify %s: %w", t.Name, err)
		}
		for i, v := range vals {
			vals[i] = textArray(v)
		}
		got[fmt.Sprint(vals[0])] = vals
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("verify %s: %w", t.Name, err)
	}
	return store.CompareRows(t.Name, t.Cols, got, want)
}

// textArray turns a text[] as pgx reads it generically ([]any of strings)
// into the []string the row functions give; anything else is returned as is.
func textArray(v any) any {
	a, ok := v.([]any)
	if !ok {
		return v
	}
	out := make([]string, len(a))
	for i, e := range a {
		s, ok := e.(string)
		if !ok {
			return v // a NULL element: it differs from any row the ledger gives
		}
		out[i] = s
	}
	return out
}
