package store

import (
	"bytes"
	"sync"

	"github.com/localizevideos/shipgate/ledger"
)

// HeadCache remembers the last ledger head a store handle parsed or
// wrote, with its stored body. Every write still reads the head's body
// inside its transaction; only when those bytes are the ones remembered is
// the parse (a full canonical-JSON pass) skipped, since the same bytes
// parse to the same entry. The zero value is ready to use.
type HeadCache struct {
	mu   sync.Mutex
	ok   bool
	seq  int64
	body []byte
	head ledger.Entry
}

// Parse returns the entry stored at seq with body, as ledger.Parse does.
func (c *HeadCache) Parse(seq int64, body []byte) (ledger.Entry, error) {
	c.mu.Lock()
	if c.ok && c.seq == seq && bytes.Equal(c.body, body) {
		e := c.head
		c.mu.Unlock()
		return e, nil
	}
	c.mu.Unlock()
	e, err := ledger.Parse(body)
	if err == nil {
		c.Set(seq, e, body)
	}
	return e, err
}

// Set remembers e, stored at seq with body, once its transaction committed.
func (c *HeadCache) Set(seq int64, e ledger.Entry, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ok, c.seq, c.head, c.body = true, seq, e, bytes.Clone(body)
}
