package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
)

// Verify checks the whole ledger, in one read snapshot, and returns its head.
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
	// A read-only transaction is a plain (deferred) BEGIN: a snapshot that
	// writers do not wait for.
	tx, err := db.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return ledger.Head{}, fmt.Errorf("verify: %w", err)
	}
	defer tx.Rollback()

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

// verifyChain streams the rows through a ledger.Verifier. The bodies are
// not copied out of SQLite: the Verifier keeps nothing of them.
func verifyChain(ctx context.Context, tx *sql.Tx, cp *ledger.Checkpoint) (ledger.Head, error) {
	rows, err := tx.QueryContext(ctx, "SELECT seq, body FROM entries ORDER BY seq")
	if err != nil {
		return ledger.Head{}, fmt.Errorf("verify: %w", err)
	}
	defer rows.Close()
	v := ledger.NewVerifier(cp)
	for rows.Next() {
		var seq int64
		var body sql.RawBytes
		if err := rows.Scan(&seq, &body); err != nil {
			return ledger.Head{}, fmt.Errorf("verify: %w", err)
		}
		if err := v.Add(ledger.Row{Seq: seq, Body: body}); err != nil {
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
func project(ctx context.Context, tx *sql.Tx) (*store.Projection, error) {
	rows, err := tx.QueryContext(ctx, store.ProjectEntriesSQL)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer rows.Close()
	return store.ProjectRows(rows)
}

func compareProjection(ctx context.Context, tx *sql.Tx, p *store.Projection) error {
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
		row, err := violationRow(v, p.Opened[k])
		if err != nil {
			return err
		}
		want[k] = row
	}
	return compareTable(ctx, tx, violationsTable, want)
}

// compareTable compares the stored rows of t with want, keyed by t's first
// column, and reports the first difference in key order.
func compareTable(ctx context.Context, tx *sql.Tx, t table, want map[string][]any) error {
	rows, err := tx.QueryContext(ctx, t.SelectSQL())
	if err != nil {
		return fmt.Errorf("verify %s: %w", t.Name, err)
	}
	defer rows.Close()
	got := map[string][]any{}
	for rows.Next() {
		vals := make([]any, len(t.Cols))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("verify %s: %w", t.Name, err)
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		got[fmt.Sprint(vals[0])] = vals
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("verify %s: %w", t.Name, err)
	}
	return store.CompareRows(t.Name, t.Cols, got, want)
}
