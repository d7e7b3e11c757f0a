package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/localizevideos/shipgate/store"
)

// Group commit. Every write of a handle goes through its committer, one
// goroutine: it takes the first write queued, then every other one queued
// meanwhile (up to maxBatch), runs them one after the other in one
// transaction and commits once, so concurrent writers share one commit and
// one fsync (or one round trip to PostgreSQL's WAL flush). Each caller is
// answered only after that commit: a nil answer means durable.
//
// A write that fails on its own, before touching the database (a duplicate
// id, an unknown violation), is answered with its error and undone in
// memory; the others go on. A failed statement or commit fails every write
// of the batch with that error: nothing of the batch is recorded. A write
// that must read what it changes (closing violations) runs alone.

// maxBatch bounds the writes one transaction takes.
const maxBatch = 256

// errClosed answers writes to a closed handle.
var errClosed = errors.New("the ledger is closed")

// request is one write waiting for the committer.
type request struct {
	ctx  context.Context
	now  time.Time
	solo bool
	// entries, when set, are the decision fn records: the keys of every
	// decision of a batch are looked up at once (tx.loadHead).
	entries *store.DecisionEntries
	fn      func(*tx) error
	done    chan error
}

// group is a handle's committer.
type group struct {
	db     *DB
	queue  chan *request
	quit   chan struct{}
	exited chan struct{}
	once   sync.Once
}

func newGroup(db *DB) *group {
	g := &group{db: db, queue: make(chan *request), quit: make(chan struct{}), exited: make(chan struct{})}
	go g.loop()
	return g
}

// do queues fn, to run in a write transaction with now as the time of
// every entry it appends (solo: alone in it; entries: the decision it
// records, if it records one), and waits for the commit. A
// caller whose ctx ends before the committer takes the write is answered
// at once, and nothing of it is written; once taken, the write is answered
// with the outcome of its commit.
func (g *group) do(ctx context.Context, now time.Time, solo bool, entries *store.DecisionEntries, fn func(*tx) error) error {
	if now.IsZero() {
		return errors.New("no time for the ledger entries")
	}
	r := &request{ctx: ctx, now: now, solo: solo, entries: entries, fn: fn, done: make(chan error, 1)}
	select {
	case g.queue <- r:
	case <-g.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-r.done
}

// stop ends the committer once the batch it runs is answered.
func (g *group) stop() {
	g.once.Do(func() { close(g.quit) })
	<-g.exited
}

func (g *group) loop() {
	defer close(g.exited)
	var next *request
	for {
		r := next
		next = nil
		if r == nil {
			select {
			case r = <-g.queue:
			case <-g.quit:
				return
			}
		}
		batch := []*request{r}
	collect:
		for !r.solo && len(batch) < maxBatch {
			select {
			case n := <-g.queue:
				if n.solo {
					next = n
					break collect
				}
				batch = append(batch, n)
			default:
				break collect
			}
		}
		g.db.commit(batch)
	}
}

// commit runs batch in one transaction and answers each write.
func (db *DB) commit(batch []*request) {
	errs := make([]error, len(batch))
	// The transaction serves every caller: one leaving does not end it.
	err := db.inTx(context.WithoutCancel(batch[0].ctx), batch, func(t *tx) error {
		for i, r := range batch {
			if errs[i] = r.ctx.Err(); errs[i] != nil {
				continue
			}
			t.now = r.now
			m := t.mark()
			if errs[i] = r.fn(t); errs[i] != nil {
				if r.solo || t.broken || !t.restore(m) {
					return errs[i]
				}
			}
		}
		return t.flush()
	})
	for i, r := range batch {
		if errs[i] == nil {
			errs[i] = err
		}
		r.done <- errs[i]
	}
}

// inTx runs fn in one write transaction holding the write lock, and
// commits unless fn fails; before fn, it reads the head and the keys of
// the decisions batch records (tx.loadHead). The lock comes first: the
// head is read after the previous writer committed, and nothing else is
// locked before it, so writers cannot deadlock.
func (db *DB) inTx(ctx context.Context, batch []*request, fn func(*tx) error) error {
	stx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		// Beginning changes nothing: a connection that broke while idle
		// in the pool (the server restarted, a proxy closed it) fails it,
		// and is not given again.
		stx, err = db.sql.BeginTx(ctx, nil)
	}
	if err != nil {
		return fmt.Errorf("ledger %s: begin: %w", db.name, err)
	}
	t := &tx{Tx: stx, db: db, ctx: ctx, held: map[string]bool{}}
	if db.d.Lock != "" {
		if _, err := stx.ExecContext(ctx, db.d.Lock); err != nil {
			stx.Rollback()
			return fmt.Errorf("ledger %s: lock: %w", db.name, err)
		}
	}
	if err := t.loadHead(batch); err != nil {
		stx.Rollback()
		return err
	}
	if err := fn(t); err != nil {
		stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("ledger %s: commit: %w", db.name, err)
	}
	if t.headBody != nil {
		db.heads.Set(t.head.Seq, *t.head, t.headBody)
	}
	return nil
}
