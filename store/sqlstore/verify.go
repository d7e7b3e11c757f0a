package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
)

// Verify checks the whole ledger, in one read snapshot that writers do not
// wait for, and returns its head.
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
	opts := db.d.Snapshot
	tx, err := db.sql.BeginTx(ctx, &opts)
	if err != nil {
		return ledger.Head{}, fmt.Errorf("verify %s: %w", db.name, err)
	}
	defer tx.Rollback()
	head, err := verifyChain(ctx, tx, cp)
	if err != nil {
		return ledger.Head{}, err
	}
	rows, err := tx.QueryContext(ctx, store.ProjectEntriesSQL)
	if err != nil {
		return ledger.Head{}, fmt.Errorf("verify: %w", err)
	}
	p, err := store.ProjectRows(rows)
	rows.Close()
	if err != nil {
		return ledger.Head{}, err
	}
	if err := db.compareProjection(ctx, tx, p); err != nil {
		return ledger.Head{}, err
	}
	return head, nil
}

// verifyChain streams the rows through a ledger.Verifier. The bodies are
// not copied out of the driver: the Verifier keeps nothing of them, and a
// ledger of any size verifies in constant memory.
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

func (db *DB) compareProjection(ctx context.Context, tx *sql.Tx, p *store.Projection) error {
	if err := db.compareTable(ctx, tx, store.EvidenceTable, store.RowsOf(p.Evidence, evidenceRow)); err != nil {
		return err
	}
	if err := db.compareTable(ctx, tx, store.DecisionsTable, store.RowsOf(p.Decisions, decisionRow)); err != nil {
		return err
	}
	if err := db.compareTable(ctx, tx, store.PoliciesTable, store.RowsOf(p.Policies, policyRow)); err != nil {
		return err
	}
	want := map[string][]any{}
	for k, v := range p.Violations {
		want[k] = violationRow(v, p.Opened[k])
	}
	return db.compareTable(ctx, tx, store.ViolationsTable, want)
}

// compareTable compares the stored rows of t with want, keyed by t's first
// column, and reports the first difference in key order. Values are
// compared as the row functions give them: text as string, and booleans,
// which a database may keep as integers, as 0 or 1 on both sides (so a
// stored 2 differs from both); the rules column is parsed by the dialect
// into a []string.
func (db *DB) compareTable(ctx context.Context, tx *sql.Tx, t store.Table, want map[string][]any) error {
	rows, err := tx.QueryContext(ctx, t.SelectSQL())
	if err != nil {
		return fmt.Errorf("verify %s: %w", t.Name, err)
	}
	defer rows.Close()
	rules := slices.Index(t.Cols, "rules")
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
		if rules >= 0 {
			// A value that does not parse stays as stored: it differs
			// from every list.
			if list, err := db.d.ParseStrings(vals[rules]); err == nil {
				vals[rules] = nonNil(list)
			}
		}
		got[fmt.Sprint(plain(vals[0]))] = plainRow(vals)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("verify %s: %w", t.Name, err)
	}
	for k, row := range want {
		if rules >= 0 {
			row[rules] = nonNil(row[rules].([]string))
		}
		want[k] = plainRow(row)
	}
	return store.CompareRows(t.Name, t.Cols, got, want)
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

func plainRow(row []any) []any {
	for i, v := range row {
		row[i] = plain(v)
	}
	return row
}

// plain is v as compareTable compares it: bytes as a string, a boolean as
// 0 or 1.
func plain(v any) any {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case bool:
		if v {
			return int64(1)
		}
		return int64(0)
	}
	return v
}
