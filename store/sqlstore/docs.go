package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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

// The two parts of the query EvidenceAndDeploys runs: the release's
// evidence, then the Deploys of every service a Plan of the release names.
const (
	releaseWhere = " WHERE ev.release_id = ?1"
	deploysWhere = " WHERE ev.kind = 'Deploy' AND ev.service IN (SELECT service FROM evidence WHERE release_id = ?1 AND kind = 'Plan')"
)

// EvidenceAndDeploys returns in one query the evidence of the release
// releaseID, as Evidence(releaseID) does, and the Deploy documents of every
// service a Plan among that evidence names, as ServiceEvidence(service,
// "Deploy") does for each of them (in ledger order, services mixed): what a
// decision reads of the ledger before it knows its release's service.
func (db *DB) EvidenceAndDeploys(ctx context.Context, releaseID string) (ev, deploys []store.Evidence, err error) {
	if releaseID == "" {
		return nil, nil, fmt.Errorf("evidence of a release: no release id")
	}
	// The rows are put in order here: sorting a few rows in the database
	// took longer.
	union := func(sel, from string) string {
		return "SELECT 0, " + sel + from + releaseWhere + " UNION ALL SELECT 1, " + sel + from + deploysWhere
	}
	cols := store.EvidenceTable.Prefixed("ev")
	var parts []int
	scan := func(scan func(store.Scanner) (store.Evidence, error)) func(store.Scanner) (store.Evidence, error) {
		return func(s store.Scanner) (store.Evidence, error) {
			var part int
			e, err := scan(partScanner{s, &part})
			parts = append(parts, part)
			return e, err
		}
	}
	all, err := collect(ctx, db, scan(store.ScanEvidenceColumns), union(cols, " FROM evidence ev"), releaseID)
	for i := 0; err == nil && i < len(all); i++ {
		if !db.docs.fill(&all[i]) {
			parts = parts[:0]
			all, err = collect(ctx, db, scan(store.ScanEvidence), union(cols+", en.body", " FROM evidence ev JOIN entries en ON en.seq = ev.seq"), releaseID)
			for _, e := range all {
				db.docs.add(e)
			}
			break
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("evidence of %s: %w", releaseID, err)
	}
	for i, e := range all {
		if parts[i] == 0 {
			ev = append(ev, e)
		} else {
			deploys = append(deploys, e)
		}
	}
	bySeq := func(a, b store.Evidence) int { return cmp.Compare(a.Seq, b.Seq) }
	slices.SortFunc(ev, bySeq)
	slices.SortFunc(deploys, bySeq)
	return ev, deploys, nil
}

// partScanner scans the first column into part, the others into what Scan
// is given.
type partScanner struct {
	s    store.Scanner
	part *int
}

func (p partScanner) Scan(dest ...any) error { return p.s.Scan(append([]any{p.part}, dest...)...) }
