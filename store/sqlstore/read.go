package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
)

// Queries that return bodies join the entry that recorded the record: the
// body lives in the ledger only.
var (
	evidenceQuery = "SELECT " + store.EvidenceTable.Prefixed("ev") + ", en.body FROM evidence ev JOIN entries en ON en.seq = ev.seq"
	decisionQuery = "SELECT " + store.DecisionsTable.Prefixed("d") + ", en.body FROM decisions d JOIN entries en ON en.seq = d.seq"
)

// queryRow runs query, which returns at most one row.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := db.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.sql.QueryRowContext(ctx, db.q(query), args...)
}

// query runs query.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := db.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.sql.QueryContext(ctx, db.q(query), args...)
}

// prepared returns query prepared once, where the dialect keeps prepared
// statements; nil elsewhere, or when preparing fails (running the query
// then says why).
func (db *DB) prepared(ctx context.Context, query string) *sql.Stmt {
	if !db.d.Prepare {
		return nil
	}
	if st, ok := db.stmts.Load(query); ok {
		return st.(*sql.Stmt)
	}
	st, err := db.sql.PrepareContext(ctx, db.q(query))
	if err != nil {
		return nil
	}
	if old, loaded := db.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return old.(*sql.Stmt)
	}
	return st
}

// each runs query and calls fn on every row.
func (db *DB) each(ctx context.Context, fn func(store.Scanner) error, query string, args ...any) error {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return store.Each(rows, fn)
}

// collect runs query and reads every row with scan.
func collect[T any](ctx context.Context, db *DB, scan func(store.Scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.Collect(rows, scan)
}

// notFound turns sql.ErrNoRows into an error wrapping store.ErrNotFound
// about what.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}

// Evidence returns the evidence of the release releaseID ("" for all), in
// ledger order, bodies included.
func (db *DB) Evidence(ctx context.Context, releaseID string) ([]store.Evidence, error) {
	var out []store.Evidence
	var err error
	if releaseID == "" {
		query, args := byRelease(evidenceQuery, "ev", releaseID)
		out, err = collect(ctx, db, store.ScanEvidence, query, args...)
	} else {
		// What a decision reads: its documents mostly from the cache.
		out, err = db.cachedEvidence(ctx, " WHERE ev.release_id = ? ORDER BY ev.seq", releaseID)
	}
	if err != nil {
		return nil, fmt.Errorf("evidence of %s: %w", releaseID, err)
	}
	return out, nil
}

// EvidenceByDigest returns one document; an unknown digest is an error
// wrapping store.ErrNotFound.
func (db *DB) EvidenceByDigest(ctx context.Context, digest string) (store.Evidence, error) {
	ev, err := store.ScanEvidence(db.queryRow(ctx, evidenceQuery+" WHERE ev.digest = ?", digest))
	return ev, notFound(err, "evidence "+digest)
}

// Decision returns one decision, body included; an unknown id is an error
// wrapping store.ErrNotFound.
func (db *DB) Decision(ctx context.Context, id string) (store.Decision, error) {
	d, err := scanDecision(db.queryRow(ctx, decisionQuery+" WHERE d.id = ?", id))
	return d, notFound(err, "decision "+id)
}

// Decisions returns the decisions about the release releaseID ("" for
// all), in ledger order.
func (db *DB) Decisions(ctx context.Context, releaseID string) ([]store.Decision, error) {
	query, args := byRelease(decisionQuery, "d", releaseID)
	out, err := collect(ctx, db, scanDecision, query, args...)
	if err != nil {
		return nil, fmt.Errorf("decisions of %s: %w", releaseID, err)
	}
	return out, nil
}

// Violations returns the violations and obligations f selects, by due date
// then id.
func (db *DB) Violations(ctx context.Context, f store.Filter) ([]store.Violation, error) {
	where, args := filters(filter{"status", f.Status}, filter{"service", f.Service}, filter{"release_id", f.ReleaseID})
	out, err := collect(ctx, db, db.scanViolation, store.ViolationsTable.SelectSQL()+where+" ORDER BY due, id", args...)
	if err != nil {
		return nil, fmt.Errorf("violations: %w", err)
	}
	return out, nil
}

// Violation returns one violation; an unknown id is an error wrapping
// store.ErrNotFound.
func (db *DB) Violation(ctx context.Context, id string) (store.Violation, error) {
	v, err := db.scanViolation(db.queryRow(ctx, store.ViolationsTable.SelectSQL()+" WHERE id = ?", id))
	return v, notFound(err, "violation "+id)
}

// Rows calls fn with every stored entry in ledger order, as stored, one at a
// time; an error from fn stops it and is returned. The rows are streamed,
// not held.
func (db *DB) Rows(ctx context.Context, fn func(ledger.Row) error) error {
	rows, err := db.sql.QueryContext(ctx, "SELECT seq, body FROM entries ORDER BY seq")
	if err != nil {
		return fmt.Errorf("read the ledger: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r ledger.Row
		if err := rows.Scan(&r.Seq, &r.Body); err != nil {
			return fmt.Errorf("read the ledger: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the ledger: %w", err)
	}
	return nil
}

// Entry returns the entry stored at seq; a missing one is an error wrapping
// store.ErrNotFound.
func (db *DB) Entry(ctx context.Context, seq int64) (ledger.Entry, error) {
	var body []byte
	err := db.queryRow(ctx, "SELECT body FROM entries WHERE seq = ?", seq).Scan(&body)
	if err != nil {
		return ledger.Entry{}, notFound(fmt.Errorf("entry %d: %w", seq, err), fmt.Sprintf("entry %d", seq))
	}
	e, err := ledger.Parse(body)
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("entry %d: %w", seq, err)
	}
	return e, nil
}

// Len returns the number of entries: the last sequence number, since
// entries are numbered from 1 without gaps (Verify checks that).
func (db *DB) Len(ctx context.Context) (int64, error) {
	var n int64
	if err := db.queryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM entries").Scan(&n); err != nil {
		return 0, fmt.Errorf("ledger length: %w", err)
	}
	return n, nil
}

// Releases summarizes every release the ledger knows, the most recent
// ledger entry first, with overdue counted at now. It reads the query
// tables only: no document or decision body.
func (db *DB) Releases(ctx context.Context, now time.Time) ([]store.ReleaseSummary, error) {
	return store.Summarize(func(fn func(store.Scanner) error, query string, args ...any) error {
		return db.each(ctx, fn, query, args...)
	}, scanDecision, "?", now)
}

// byRelease completes query (whose table is aliased alias) to select the
// release releaseID, or every release for "", in ledger order, as a query
// whose WHERE can use the release index.
func byRelease(query, alias, releaseID string) (string, []any) {
	if releaseID == "" {
		return query + " ORDER BY " + alias + ".seq", nil
	}
	return query + " WHERE " + alias + ".release_id = ? ORDER BY " + alias + ".seq", []any{releaseID}
}

// in is a list of n placeholders, for IN (…).
func in(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// EvidenceOfKinds returns the release's documents of the given kinds, in
// ledger order, bodies included: what a list reads of the few documents
// it shows.
func (db *DB) EvidenceOfKinds(ctx context.Context, releaseID string, kinds ...string) ([]store.Evidence, error) {
	if len(kinds) == 0 {
		return nil, nil
	}
	args := []any{releaseID}
	for _, k := range kinds {
		args = append(args, k)
	}
	out, err := collect(ctx, db, store.ScanEvidence,
		evidenceQuery+" WHERE ev.release_id = ? AND ev.kind IN ("+in(len(kinds))+") ORDER BY ev.seq", args...)
	if err != nil {
		return nil, fmt.Errorf("evidence of %s: %w", releaseID, err)
	}
	return out, nil
}

// ServiceEvidence returns the documents of kind ("" every kind) about
// service ("" every service), across its releases, in ledger order, bodies
// included: what a sweep over every deploy reads.
func (db *DB) ServiceEvidence(ctx context.Context, service, kind string) ([]store.Evidence, error) {
	where, args := filters(filter{"ev.service", service}, filter{"ev.kind", kind})
	out, err := db.cachedEvidence(ctx, where+" ORDER BY ev.seq", args...)
	if err != nil {
		return nil, fmt.Errorf("%s evidence of service %s: %w", kind, service, err)
	}
	return out, nil
}

// ServiceDecisions returns the decisions of gate ("" every gate) about
// service ("" every service), across its releases, in ledger order,
// without their bodies (Body is nil): the query table only.
func (db *DB) ServiceDecisions(ctx context.Context, service, gate string) ([]store.Decision, error) {
	where, args := filters(filter{"d.service", service}, filter{"d.gate", gate})
	out, err := collect(ctx, db, scanDecision, "SELECT "+store.DecisionsTable.Prefixed("d")+
		", NULL FROM decisions d"+where+" ORDER BY d.seq", args...)
	if err != nil {
		return nil, fmt.Errorf("%s decisions of service %s: %w", gate, service, err)
	}
	return out, nil
}

// Policy returns the policy set recorded under revision, modules and data
// included; one the ledger does not hold is an error wrapping
// store.ErrNotFound (decisions recorded before policy sets were kept have
// none).
func (db *DB) Policy(ctx context.Context, revision string) (store.Policy, error) {
	var seq int64
	var body []byte
	err := db.queryRow(ctx, "SELECT p.seq, en.body FROM policies p JOIN entries en ON en.seq = p.seq WHERE p.revision = ?",
		revision).Scan(&seq, &body)
	if err != nil {
		return store.Policy{}, notFound(fmt.Errorf("policy %s: %w", revision, err), "policy "+revision)
	}
	return store.PolicyRecord(seq, body)
}

// HoldsPolicy reports whether the ledger records the policy set of
// revision. It reads the policies table only, not the entry: a gate asks
// it before building the entry that would record the set, which
// RecordDecision would skip anyway (a revision is recorded once, and never
// removed).
func (db *DB) HoldsPolicy(ctx context.Context, revision string) (bool, error) {
	var one int
	err := db.queryRow(ctx, "SELECT 1 FROM policies WHERE revision = ?", revision).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("policy %s: %w", revision, err)
	}
	return true, nil
}

// filter is a column and the value a query asks it to equal; "" asks
// nothing of it.
type filter struct{ col, value string }

// filters is the WHERE clause of the filters given a value, and its
// arguments. Only those are in the query (one of a few texts, each prepared
// once): a condition that lets an empty value match every row keeps the
// database from using its index on the column, and every decision asks for
// its service's open violations and Deploys.
func filters(fs ...filter) (string, []any) {
	var where string
	var args []any
	for _, f := range fs {
		if f.value == "" {
			continue
		}
		if args == nil {
			where += " WHERE "
		} else {
			where += " AND "
		}
		where += f.col + " = ?"
		args = append(args, f.value)
	}
	return where, args
}
