package store

import (
	"fmt"

	"github.com/localizevideos/shipgate/ledger"
)

// Record is an entry to append with the record its query-table row holds,
// both built by one constructor (NewEvidence, NewDecision, NewOpened,
// NewPolicy) before a store takes its write lock: canonical JSON, digests
// and the checks of what the caller gave against the documents are the
// slow part, and none of it depends on the ledger head. Inside the lock a
// store chains Entry and stamps Rec with what the chained entry adds: its
// sequence number and time (Stamp).
type Record[T any] struct {
	Entry ledger.Entry
	Rec   T
}

// NewEvidence returns the entry that records ev (see EvidenceEntry) and
// the evidence as a store will hold it once Stamp filled in Seq and
// AddedAt: what EvidenceOf reads back from the entry.
func NewEvidence(ev Evidence) (Record[Evidence], error) {
	e, rec, err := evidenceEntry(ev)
	return Record[Evidence]{e, rec}, err
}

// NewDecision returns the entry that records d (see DecisionEntry) and the
// decision as DecisionOf reads it back, but for Seq.
func NewDecision(d Decision) (Record[Decision], error) {
	e, rec, err := decisionEntry(d)
	return Record[Decision]{e, rec}, err
}

// NewOpened returns the entry that opens v (see OpenedEntry) and the
// violation as ViolationOf reads it back.
func NewOpened(v Violation) (Record[Violation], error) {
	e, err := OpenedEntry(v)
	if err != nil {
		return Record[Violation]{}, err
	}
	rec, err := ViolationOf(e)
	return Record[Violation]{e, rec}, err
}

// NewPolicy returns the entry that records p (see PolicyEntry) and the
// policy set as PolicyOf reads it back, but for Seq and AddedAt.
func NewPolicy(p Policy) (Record[Policy], error) {
	e, err := PolicyEntry(p)
	if err != nil {
		return Record[Policy]{}, err
	}
	rec, err := PolicyOf(e)
	return Record[Policy]{e, rec}, err
}

// Stamp returns r's record as the chained entry e (r.Entry with its
// sequence number, time and hash) leaves it.
func (r Record[T]) Stamp(e ledger.Entry) T {
	rec := r.Rec
	switch p := any(&rec).(type) {
	case *Evidence:
		p.Seq, p.AddedAt = e.Seq, e.Time
	case *Decision:
		p.Seq = e.Seq
	case *Policy:
		p.Seq, p.AddedAt = e.Seq, e.Time
	}
	return rec
}

// DecisionEntries are the records a RecordDecision appends, built before
// the store takes its write lock. Inside the lock a store only looks up
// which keys it holds, chains and inserts.
type DecisionEntries struct {
	// Evidence holds one record per distinct digest, in the order given;
	// a store appends those it does not hold yet.
	Evidence []Record[Evidence]
	// Policy is the policy set's record, when one was given; a store
	// appends it unless it holds the revision.
	Policy *Record[Policy]
	// Decision is the decision's record; a store holding its key refuses
	// the whole write with ErrDuplicate.
	Decision Record[Decision]
	// Opened holds one record per violation opened, each naming
	// Decision's id; a store holding any key refuses the whole write with
	// ErrDuplicate.
	Opened []Record[Violation]
}

// PrepareDecision builds the records of d with the violations it opens and
// the evidence it was given (see RecordDecision of a store). An opened
// violation with an empty DecisionID is d's; one naming another decision
// is an error.
func PrepareDecision(d Decision, opened []Violation, ev []Evidence) (*DecisionEntries, error) {
	var p DecisionEntries
	seen := make(map[string]bool, len(ev))
	for _, e := range ev {
		r, err := NewEvidence(e)
		if err != nil {
			return nil, err
		}
		if seen[r.Entry.Key] {
			continue
		}
		seen[r.Entry.Key] = true
		p.Evidence = append(p.Evidence, r)
	}
	var err error
	if p.Decision, err = NewDecision(d); err != nil {
		return nil, err
	}
	if d.Policy != nil {
		r, err := NewPolicy(*d.Policy)
		if err != nil {
			return nil, err
		}
		p.Policy = &r
	}
	for _, v := range opened {
		if v.DecisionID == "" {
			v.DecisionID = p.Decision.Entry.Key
		}
		if v.DecisionID != p.Decision.Entry.Key {
			return nil, fmt.Errorf("violation %s: opened by decision %s, not %s", v.ID, v.DecisionID, p.Decision.Entry.Key)
		}
		r, err := NewOpened(v)
		if err != nil {
			return nil, err
		}
		p.Opened = append(p.Opened, r)
	}
	return &p, nil
}
