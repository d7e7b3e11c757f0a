package store

import (
	"fmt"

	"github.com/localizevideos/shipgate/ledger"
)

// DecisionEntries are the entries a RecordDecision appends, computed before
// the store takes its write lock: canonical JSON, digests and the checks
// of what the caller gave against the documents are the slow part, and
// none of it depends on the ledger head. Inside the lock a store only
// looks up which keys it holds, chains and inserts.
type DecisionEntries struct {
	// Evidence holds one template per distinct digest, in the order given;
	// a store appends those it does not hold yet.
	Evidence []ledger.Entry
	// Policy is the policy set's entry, when one was given; a store
	// appends it unless it holds the revision.
	Policy *ledger.Entry
	// Decision is the decision's entry; a store holding its key refuses
	// the whole write with ErrDuplicate.
	Decision ledger.Entry
	// Opened holds one entry per violation opened, each naming Decision's
	// id; a store holding any key refuses the whole write with ErrDuplicate.
	Opened []ledger.Entry
}

// PrepareDecision computes the entries that record d with the violations
// it opens and the evidence it was given (see RecordDecision of a store).
// An opened violation with an empty DecisionID is d's; one naming another
// decision is an error.
func PrepareDecision(d Decision, opened []Violation, ev []Evidence) (*DecisionEntries, error) {
	var p DecisionEntries
	seen := make(map[string]bool, len(ev))
	for _, e := range ev {
		tmpl, err := EvidenceEntry(e)
		if err != nil {
			return nil, err
		}
		if seen[tmpl.Key] {
			continue
		}
		seen[tmpl.Key] = true
		p.Evidence = append(p.Evidence, tmpl)
	}
	var err error
	if p.Decision, err = DecisionEntry(d); err != nil {
		return nil, err
	}
	if d.Policy != nil {
		tmpl, err := PolicyEntry(*d.Policy)
		if err != nil {
			return nil, err
		}
		p.Policy = &tmpl
	}
	for _, v := range opened {
		if v.DecisionID == "" {
			v.DecisionID = p.Decision.Key
		}
		if v.DecisionID != p.Decision.Key {
			return nil, fmt.Errorf("violation %s: opened by decision %s, not %s", v.ID, v.DecisionID, p.Decision.Key)
		}
		tmpl, err := OpenedEntry(v)
		if err != nil {
			return nil, err
		}
		p.Opened = append(p.Opened, tmpl)
	}
	return &p, nil
}
