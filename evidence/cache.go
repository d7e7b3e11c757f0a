package evidence

import (
	"crypto/sha256"
	"sync"
)

// Bounds of a decodeCache: documents read back from the ledger are few per
// release, and a server sees the releases of a day or so again and again.
const (
	cacheEntries = 1024
	// cacheBytes bounds the bytes decoded by the cached documents; their
	// decoded form takes a few times that.
	cacheBytes = 16 << 20
)

// decodeCache remembers the documents a ledger Validator (ForLedger) has
// decoded, by the SHA-256 of the very bytes it was given and the keyring
// it verified their signatures with. What Decode returns is a function of
// those bytes, the schemas, the limits and the trusted keys alone: the
// schemas and limits are fixed for every copy of one NewValidator (which
// alone makes a cache), the keyring is in the key (with its generation, so
// a key added later is seen). A hit returns the same Document as decoding
// again would (Source is the caller's), without parsing, validating,
// verifying signatures and canonicalizing again. Only successes are kept:
// a rejection is decoded again each time, to name its source.
//
// A cached Document is shared by every decision that reads it: Documents
// are never changed once decoded (the engine copies one to add signers).
type decodeCache struct {
	mu    sync.Mutex
	docs  map[cacheKey]cached
	bytes int
}

type cached struct {
	doc  *Document
	size int // len of the bytes decoded
}

type cacheKey struct {
	sum  [sha256.Size]byte
	keys *Keyring
	gen  uint64
}

func newDecodeCache() *decodeCache {
	return &decodeCache{docs: map[cacheKey]cached{}}
}

// decode is v.decode(source, b), remembered.
func (c *decodeCache) decode(v *Validator, source string, b []byte) (*Document, error) {
	key := cacheKey{sum: sha256.Sum256(b), keys: v.keys, gen: v.keys.generation()}
	c.mu.Lock()
	hit := c.docs[key]
	c.mu.Unlock()
	if hit.doc != nil {
		d := *hit.doc
		d.Source = source
		return &d, nil
	}
	doc, err := v.decode(source, b)
	if err != nil || len(b) > cacheBytes {
		return doc, err
	}
	kept := *doc
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.docs[key]; !ok {
		// Evict arbitrary entries (map order) until the new one fits.
		for k, d := range c.docs {
			if len(c.docs) < cacheEntries && c.bytes+len(b) <= cacheBytes {
				break
			}
			c.bytes -= d.size
			delete(c.docs, k)
		}
		c.docs[key] = cached{&kept, len(b)}
		c.bytes += len(b)
	}
	return doc, nil
}
