package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
)

// tx is one write transaction and the ledger head as it stands inside it.
type tx struct {
	pgx.Tx
	now  time.Time
	head *ledger.Entry
	// heads is the handle's cache; headBody the body of head once this
	// transaction appended it.
	heads    *store.HeadCache
	headBody []byte
}

// write runs fn in one transaction holding ledgerLock, with now as the time
// of every entry fn appends, and commits unless fn fails. The lock comes
// first: the head is read after the previous writer committed, and nothing
// else is locked before it, so writers cannot deadlock.
func (db *DB) write(ctx context.Context, now time.Time, fn func(*tx) error) error {
	if now.IsZero() {
		return errors.New("no time for the ledger entries")
	}
	ptx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("ledger %s: begin: %w", db.name, err)
	}
	// Rollback after Commit is a no-op; on any early return it undoes the
	// transaction, and a cancelled ctx must not keep it from doing so.
	defer ptx.Rollback(context.WithoutCancel(ctx))
	// The lock and the head go in one round trip: the head query runs
	// once the lock is granted.
	t := &tx{Tx: ptx, now: now, heads: &db.heads}
	var b pgx.Batch
	b.Queue("SELECT pg_advisory_xact_lock($1)", ledgerLock)
	b.Queue(headSQL)
	br := ptx.SendBatch(ctx, &b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return fmt.Errorf("ledger %s: lock: %w", db.name, err)
	}
	err = t.loadHead(br.QueryRow())
	if cerr := br.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("read the ledger head: %w", cerr)
	}
	if err != nil {
		return err
	}
	if err := fn(t); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("ledger %s: commit: %w", db.name, err)
	}
	if t.headBody != nil {
		db.heads.Set(t.head.Seq, *t.head, t.headBody)
	}
	return nil
}

const headSQL = "SELECT seq, body FROM entries ORDER BY seq DESC LIMIT 1"

// loadHead reads the last entry from row, the result of headSQL. A head
// that does not parse stops every write: appending after it would chain to
// something unverifiable.
func (t *tx) loadHead(row pgx.Row) error {
	var seq int64
	var body []byte
	err := row.Scan(&seq, &body)
	if errors.Is(err, pgx.ErrNoRows) {
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
	back, body, err := t.chain(tmpl)
	if err != nil {
		return ledger.Entry{}, err
	}
	if _, err := t.Exec(ctx, insertEntrySQL, back.Seq, back.Type, back.Key, back.Hash, body); err != nil {
		return ledger.Entry{}, fmt.Errorf("append entry %d: %w", back.Seq, err)
	}
	return back, nil
}

const insertEntrySQL = "INSERT INTO entries (seq, type, key, hash, body) VALUES ($1, $2, $3, $4, $5)"

// chain makes tmpl the new head, and returns it as read back from its body,
// with the body; the caller inserts it.
func (t *tx) chain(tmpl ledger.Entry) (ledger.Entry, []byte, error) {
	tmpl.Time = t.now
	e, err := ledger.Next(t.head, tmpl)
	if err != nil {
		return ledger.Entry{}, nil, err
	}
	body, err := e.Body()
	if err != nil {
		return ledger.Entry{}, nil, err
	}
	back, err := ledger.Parse(body)
	if err != nil {
		return ledger.Entry{}, nil, fmt.Errorf("entry %d does not read back: %w", e.Seq, err)
	}
	t.head, t.headBody = &back, body
	return back, body, nil
}

func (t *tx) exists(ctx context.Context, query string, key string) (bool, error) {
	var one int
	err := t.QueryRow(ctx, query, key).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
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
	if ok, err := t.exists(ctx, "SELECT 1 FROM evidence WHERE digest = $1", tmpl.Key); err != nil || ok {
		return store.Evidence{}, false, err
	}
	e, err := t.append(ctx, tmpl)
	if err != nil {
		return store.Evidence{}, false, fmt.Errorf("evidence %s: %w", tmpl.Key, err)
	}
	if rec, err = store.EvidenceOf(e); err != nil {
		return store.Evidence{}, false, err
	}
	if _, err := t.Exec(ctx, evidenceTable.insertSQL(), evidenceRow(rec)...); err != nil {
		return store.Evidence{}, false, fmt.Errorf("evidence %s: %w", rec.Digest, err)
	}
	return rec, true, nil
}

// appendPolicy appends the policy entry tmpl unless its revision is
// recorded already.
func (t *tx) appendPolicy(ctx context.Context, tmpl ledger.Entry) error {
	if ok, err := t.exists(ctx, "SELECT 1 FROM policies WHERE revision = $1", tmpl.Key); err != nil || ok {
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
	if _, err := t.Exec(ctx, policiesTable.insertSQL(), policyRow(rec)...); err != nil {
		return fmt.Errorf("policy %s: %w", rec.Revision, err)
	}
	return nil
}

func (t *tx) evidence(ctx context.Context, digest string) (store.Evidence, error) {
	ev, err := store.ScanEvidence(t.QueryRow(ctx, evidenceQuery+" WHERE ev.digest = $1", digest))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Evidence{}, fmt.Errorf("evidence %s: %w", digest, store.ErrNotFound)
	}
	return ev, err
}

func (t *tx) violation(ctx context.Context, id string) (store.Violation, error) {
	v, err := scanViolation(t.QueryRow(ctx, violationsTable.SelectSQL()+" WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
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
// transaction is committed; on any error nothing is recorded. An id the
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

// heldSQL names which of a decision's keys the tables hold already.
const heldSQL = `SELECT 'decision', id FROM decisions WHERE id = $1
UNION ALL SELECT 'violation', id FROM violations WHERE id = ANY($2)
UNION ALL SELECT 'evidence', digest FROM evidence WHERE digest = ANY($3)
UNION ALL SELECT 'policy', revision FROM policies WHERE revision = $4`

// recordDecision appends p's entries: the evidence and policy not held
// yet, the decision, the violations it opens. The lock is held: it asks
// which keys are held in one query, chains the entries in memory, and
// sends every insert in one batch, so the critical section is three round
// trips whatever the number of entries.
func (t *tx) recordDecision(ctx context.Context, p *store.DecisionEntries) error {
	vids, digests := make([]string, len(p.Opened)), make([]string, len(p.Evidence))
	for i, e := range p.Opened {
		vids[i] = e.Key
	}
	for i, e := range p.Evidence {
		digests[i] = e.Key
	}
	rev := ""
	if p.Policy != nil {
		rev = p.Policy.Key
	}
	rows, err := t.Query(ctx, heldSQL, p.Decision.Key, vids, digests, rev)
	held := map[[2]string]bool{}
	if err == nil {
		var k [2]string
		_, err = pgx.ForEachRow(rows, []any{&k[0], &k[1]}, func() error { held[k] = true; return nil })
	}
	if err != nil {
		return fmt.Errorf("look up what is recorded: %w", err)
	}
	if held[[2]string{"decision", p.Decision.Key}] {
		return fmt.Errorf("decision %s: %w", p.Decision.Key, store.ErrDuplicate)
	}
	seen := map[string]bool{}
	for _, e := range p.Opened {
		if held[[2]string{"violation", e.Key}] || seen[e.Key] {
			return fmt.Errorf("violation %s: %w", e.Key, store.ErrDuplicate)
		}
		seen[e.Key] = true
	}
	var b pgx.Batch
	add := func(tmpl ledger.Entry) (ledger.Entry, error) {
		e, body, err := t.chain(tmpl)
		if err == nil {
			b.Queue(insertEntrySQL, e.Seq, e.Type, e.Key, e.Hash, body)
		}
		return e, err
	}
	for _, tmpl := range p.Evidence {
		if held[[2]string{"evidence", tmpl.Key}] {
			continue
		}
		e, err := add(tmpl)
		if err != nil {
			return fmt.Errorf("evidence %s: %w", tmpl.Key, err)
		}
		rec, err := store.EvidenceOf(e)
		if err != nil {
			return err
		}
		b.Queue(evidenceTable.insertSQL(), evidenceRow(rec)...)
	}
	if p.Policy != nil && !held[[2]string{"policy", rev}] {
		e, err := add(*p.Policy)
		if err != nil {
			return fmt.Errorf("policy %s: %w", rev, err)
		}
		rec, err := store.PolicyOf(e)
		if err != nil {
			return err
		}
		b.Queue(policiesTable.insertSQL(), policyRow(rec)...)
	}
	e, err := add(p.Decision)
	if err != nil {
		return err
	}
	rec, err := store.DecisionOf(e)
	if err != nil {
		return err
	}
	b.Queue(decisionsTable.insertSQL(), decisionRow(rec)...)
	for _, tmpl := range p.Opened {
		e, err := add(tmpl)
		if err != nil {
			return fmt.Errorf("violation %s: %w", tmpl.Key, err)
		}
		v, err := store.ViolationOf(e)
		if err != nil {
			return err
		}
		b.Queue(violationsTable.insertSQL(), violationRow(v, e.Seq)...)
	}
	if err := t.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("insert decision %s: %w", rec.ID, err)
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
			tag, err := t.Exec(ctx, "UPDATE violations SET status = $1, closed_at = $2, closed_by = $3 WHERE id = $4 AND status = $5",
				v.Status, store.FormatTime(v.ClosedAt), v.ClosedBy, v.ID, store.StatusOpen)
			if err != nil {
				return fmt.Errorf("violation %s: %w", id, err)
			}
			if n := tag.RowsAffected(); n != 1 {
				return fmt.Errorf("violation %s: closed %d rows", id, n)
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
