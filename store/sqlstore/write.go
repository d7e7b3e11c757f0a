package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
)

// entriesTable is the ledger itself, as flush inserts into it.
var entriesTable = store.Table{Name: "entries", Cols: []string{"seq", "type", "key", "hash", "body"}}

// The tables a transaction inserts into, in the order flush inserts them:
// each row references only rows of the tables before it.
var flushOrder = [...]store.Table{entriesTable, store.EvidenceTable, store.PoliciesTable, store.DecisionsTable, store.ViolationsTable}

// tx is one write transaction, the ledger head as it stands inside it, and
// the rows it inserts, held until flush: the writes of a whole batch go to
// the database in one multi-row INSERT per table. What the writes look up
// (is this digest held?) sees the held rows too.
type tx struct {
	*sql.Tx
	db   *DB
	ctx  context.Context
	now  time.Time
	head *ledger.Entry
	// headBody is the body of head once this transaction appended it.
	headBody []byte
	// rows are the rows not inserted yet, per table of flushOrder, and
	// flushes counts the flushes that inserted them.
	rows    [len(flushOrder)][][]any
	flushes int
	// held are the keys of the rows not inserted yet ("evidence " + digest,
	// …), and keys the order they were added in, for restore.
	held map[string]bool
	keys []string
	// broken says a statement failed: the transaction is lost (PostgreSQL
	// refuses every later statement), so the whole batch fails.
	broken bool
	// looked are the keys of the decisions lookedUp that the database
	// held when loadHead asked, after lookedAt flushes.
	looked   map[string]bool
	lookedUp map[*store.DecisionEntries]bool
	lookedAt int
}

// mark is how far a tx had got, for restore.
type mark struct {
	head     *ledger.Entry
	headBody []byte
	rows     [len(flushOrder)]int
	keys     int
	flushes  int
}

func (t *tx) mark() mark {
	m := mark{head: t.head, headBody: t.headBody, keys: len(t.keys), flushes: t.flushes}
	for i, r := range t.rows {
		m.rows[i] = len(r)
	}
	return m
}

// restore forgets everything appended since m, and reports whether it
// could: the write that failed after m wrote nothing to the database
// unless a flush came between.
func (t *tx) restore(m mark) bool {
	if t.flushes != m.flushes {
		return false
	}
	t.head, t.headBody = m.head, m.headBody
	for i := range t.rows {
		t.rows[i] = t.rows[i][:m.rows[i]]
	}
	for _, k := range t.keys[m.keys:] {
		delete(t.held, k)
	}
	t.keys = t.keys[:m.keys]
	return true
}

// sqlErr records that a statement failed, unless err is none or only says
// that a query found no row.
func (t *tx) sqlErr(err error) error {
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.broken = true
	}
	return err
}

// exec runs a statement at once, after the rows held so far.
func (t *tx) exec(query string, args ...any) (sql.Result, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	res, err := t.ExecContext(t.ctx, t.db.q(query), args...)
	return res, t.sqlErr(err)
}

// prepared returns query as a statement of t, prepared once per
// connection where the dialect keeps statements prepared (DB.prepared),
// or nil: every write transaction runs the same few statements, which
// SQLite would otherwise compile again each time. Only statements whose
// text is one of a bounded few are to be given: each stays prepared.
func (t *tx) prepared(query string) *sql.Stmt {
	if st := t.db.prepared(t.ctx, query); st != nil {
		return t.StmtContext(t.ctx, st)
	}
	return nil
}

// queryRow runs query in t, which returns at most one row; query is one
// of a bounded few texts (see prepared).
func (t *tx) queryRow(query string, args ...any) *sql.Row {
	if st := t.prepared(query); st != nil {
		return st.QueryRowContext(t.ctx, args...)
	}
	return t.QueryRowContext(t.ctx, t.db.q(query), args...)
}

// insert holds a row of the table flushOrder[table] for flush, under key.
func (t *tx) insert(table int, key string, row []any) {
	t.rows[table] = append(t.rows[table], row)
	k := flushOrder[table].Name + " " + key
	t.held[k] = true
	t.keys = append(t.keys, k)
}

// maxParams bounds the parameters of one statement (SQLite takes 32766).
const maxParams = 30000

// flush inserts the rows held, table by table in flushOrder.
func (t *tx) flush() error {
	for i, tab := range flushOrder {
		rows := t.rows[i]
		if len(rows) > 0 {
			t.flushes++
		}
		for len(rows) > 0 {
			n := min(len(rows), maxParams/len(tab.Cols))
			if err := t.insertRows(tab, rows[:n]); err != nil {
				t.broken = true
				return fmt.Errorf("insert into %s: %w", tab.Name, err)
			}
			rows = rows[n:]
		}
		t.rows[i] = t.rows[i][:0]
	}
	clear(t.held)
	t.keys = t.keys[:0]
	return nil
}

// maxPreparedRows bounds the rows of an INSERT that stays prepared (see
// insertRows).
const maxPreparedRows = 64

// insertRows inserts rows into tab. Up to maxPreparedRows rows go in
// statements of a power of two rows each, which stay prepared (so at most
// a few texts per table, see prepared); more go in one statement, as
// maxParams allows, compiled for the occasion.
func (t *tx) insertRows(tab store.Table, rows [][]any) error {
	if t.db.d.Prepare && len(rows) <= maxPreparedRows {
		for len(rows) > 0 {
			n := 1 << (bits.Len(uint(len(rows))) - 1)
			if err := t.insertStmt(tab, rows[:n], true); err != nil {
				return err
			}
			rows = rows[n:]
		}
		return nil
	}
	return t.insertStmt(tab, rows, false)
}

// insertStmt inserts rows into tab with one statement, prepared to stay
// (see prepared) or not.
func (t *tx) insertStmt(tab store.Table, rows [][]any, keep bool) error {
	var b strings.Builder
	b.WriteString("INSERT INTO " + tab.Name + " (" + strings.Join(tab.Cols, ", ") + ") VALUES ")
	args := make([]any, 0, len(rows)*len(tab.Cols))
	for i, row := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, v := range row {
			if j > 0 {
				b.WriteString(", ")
			}
			if l, ok := v.([]string); ok {
				var err error
				if v, err = t.db.d.Strings(l); err != nil {
					return err
				}
			}
			args = append(args, v)
			if t.db.d.Dollar {
				b.WriteString("$" + strconv.Itoa(len(args)))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	if keep {
		if st := t.prepared(b.String()); st != nil {
			_, err := st.ExecContext(t.ctx, args...)
			return err
		}
	}
	_, err := t.ExecContext(t.ctx, b.String(), args...)
	return err
}

// holds reports whether table (an index into flushOrder) holds key, in
// the database or among the rows held: query selects 1 for a key held.
func (t *tx) holds(table int, query, key string) (bool, error) {
	if t.held[flushOrder[table].Name+" "+key] {
		return true, nil
	}
	var one int
	err := t.queryRow(query, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, t.sqlErr(err)
}

// Indexes into flushOrder.
const (
	tEntries = iota
	tEvidence
	tPolicies
	tDecisions
	tViolations
)

// headQuery selects the last entry's seq and body.
const headQuery = "SELECT seq, body FROM entries ORDER BY seq DESC LIMIT 1"

// loadHead reads the last entry, and which keys of the decisions batch
// records the database holds (see decisionsOf). A head that does not parse
// stops every write: appending after it would chain to something
// unverifiable.
func (t *tx) loadHead(batch []*request) error {
	ps := decisionsOf(batch)
	query, args, err := t.lookUpSQL(ps)
	if err != nil {
		return err
	}
	// The head, and the rows lookUpSQL selects, in one query: a round trip
	// less for every batch, in the time the write lock is held.
	head := "SELECT NULL, NULL, h.seq, h.body FROM (" + headQuery + ") h"
	if query == "" {
		query = head
	} else {
		query = head + " UNION ALL SELECT l.*, NULL, NULL FROM (" + query + ") l"
	}
	rows, err := t.query(query, args...)
	if err != nil {
		return fmt.Errorf("read the ledger head: %w", err)
	}
	defer rows.Close()
	held := map[string]bool{}
	var seq *int64
	var body []byte
	for rows.Next() {
		var table, key *string
		var s *int64
		var b []byte
		if err := rows.Scan(&table, &key, &s, &b); err != nil {
			return fmt.Errorf("read the ledger head: %w", t.sqlErr(err))
		}
		switch {
		case s != nil && table == nil:
			seq, body = s, b
		case table != nil && key != nil && s == nil:
			held[*table+" "+*key] = true
		default:
			return errors.New("read the ledger head: a row that is neither the head nor a key")
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the ledger head: %w", t.sqlErr(err))
	}
	if len(ps) > 0 {
		t.looked, t.lookedAt = held, t.flushes
		t.lookedUp = make(map[*store.DecisionEntries]bool, len(ps))
		for _, p := range ps {
			t.lookedUp[p] = true
		}
	}
	if seq == nil {
		return nil
	}
	e, err := t.db.heads.Parse(*seq, body)
	if err != nil {
		return fmt.Errorf("read the ledger head, entry %d: %w", *seq, err)
	}
	if e.Seq != *seq {
		return fmt.Errorf("read the ledger head: entry stored at %d says it is %d", *seq, e.Seq)
	}
	t.head = &e
	return nil
}

// append chains tmpl to the head and holds it for flush. It returns the
// entry as its body records it (ledger.Append: what Parse would read back
// but for the payload's bytes), which is what the query tables are filled
// from.
func (t *tx) append(tmpl ledger.Entry) (ledger.Entry, error) {
	tmpl.Time = t.now
	e, body, err := ledger.Append(t.head, tmpl)
	if err != nil {
		return ledger.Entry{}, err
	}
	t.insert(tEntries, strconv.FormatInt(e.Seq, 10), []any{e.Seq, e.Type, e.Key, e.Hash, body})
	t.head, t.headBody = &e, body
	return e, nil
}

// addEvidence appends the evidence r unless its digest is held already;
// added says which, and only then is rec set.
func (t *tx) addEvidence(r store.Record[store.Evidence]) (rec store.Evidence, added bool, err error) {
	if ok, err := t.holds(tEvidence, "SELECT 1 FROM evidence WHERE digest = ?", r.Entry.Key); err != nil || ok {
		return store.Evidence{}, false, err
	}
	e, err := t.append(r.Entry)
	if err != nil {
		return store.Evidence{}, false, fmt.Errorf("evidence %s: %w", r.Entry.Key, err)
	}
	rec = r.Stamp(e)
	t.insert(tEvidence, rec.Digest, evidenceRow(rec))
	return rec, true, nil
}

// AddEvidence appends, in one transaction, an evidence entry for each
// document whose digest is not stored yet, at the time now. It returns the
// documents it added, as stored (Seq, AddedAt, and the fields read from the
// document filled in). A document whose given fields disagree with its
// envelope is an error, and nothing is added. It returns once the
// transaction is durable.
func (db *DB) AddEvidence(ctx context.Context, now time.Time, docs []store.Evidence) ([]store.Evidence, error) {
	recs := make([]store.Record[store.Evidence], len(docs))
	var err error
	for i, ev := range docs {
		if recs[i], err = store.NewEvidence(ev); err != nil {
			return nil, fmt.Errorf("add evidence: %w", err)
		}
	}
	var added []store.Evidence
	err = db.group.do(ctx, now, false, nil, func(t *tx) error {
		added = added[:0]
		for _, r := range recs {
			rec, ok, err := t.addEvidence(r)
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
// and an opened entry for each violation in opened (status open; an empty
// DecisionID is d's). It returns once the transaction is durable; on any
// error nothing is recorded. An id the ledger already holds is an error
// wrapping store.ErrDuplicate.
//
// d.Body, a JSON object in the shape of engine.Decision's JSON, is the
// entry's payload as is; the decision's fields are read from its members
// id, gate, release.id, release.service, release.environment, allow,
// dryRun, reason and evaluatedAt, and those given in d must agree with it.
func (db *DB) RecordDecision(ctx context.Context, now time.Time, d store.Decision, opened []store.Violation, evidence []store.Evidence) error {
	// Everything that does not depend on the ledger head is computed
	// before the write is queued.
	p, err := store.PrepareDecision(d, opened, evidence)
	if err == nil {
		err = db.group.do(ctx, now, false, p, func(t *tx) error { return t.recordDecision(p) })
	}
	if err != nil {
		return fmt.Errorf("record decision %s: %w", d.ID, err)
	}
	return nil
}

// recordDecision appends p's entries: the evidence and policy not held
// yet, the decision, the violations it opens. Which keys are held is
// asked in one query, before anything is appended, so a duplicate leaves
// the transaction as it was.
func (t *tx) recordDecision(p *store.DecisionEntries) error {
	held, err := t.heldKeys(p)
	if err != nil {
		return fmt.Errorf("look up what is recorded: %w", err)
	}
	if held["decisions "+p.Decision.Entry.Key] {
		return fmt.Errorf("decision %s: %w", p.Decision.Entry.Key, store.ErrDuplicate)
	}
	seen := map[string]bool{}
	for _, r := range p.Opened {
		if held["violations "+r.Entry.Key] || seen[r.Entry.Key] {
			return fmt.Errorf("violation %s: %w", r.Entry.Key, store.ErrDuplicate)
		}
		seen[r.Entry.Key] = true
	}
	for _, r := range p.Evidence {
		if held["evidence "+r.Entry.Key] {
			continue
		}
		if _, _, err := t.addEvidence(r); err != nil {
			return err
		}
	}
	if p.Policy != nil && !held["policies "+p.Policy.Entry.Key] {
		e, err := t.append(p.Policy.Entry)
		if err != nil {
			return fmt.Errorf("policy %s: %w", p.Policy.Entry.Key, err)
		}
		rec := p.Policy.Stamp(e)
		t.insert(tPolicies, rec.Revision, policyRow(rec))
	}
	e, err := t.append(p.Decision.Entry)
	if err != nil {
		return err
	}
	rec := p.Decision.Stamp(e)
	t.insert(tDecisions, rec.ID, decisionRow(rec))
	for _, r := range p.Opened {
		e, err := t.append(r.Entry)
		if err != nil {
			return fmt.Errorf("violation %s: %w", r.Entry.Key, err)
		}
		t.insert(tViolations, r.Rec.ID, violationRow(r.Rec, e.Seq))
	}
	return nil
}

// heldKeys names which of p's keys are held, in the database or among the
// rows held, as table name + " " + key. The keys of every decision of the
// batch were looked up at once (loadHead) unless p's were not among them.
func (t *tx) heldKeys(p *store.DecisionEntries) (map[string]bool, error) {
	held := t.looked
	if !t.lookedUp[p] || t.flushes != t.lookedAt {
		var err error
		if held, err = t.lookUpKeys([]*store.DecisionEntries{p}); err != nil {
			return nil, err
		}
	}
	out := make(map[string]bool, len(t.held)+4)
	for _, k := range keysOf(p) {
		if held[k] {
			out[k] = true
		}
	}
	for k := range t.held {
		out[k] = true
	}
	return out, nil
}

// decisionsOf lists the decisions batch records: loadHead looks up their
// keys at once, in the database, before any of them runs; heldKeys then
// asks the database again only for a decision recorded after a flush (a
// batch whose earlier writes needed their rows inserted).
func decisionsOf(batch []*request) []*store.DecisionEntries {
	var ps []*store.DecisionEntries
	for _, r := range batch {
		if r.entries != nil {
			ps = append(ps, r.entries)
		}
	}
	return ps
}

// keysOf lists p's keys as heldKeys names them.
func keysOf(p *store.DecisionEntries) []string {
	keys := []string{"decisions " + p.Decision.Entry.Key}
	for _, r := range p.Opened {
		keys = append(keys, "violations "+r.Entry.Key)
	}
	for _, r := range p.Evidence {
		keys = append(keys, "evidence "+r.Entry.Key)
	}
	if p.Policy != nil {
		keys = append(keys, "policies "+p.Policy.Entry.Key)
	}
	return keys
}

// lookUpKeys names which keys of ps the database holds, as table name + " "
// + key, in one query: per table, one parameter holding the list of keys
// (Dialect.Lookup), so the few texts it takes stay prepared.
func (t *tx) lookUpKeys(ps []*store.DecisionEntries) (map[string]bool, error) {
	query, args, err := t.lookUpSQL(ps)
	if err != nil || query == "" {
		return map[string]bool{}, err
	}
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	held := map[string]bool{}
	for rows.Next() {
		var table, key string
		if err := rows.Scan(&table, &key); err != nil {
			return nil, t.sqlErr(err)
		}
		held[table+" "+key] = true
	}
	if err := rows.Err(); err != nil {
		return nil, t.sqlErr(err)
	}
	return held, nil
}

// lookUpSQL is the query lookUpKeys runs for ps, selecting table name and
// key, and its arguments; "" when ps has no key.
func (t *tx) lookUpSQL(ps []*store.DecisionEntries) (string, []any, error) {
	var ids, vids, digests, revisions []string
	for _, p := range ps {
		ids = append(ids, p.Decision.Entry.Key)
		for _, r := range p.Opened {
			vids = append(vids, r.Entry.Key)
		}
		for _, r := range p.Evidence {
			digests = append(digests, r.Entry.Key)
		}
		if p.Policy != nil {
			revisions = append(revisions, p.Policy.Entry.Key)
		}
	}
	var parts []string
	var args []any
	for _, l := range []struct {
		table, col string
		keys       []string
	}{{"decisions", "id", ids}, {"violations", "id", vids}, {"evidence", "digest", digests}, {"policies", "revision", revisions}} {
		if len(l.keys) == 0 {
			continue
		}
		v, err := t.db.d.Strings(l.keys)
		if err != nil {
			return "", nil, err
		}
		parts = append(parts, t.db.d.Lookup(l.table, l.col))
		args = append(args, v)
	}
	return strings.Join(parts, " UNION ALL "), args, nil
}

// query runs query in t; query is one of a bounded few texts (see
// prepared).
func (t *tx) query(query string, args ...any) (*sql.Rows, error) {
	var rows *sql.Rows
	var err error
	if st := t.prepared(query); st != nil {
		rows, err = st.QueryContext(t.ctx, args...)
	} else {
		rows, err = t.QueryContext(t.ctx, t.db.q(query), args...)
	}
	return rows, t.sqlErr(err)
}

// ClosePostmortem closes the violations ids with the Postmortem pm, in one
// transaction: pm's evidence entry if it is not stored yet, then a closed
// entry per violation, at the time now. An unknown id is an error wrapping
// store.ErrNotFound, a closed one an error wrapping store.ErrClosed; on any
// error nothing is written. It returns the violations as closed, once the
// transaction is durable.
func (db *DB) ClosePostmortem(ctx context.Context, now time.Time, pm store.Evidence, ids []string) ([]store.Violation, error) {
	if len(ids) == 0 {
		return nil, errors.New("close violations: no ids")
	}
	var done []store.Violation
	pr, err := store.NewEvidence(pm)
	if err == nil {
		// It runs alone in its transaction: it reads the violations it
		// updates from the database.
		err = db.group.do(ctx, now, true, nil, func(t *tx) error {
			done = done[:0]
			if _, _, err := t.addEvidence(pr); err != nil {
				return err
			}
			for _, id := range ids {
				v, err := t.violation(id)
				if err != nil {
					return err
				}
				tmpl, err := store.ClosedEntry(v, pr.Entry.Key, now)
				if err != nil {
					return err
				}
				e, err := t.append(tmpl)
				if err != nil {
					return fmt.Errorf("violation %s: %w", id, err)
				}
				if v, err = store.Closed(v, e); err != nil {
					return err
				}
				res, err := t.exec("UPDATE violations SET status = ?, closed_at = ?, closed_by = ? WHERE id = ? AND status = ?",
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
	}
	if err != nil {
		return nil, fmt.Errorf("close violations %s: %w", strings.Join(ids, ", "), err)
	}
	return done, nil
}

// violation reads the violation id as this transaction sees it.
func (t *tx) violation(id string) (store.Violation, error) {
	v, err := t.db.scanViolation(t.QueryRowContext(t.ctx, t.db.q(store.ViolationsTable.SelectSQL()+" WHERE id = ?"), id))
	return v, notFound(t.sqlErr(err), "violation "+id)
}
