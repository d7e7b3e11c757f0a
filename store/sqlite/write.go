package sqlite

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

// tx is one write transaction and the ledger head as it stands inside it.
type tx struct {
	*sql.Tx
	now  time.Time
	head *ledger.Entry
	// heads is the handle's cache; headBody the body of head once this
	// transaction appended it.
	heads    *store.HeadCache
	headBody []byte
}

// write runs fn in one BEGIN IMMEDIATE transaction (the DSN's _txlock), with
// now as the time of every entry fn appends, and commits unless fn fails.
func (db *DB) write(ctx context.Context, now time.Time, fn func(*tx) error) error {
	if now.IsZero() {
		return errors.New("no time for the ledger entries")
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	stx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger %s: begin: %w", db.path, err)
	}
	t := &tx{Tx: stx, now: now, heads: &db.heads}
	if err := t.loadHead(ctx); err != nil {
		stx.Rollback()
		return err
	}
	if err := fn(t); err != nil {
		stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("ledger %s: commit: %w", db.path, err)
	}
	if t.headBody != nil {
		db.heads.Set(t.head.Seq, *t.head, t.headBody)
	}
	return nil
}

// loadHead reads the last entry. A head that does not parse stops every
// write: appending after it would chain to something unverifiable.
func (t *tx) loadHead(ctx context.Context) error {
	var seq int64
	var body []byte
	err := t.QueryRowContext(ctx, "SELECT seq, body FROM entries ORDER BY seq DESC LIMIT 1").Scan(&seq, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the ledger head: %w", err)
	}
	e, err := t.heads.Parse(seq, body)
	if err != nil {
		return fmt.Errorf("read the ledger head, entry %d: %w", seq, err)
	}
	if e.Seq != seq {
		return fmt.Errorf("read the ledger head: entry stored at %d says it is %d", seq, e.Seq)
	}
	t.head = &e
	return nil
}

// append chains tmpl to the head and inserts it. It returns the entry as
// read back from its body, which is what the query tables are filled from.
func (t *tx) append(ctx context.Context, tmpl ledger.Entry) (ledger.Entry, error) {
	tmpl.Time = t.now
	e, err := ledger.Next(t.head, tmpl)
	if err != nil {
		return ledger.Entry{}, err
	}
	body, err := e.Body()
	if err != nil {
		return ledger.Entry{}, err
	}
	back, err := ledger.Parse(body)
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("entry %d does not read back: %w", e.Seq, err)
	}
	if _, err := t.ExecContext(ctx, "INSERT INTO entries (seq, type, key, hash, body) VALUES (?, ?, ?, ?, ?)",
		back.Seq, back.Type, back.Key, back.Hash, body); err != nil {
		return ledger.Entry{}, fmt.Errorf("append entry %d: %w", back.Seq, err)
	}
	t.head, t.headBody = &back, body
	return back, nil
}

func (t *tx) exists(ctx context.Context, query string, key string) (bool, error) {
	var one int
	err := t.QueryRowContext(ctx, query, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// addEvidence appends ev unless its digest is stored already; added says
// which. It returns the record as stored.
func (t *tx) addEvidence(ctx context.Context, ev store.Evidence) (rec store.Evidence, added bool, err error) {
	tmpl, err := store.EvidenceEntry(ev)
	if err != nil {
		return store.Evidence{}, false, err
	}
	rec, added, err = t.appendEvidence(ctx, tmpl)
	if err == nil && !added {
		rec, err = t.evidence(ctx, tmpl.Key)
	}
	return rec, added, err
}

// appendEvidence appends the evidence entry tmpl unless its digest is
// stored already; added says which, and only then is rec set.
func (t *tx) appendEvidence(ctx context.Context, tmpl ledger.Entry) (rec store.Evidence, added bool, err error) {
	if ok, err := t.exists(ctx, "SELECT 1 FROM evidence WHERE digest = ?", tmpl.Key); err != nil || ok {
		return store.Evidence{}, false, err
	}
	e, err := t.append(ctx, tmpl)
	if err != nil {
		return store.Evidence{}, false, fmt.Errorf("evidence %s: %w", tmpl.Key, err)
	}
	if rec, err = store.EvidenceOf(e); err != nil {
		return store.Evidence{}, false, err
	}
	if _, err := t.ExecContext(ctx, evidenceTable.insertSQL(), evidenceRow(rec)...); err != nil {
		return store.Evidence{}, false, fmt.Errorf("evidence %s: %w", rec.Digest, err)
	}
	return rec, true, nil
}

// appendPolicy appends the policy entry tmpl unless its revision is
// recorded already.
func (t *tx) appendPolicy(ctx context.Context, tmpl ledger.Entry) error {
	if ok, err := t.exists(ctx, "SELECT 1 FROM policies WHERE revision = ?", tmpl.Key); err != nil || ok {
		return err
	}
	e, err := t.append(ctx, tmpl)
	if err != nil {
		return fmt.Errorf("policy %s: %w", tmpl.Key, err)
	}
	rec, err := store.PolicyOf(e)
	if err != nil {
		return err
	}
	if _, err := t.ExecContext(ctx, policiesTable.insertSQL(), policyRow(rec)...); err != nil {
		return fmt.Errorf("policy %s: %w", rec.Revision, err)
	}
	return nil
}

func (t *tx) evidence(ctx context.Context, digest string) (store.Evidence, error) {
	ev, err := store.ScanEvidence(t.QueryRowContext(ctx, evidenceQuery+" WHERE ev.digest = ?", digest))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Evidence{}, fmt.Errorf("evidence %s: %w", digest, store.ErrNotFound)
	}
	return ev, err
}

func (t *tx) violation(ctx context.Context, id string) (store.Violation, error) {
	v, _, err := scanViolation(t.QueryRowContext(ctx, violationsTable.SelectSQL()+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Violation{}, fmt.Errorf("violation %s: %w", id, store.ErrNotFound)
	}
	return v, err
}

// AddEvidence appends, in one transaction, an evidence entry for each
// document whose digest is not stored yet, at the time now. It returns the
// documents it added, as stored (Seq, AddedAt, and the fields read from the
// document filled in). A document whose given fields disagree with its
// envelope is an error, and nothing is added.
func (db *DB) AddEvidence(ctx context.Context, now time.Time, docs []store.Evidence) ([]store.Evidence, error) {
	var added []store.Evidence
	err := db.write(ctx, now, func(t *tx) error {
		for _, ev := range docs {
			rec, ok, err := t.addEvidence(ctx, ev)
			if err != nil {
				return err
			}
			if ok {
				added = append(added, rec)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("add evidence: %w", err)
	}
	return added, nil
}

// RecordDecision appends, in one transaction: the given evidence not stored
// yet, d.Policy unless its revision is recorded already, the decision d,
// and an opened entry for each violation in opened
// (status open; an empty DecisionID is d's). It returns once the
// transaction is durable; on any error nothing is recorded. An id the
// ledger already holds is an error wrapping store.ErrDuplicate.
//
// d.Body, a JSON object in the shape of engine.Decision's JSON, is the
// entry's payload as is; the decision's fields are read from its members
// id, gate, release.id, release.service, release.environment, allow,
// dryRun, reason and evaluatedAt, and those given in d must agree with it.
func (db *DB) RecordDecision(ctx context.Context, now time.Time, d store.Decision, opened []store.Violation, evidence []store.Evidence) error {
	// Everything that does not depend on the ledger head is computed
	// before the write lock is taken.
	p, err := store.PrepareDecision(d, opened, evidence)
	if err == nil {
		err = db.write(ctx, now, func(t *tx) error { return t.recordDecision(ctx, p) })
	}
	if err != nil {
		return fmt.Errorf("record decision %s: %w", d.ID, err)
	}
	return nil
}

// recordDecision appends p's entries: the evidence and policy not held
// yet, the decision, the violations it opens.
func (t *tx) recordDecision(ctx context.Context, p *store.DecisionEntries) error {
	for _, tmpl := range p.Evidence {
		if _, _, err := t.appendEvidence(ctx, tmpl); err != nil {
			return err
		}
	}
	if ok, err := t.exists(ctx, "SELECT 1 FROM decisions WHERE id = ?", p.Decision.Key); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("decision %s: %w", p.Decision.Key, store.ErrDuplicate)
	}
	if p.Policy != nil {
		if err := t.appendPolicy(ctx, *p.Policy); err != nil {
			return err
		}
	}
	e, err := t.append(ctx, p.Decision)
	if err != nil {
		return err
	}
	rec, err := store.DecisionOf(e)
	if err != nil {
		return err
	}
	if _, err := t.ExecContext(ctx, decisionsTable.insertSQL(), decisionRow(rec)...); err != nil {
		return fmt.Errorf("decision %s: %w", rec.ID, err)
	}
	for _, tmpl := range p.Opened {
		if err := t.open(ctx, tmpl); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) open(ctx context.Context, tmpl ledger.Entry) error {
	if ok, err := t.exists(ctx, "SELECT 1 FROM violations WHERE id = ?", tmpl.Key); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("violation %s: %w", tmpl.Key, store.ErrDuplicate)
	}
	e, err := t.append(ctx, tmpl)
	if err != nil {
		return fmt.Errorf("violation %s: %w", tmpl.Key, err)
	}
	rec, err := store.ViolationOf(e)
	if err != nil {
		return err
	}
	row, err := violationRow(rec, e.Seq)
	if err != nil {
		return err
	}
	if _, err := t.ExecContext(ctx, violationsTable.insertSQL(), row...); err != nil {
		return fmt.Errorf("violation %s: %w", rec.ID, err)
	}
	return nil
}

// ClosePostmortem closes the violations ids with the Postmortem pm, in one
// transaction: pm's evidence entry if it is not stored yet, then a closed
// entry per violation, at the time now. An unknown id is an error wrapping
// store.ErrNotFound, a closed one an error wrapping store.ErrClosed; on any
// error nothing is written. It returns the violations as closed.
func (db *DB) ClosePostmortem(ctx context.Context, now time.Time, pm store.Evidence, ids []string) ([]store.Violation, error) {
	if len(ids) == 0 {
		return nil, errors.New("close violations: no ids")
	}
	var done []store.Violation
	err := db.write(ctx, now, func(t *tx) error {
		done = done[:0]
		rec, _, err := t.addEvidence(ctx, pm)
		if err != nil {
			return err
		}
		for _, id := range ids {
			v, err := t.violation(ctx, id)
			if err != nil {
				return err
			}
			tmpl, err := store.ClosedEntry(v, rec.Digest, now)
			if err != nil {
				return err
			}
			e, err := t.append(ctx, tmpl)
			if err != nil {
				return fmt.Errorf("violation %s: %w", id, err)
			}
			if v, err = store.Closed(v, e); err != nil {
				return err
			}
			res, err := t.ExecContext(ctx, "UPDATE violations SET status = ?, closed_at = ?, closed_by = ? WHERE id = ? AND status = ?",
				v.Status, store.FormatTime(v.ClosedAt), v.ClosedBy, v.ID, store.StatusOpen)
			if err != nil {
				return fmt.Errorf("violation %s: %w", id, err)
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return fmt.Errorf("violation %s: closed %d rows (%v)", id, n, err)
			}
			done = append(done, v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("close violations %s: %w", strings.Join(ids, ", "), err)
	}
	return done, nil
}
