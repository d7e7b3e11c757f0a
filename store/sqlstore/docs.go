package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/localizevideos/shipgate/store"
)

// Bounds of a docCache: a release has a few documents, and a server reads
// those of the releases under way again and again (every decision reads
// its release's evidence and its service's deploys).
const (
	docCacheEntries = 4096
	docCacheBytes   = 32 << 20
)

// docCache remembers the documents (and envelopes) of the evidence
// entries a handle read, by entry seq and digest. An entry never changes
// once appended (the ledger is append-only), so the evidence reads a
// decision makes ask for the evidence table's columns only, and take the
// document of each row from here: no join with the entries, no document
// sent, copied and checked again. A row whose seq and digest the cache
// does not hold as a pair is read in full. The bytes are shared by every
// reader: nobody changes an Evidence's Body or Envelope.
type docCache struct {
	mu    sync.Mutex
	docs  map[int64]cachedDoc
	bytes int
}

type cachedDoc struct {
	digest         string
	body, envelope []byte
}

// fill sets ev's Body and Envelope from the cache, and reports whether it
// held them.
func (c *docCache) fill(ev *store.Evidence) bool {
	c.mu.Lock()
	d, ok := c.docs[ev.Seq]
	c.mu.Unlock()
	if !ok || d.digest != ev.Digest {
		return false
	}
	ev.Body, ev.Envelope = d.body, d.envelope
	return true
}

// add remembers ev's document and envelope, evicting arbitrary entries
// (map order) until it fits.
func (c *docCache) add(ev store.Evidence) {
	n := len(ev.Body) + len(ev.Envelope)
	if n > docCacheBytes/16 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.docs == nil {
		c.docs = map[int64]cachedDoc{}
	}
	if old, ok := c.docs[ev.Seq]; ok {
		c.bytes -= len(old.body) + len(old.envelope)
		delete(c.docs, ev.Seq)
	}
	for seq, d := range c.docs {
		if len(c.docs) < docCacheEntries && c.bytes+n <= docCacheBytes {
			break
		}
		c.bytes -= len(d.body) + len(d.envelope)
		delete(c.docs, seq)
	}
	c.docs[ev.Seq] = cachedDoc{digest: ev.Digest, body: ev.Body, envelope: ev.Envelope}
	c.bytes += n
}

// evidenceColumns selects the evidence table's columns, no body.
var evidenceColumns = "SELECT " + store.EvidenceTable.Prefixed("ev") + " FROM evidence ev"

// cachedEvidence returns the evidence rows that where (a WHERE and ORDER
// BY clause over the evidence table, aliased ev) selects with args, bodies
// included: the columns first, each document from the cache; when it does
// not hold one of them, every row again with its entry's body (which then
// fills the cache).
func (db *DB) cachedEvidence(ctx context.Context, where string, args ...any) ([]store.Evidence, error) {
	out, err := collect(ctx, db, store.ScanEvidenceColumns, evidenceColumns+where, args...)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if !db.docs.fill(&out[i]) {
			out, err = collect(ctx, db, store.ScanEvidence, evidenceQuery+where, args...)
			if err != nil {
				return nil, err
			}
			for _, ev := range out {
				db.docs.add(ev)
			}
			return out, nil
		}
	}
	return out, nil
}

// The parts of the query ReleaseReads runs, in its order: the open
// violations of every service a Plan of the release names, the release's
// evidence, then the Deploys of those services. Each part selects NULL for
// the columns of the others; the violations come first, since PostgreSQL
// types those NULLs from the parts before them.
const (
	plannedServices = "SELECT service FROM evidence WHERE release_id = ?1 AND kind = 'Plan'"
	openWhere       = " WHERE v.status = ?2 AND v.service IN (" + plannedServices + ")"
	releaseWhere    = " WHERE ev.release_id = ?1"
	deploysWhere    = " WHERE ev.kind = 'Deploy' AND ev.service IN (" + plannedServices + ")"
)

// The parts of ReleaseReads' rows, the value of their first column.
const (
	partOpen = iota
	partEvidence
	partDeploys
)

// readsQuery names one text of ReleaseReads' query: with the open
// violations or not, with the entries' bodies or not.
type readsQuery struct{ open, body bool }

// releaseQueries are ReleaseReads' query texts, made once.
var releaseQueries = func() map[readsQuery]string {
	m := map[readsQuery]string{}
	for _, open := range []bool{false, true} {
		for _, body := range []bool{false, true} {
			m[readsQuery{open, body}] = releaseQuery(open, body)
		}
	}
	return m
}()

// releaseQuery is ReleaseReads' query, with the part reading the open
// violations when open is set, and the entries' bodies when body is.
func releaseQuery(open, body bool) string {
	evCols := store.EvidenceTable.Prefixed("ev")
	nulls := func(n int) string { return strings.Repeat(", NULL", n) }
	nEv, nV := len(store.EvidenceTable.Cols), len(store.ViolationsTable.Cols)
	from, ev, nBody := " FROM evidence ev", evCols, 0
	if body {
		from, ev, nBody = " FROM evidence ev JOIN entries en ON en.seq = ev.seq", evCols+", en.body", 1
	}
	var q, pad string
	if open {
		q = "SELECT " + strconv.Itoa(partOpen) + nulls(nEv+nBody) + ", " + store.ViolationsTable.Prefixed("v") +
			", ROW_NUMBER() OVER (ORDER BY v.due, v.id) FROM violations v" + openWhere + " UNION ALL "
		pad = nulls(nV + 1)
	}
	return q + "SELECT " + strconv.Itoa(partEvidence) + ", " + ev + pad + from + releaseWhere +
		" UNION ALL SELECT " + strconv.Itoa(partDeploys) + ", " + ev + pad + from + deploysWhere
}

// ReleaseReads returns what a decision reads of the ledger before it knows
// its release's service (store.ReleaseReads), in one query: with the open
// violations where the dialect folds them in (Dialect.FoldReads). Its rows
// are the part (partOpen …), the evidence table's columns (and the entry's
// body when the cache lacks a document), the violations table's columns,
// and the rank of a violation by due date then id: the rows are put in
// order here, since sorting a few rows in the database took longer, but ids
// compare as the database collates them.
func (db *DB) ReleaseReads(ctx context.Context, releaseID string) (store.ReleaseReads, error) {
	open := db.d.FoldReads
	if releaseID == "" {
		return store.ReleaseReads{}, fmt.Errorf("evidence of a release: no release id")
	}
	nEv := len(store.EvidenceTable.Cols)
	query := func(body bool) string { return releaseQueries[readsQuery{open, body}] }
	args := []any{releaseID}
	if open {
		args = append(args, store.StatusOpen)
	}
	nV := 0
	if open {
		nV = len(store.ViolationsTable.Cols)
	}
	r, cached, err := db.readParts(ctx, query(false), nEv, nV, args)
	if err == nil && !cached {
		r, _, err = db.readParts(ctx, query(true), nEv+1, nV, args)
		for _, e := range r.Evidence {
			db.docs.add(e)
		}
		for _, e := range r.Deploys {
			db.docs.add(e)
		}
	}
	if err != nil {
		return store.ReleaseReads{}, fmt.Errorf("evidence of %s: %w", releaseID, err)
	}
	r.OpenRead = open
	bySeq := func(a, b store.Evidence) int { return cmp.Compare(a.Seq, b.Seq) }
	slices.SortFunc(r.Evidence, bySeq)
	slices.SortFunc(r.Deploys, bySeq)
	return r, nil
}

// readParts runs query, one of ReleaseReads', whose rows hold nEv evidence
// columns (with the body when nEv is one more than the table's), then,
// unless nV is 0, nV violation columns and the rank; it reports whether
// the cache held every document (it is not asked when the body is read:
// cached is then true).
func (db *DB) readParts(ctx context.Context, query string, nEv, nV int, args []any) (r store.ReleaseReads, cached bool, err error) {
	body := nEv > len(store.EvidenceTable.Cols)
	type ranked struct {
		v    store.Violation
		rank int64
	}
	var open []ranked
	n := 1 + nEv
	if nV > 0 {
		n += nV + 1
	}
	vals := make([]any, n)
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	cached = true
	err = db.each(ctx, func(s store.Scanner) error {
		clear(vals)
		if err := s.Scan(dest...); err != nil {
			return err
		}
		var part int64
		if err := assign(&part, vals[0]); err != nil {
			return err
		}
		if part == partOpen && nV > 0 {
			var rank int64
			v, err := db.scanViolation(values(vals[1+nEv : 1+nEv+nV]))
			if err == nil {
				err = assign(&rank, vals[1+nEv+nV])
			}
			open = append(open, ranked{v, rank})
			return err
		}
		if part != partEvidence && part != partDeploys {
			return fmt.Errorf("a row of part %d", part)
		}
		var e store.Evidence
		var err error
		if body {
			e, err = store.ScanEvidence(values(vals[1 : 1+nEv]))
		} else if e, err = store.ScanEvidenceColumns(values(vals[1 : 1+nEv])); err == nil && !db.docs.fill(&e) {
			cached = false
		}
		if part == partEvidence {
			r.Evidence = append(r.Evidence, e)
		} else {
			r.Deploys = append(r.Deploys, e)
		}
		return err
	}, query, args...)
	if err != nil {
		return store.ReleaseReads{}, false, err
	}
	slices.SortFunc(open, func(a, b ranked) int { return cmp.Compare(a.rank, b.rank) })
	for _, o := range open {
		r.Open = append(r.Open, o.v)
	}
	return r, cached, nil
}
