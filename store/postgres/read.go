package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
)

// Queries that return bodies join the entry that recorded the record: the
// body lives in the ledger only.
var (
	evidenceQuery = "SELECT " + evidenceTable.Prefixed("ev") + ", en.body FROM evidence ev JOIN entries en ON en.seq = ev.seq"
	decisionQuery = "SELECT " + decisionsTable.Prefixed("d") + ", en.body FROM decisions d JOIN entries en ON en.seq = d.seq"
)

// collect reads every row of rows with scan.
func collect[T any](rows pgx.Rows, err error, scan func(store.Scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.Collect(rows, scan)
}

// Evidence returns the evidence of the release releaseID ("" for all), in
// ledger order, bodies included.
func (db *DB) Evidence(ctx context.Context, releaseID string) ([]store.Evidence, error) {
	query, args := byRelease(evidenceQuery, "ev", releaseID)
	rows, err := db.pool.Query(ctx, query, args...)
	out, err := collect(rows, err, store.ScanEvidence)
	if err != nil {
		return nil, fmt.Errorf("evidence of %s: %w", releaseID, err)
	}
	return out, nil
}

// EvidenceByDigest returns one document; an unknown digest is an error
// wrapping store.ErrNotFound.
func (db *DB) EvidenceByDigest(ctx context.Context, digest string) (store.Evidence, error) {
	ev, err := store.ScanEvidence(db.pool.QueryRow(ctx, evidenceQuery+" WHERE ev.digest = $1", digest))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Evidence{}, fmt.Errorf("evidence %s: %w", digest, store.ErrNotFound)
	}
	return ev, err
}

// Decision returns one decision, body included; an unknown id is an error
// wrapping store.ErrNotFound.
func (db *DB) Decision(ctx context.Context, id string) (store.Decision, error) {
	d, err := scanDecision(db.pool.QueryRow(ctx, decisionQuery+" WHERE d.id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Decision{}, fmt.Errorf("decision %s: %w", id, store.ErrNotFound)
	}
	return d, err
}

// Decisions returns the decisions about the release releaseID ("" for
// all), in ledger order.
func (db *DB) Decisions(ctx context.Context, releaseID string) ([]store.Decision, error) {
	query, args := byRelease(decisionQuery, "d", releaseID)
	rows, err := db.pool.Query(ctx, query, args...)
	out, err := collect(rows, err, scanDecision)
	if err != nil {
		return nil, fmt.Errorf("decisions of %s: %w", releaseID, err)
	}
	return out, nil
}

// Violations returns the violations and obligations f selects, by due date
// then id.
func (db *DB) Violations(ctx context.Context, f store.Filter) ([]store.Violation, error) {
	rows, err := db.pool.Query(ctx, violationsTable.SelectSQL()+
		" WHERE ($1 = '' OR status = $1) AND ($2 = '' OR service = $2) AND ($3 = '' OR release_id = $3) ORDER BY due, id",
		f.Status, f.Service, f.ReleaseID)
	out, err := collect(rows, err, scanViolation)
	if err != nil {
		return nil, fmt.Errorf("violations: %w", err)
	}
	return out, nil
}

// Violation returns one violation; an unknown id is an error wrapping
// store.ErrNotFound.
func (db *DB) Violation(ctx context.Context, id string) (store.Violation, error) {
	v, err := scanViolation(db.pool.QueryRow(ctx, violationsTable.SelectSQL()+" WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Violation{}, fmt.Errorf("violation %s: %w", id, store.ErrNotFound)
	}
	return v, err
}

// Rows calls fn with every stored entry in ledger order, as stored, one at a
// time; an error from fn stops it and is returned. The rows are streamed
// from the server, not held.
func (db *DB) Rows(ctx context.Context, fn func(ledger.Row) error) error {
	rows, err := db.pool.Query(ctx, "SELECT seq, body FROM entries ORDER BY seq")
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
	err := db.pool.QueryRow(ctx, "SELECT body FROM entries WHERE seq = $1", seq).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.Entry{}, fmt.Errorf("entry %d: %w", seq, store.ErrNotFound)
	}
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("entry %d: %w", seq, err)
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
	if err := db.pool.QueryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM entries").Scan(&n); err != nil {
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
	}, scanDecision, "$1", now)
}

// each runs query and calls fn on every row.
func (db *DB) each(ctx context.Context, fn func(store.Scanner) error, query string, args ...any) error {
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return store.Each(rows, fn)
}

// byRelease completes query (whose table is aliased alias) to select the
// release releaseID, or every release for "", in ledger order, as a query
// whose WHERE can use the release index.
func byRelease(query, alias, releaseID string) (string, []any) {
	if releaseID == "" {
		return query + " ORDER BY " + alias + ".seq", nil
	}
	return query + " WHERE " + alias + ".release_id = $1 ORDER BY " + alias + ".seq", []any{releaseID}
}

// EvidenceOfKinds returns the release's documents of the given kinds, in
// ledger order, bodies included: what a list reads of the few documents
// it shows.
func (db *DB) EvidenceOfKinds(ctx context.Context, releaseID string, kinds ...string) ([]store.Evidence, error) {
	if len(kinds) == 0 {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, evidenceQuery+" WHERE ev.release_id = $1 AND ev.kind = ANY($2) ORDER BY ev.seq", releaseID, kinds)
	out, err := collect(rows, err, store.ScanEvidence)
	if err != nil {
		return nil, fmt.Errorf("evidence of %s: %w", releaseID, err)
	}
	return out, nil
}

// ServiceEvidence returns the documents of kind ("" every kind) about
// service ("" every service), across its releases, in ledger order, bodies
// included: what a sweep over every deploy reads.
func (db *DB) ServiceEvidence(ctx context.Context, service, kind string) ([]store.Evidence, error) {
	rows, err := db.pool.Query(ctx, evidenceQuery+" WHERE ($1 = '' OR ev.service = $1) AND ($2 = '' OR ev.kind = $2) ORDER BY ev.seq", service, kind)
	out, err := collect(rows, err, store.ScanEvidence)
	if err != nil {
		return nil, fmt.Errorf("%s evidence of service %s: %w", kind, service, err)
	}
	return out, nil
}

// ServiceDecisions returns the decisions of gate ("" every gate) about
// service ("" every service), across its releases, in ledger order,
// without their bodies (Body is nil): the query table only.
func (db *DB) ServiceDecisions(ctx context.Context, service, gate string) ([]store.Decision, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+decisionsTable.Prefixed("d")+", NULL FROM decisions d WHERE ($1 = '' OR d.service = $1) AND ($2 = '' OR d.gate = $2) ORDER BY d.seq",
		service, gate)
	out, err := collect(rows, err, scanDecision)
	if err != nil {
		return nil, fmt.Errorf("%s decisions of service %s: %w", gate, service, err)
	}
	return out, nil
}
