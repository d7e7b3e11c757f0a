package sqlstore

import (
	"context"
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
