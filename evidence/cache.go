package evidence

import (
	"bytes"
	"hash/maphash"
	"sync"
)

// Bounds of a decodeCache: documents read back from the ledger are few per
// release, and a server sees the releases of a day or so again and again.
const (
	cacheEntries = 1024
	// cacheBytes bounds the bytes decoded by the cached documents, which
	// the cache keeps; their decoded form takes a few times that.
	cacheBytes = 16 << 20
)

// decodeCache remembers the documents a ledger Validator (ForLedger) has
// decoded, by the very bytes it was given (kept, and compared on a hit:
// their hash only finds them) and the keyring it verified their signatures
// with. What Decode returns is a function of those bytes, the schemas, the
// limits and the trusted keys alone: the schemas and limits are fixed for
// every copy of one NewValidator (which alone makes a cache), the keyring
// is in the key (with its generation, so a key added later is seen). A hit
// returns the same Document as decoding again would (Source is the
// caller's), without parsing, validating, verifying signatures and
// canonicalizing again. Only successes are kept: a rejection is decoded
// again each time, to name its source.
//
// A cached Document is shared by every decision that reads it: Documents
// are never changed once decoded (the engine copies one to add signers).
type decodeCache struct {
	seed  maphash.Seed
	mu    sync.Mutex
	docs  map[cacheKey]cached
	bytes int
}

type cached struct {
	doc *Document
	b   []byte // the bytes decoded
}

type cacheKey struct {
	hash uint64 // maphash of the bytes decoded
	keys *Keyring
	gen  uint64
}

func newDecodeCache() *decodeCache {
	return &decodeCache{seed: maphash.MakeSeed(), docs: map[cacheKey]cached{}}
}

// decode is v.decode(source, b), remembered.
func (c *decodeCache) decode(v *Validator, source string, b []byte) (*Document, error) {
	key := cacheKey{hash: maphash.Bytes(c.seed, b), keys: v.keys, gen: v.keys.generation()}
	c.mu.Lock()
	hit := c.docs[key]
	c.mu.Unlock()
	if hit.doc != nil && bytes.Equal(hit.b, b) {
		d := *hit.doc
		d.Source = source
		return &d, nil
	}
	doc, err := v.decode(source, b)
	if err != nil || len(b) > cacheBytes {
		return doc, err
	}
	kept := cached{doc: new(*doc), b: bytes.Clone(b)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.docs[key]; ok {
		// Other bytes of the same hash: the newer ones take the place.
		c.bytes -= len(old.b)
		delete(c.docs, key)
	}
	// Evict arbitrary entries (map order) until the new one fits.
	for k, d := range c.docs {
		if len(c.docs) < cacheEntries && c.bytes+len(b) <= cacheBytes {
			break
		}
		c.bytes -= len(d.b)
		delete(c.docs, k)
	}
	c.docs[key] = kept
	c.bytes += len(b)
	return doc, nil
}
