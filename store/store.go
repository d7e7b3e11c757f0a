// Package store holds the records the ledger keeps, shared by every store
// implementation (store/sqlite, the embedded default; store/postgres for
// several servers). A store appends ledger entries and updates its query
// tables in one transaction, so what it answers is always what the ledger
// says. The behaviour every store must have is the storetest suite.
//
// The mapping between records and ledger entries lives here too
// (EvidenceEntry, DecisionOf, …), with the Projection a store's Verify
// rebuilds from the entries alone: every store writes the same entries,
// byte for byte, and checks its query tables the same way.
package store

import (
	"errors"
	"fmt"
	"time"
)

// Errors a store returns for callers to branch on.
var (
	ErrNotFound = errors.New("not found")
	// ErrClosed is returned when closing a violation that is already closed.
	ErrClosed = errors.New("already closed")
	// ErrDuplicate is returned when recording a decision or violation whose
	// id the ledger already holds.
	ErrDuplicate = errors.New("already recorded")
)

// ProjectionError reports a query table that no longer says what the ledger
// says: a row changed, added or removed behind the store's back. The ledger
// itself verified; the table can be rebuilt from it.
type ProjectionError struct {
	Table  string
	Key    string
	Reason string
}

func (e *ProjectionError) Error() string {
	return fmt.Sprintf("table %s, row %s: %s", e.Table, e.Key, e.Reason)
}

// Evidence is one stored evidence document.
type Evidence struct {
	Digest      string
	Kind        string
	ReleaseID   string
	Service     string
	Environment string
	Commit      string
	Source      string
	CollectedAt time.Time
	// Body is the document's canonical JSON (RFC 8785); its SHA-256 is Digest.
	Body []byte
	// Envelope, when the document came signed, is the canonical JSON of its
	// DSSE envelope, whose payload is the document; nil for a bare one.
	Envelope []byte
	// Seq is the ledger entry that recorded it; AddedAt the entry's time.
	Seq     int64
	AddedAt time.Time
}

// Decision is one recorded gate decision.
type Decision struct {
	ID          string
	ReleaseID   string
	Service     string
	Environment string
	Gate        string
	Allow       bool
	DryRun      bool
	Reason      string
	EvaluatedAt time.Time
	// Body is the JSON of the decision and the input it was made from, as
	// the gate wrote it; stored canonically.
	Body []byte
	Seq  int64
	// Policy, when set, is the policy set the decision was made under
	// (its revision must be the body's policy.revision): RecordDecision
	// records it in the same transaction unless the ledger holds that
	// revision already. It is never read back here: see the store's Policy.
	Policy *Policy
}

// Violation kinds: a denial, or an obligation an allowed release carries
// (the postmortem of an emergency release).
const (
	KindViolation  = "violation"
	KindObligation = "obligation"
)

// Violation states.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Violation is a production violation or obligation, open until a
// Postmortem closes it.
type Violation struct {
	ID          string
	Kind        string
	ReleaseID   string
	Service     string
	Environment string
	Gate        string
	DecisionID  string
	Rules       []string
	Actor       string
	Message     string
	OpenedAt    time.Time
	Due         time.Time
	Status      string
	// ClosedAt and ClosedBy (the Postmortem's digest) are set once closed.
	ClosedAt time.Time
	ClosedBy string
}

// Filter selects violations; empty fields match everything.
type Filter struct {
	Status    string
	Service   string
	ReleaseID string
}

// ReleaseReads is what a decision reads of the ledger before it knows its
// release's service, read at once (sqlstore's ReleaseReads): the release's
// evidence, as Evidence(releaseID) returns it, and, of every service a
// Plan among that evidence names, the Deploy documents, as
// ServiceEvidence(service, "Deploy") returns them (in ledger order,
// services mixed), and, when OpenRead says they were read, the open
// violations, as Violations(Filter{Status: StatusOpen, Service: service})
// returns them (by due date then id, services mixed).
type ReleaseReads struct {
	Evidence, Deploys []Evidence
	Open              []Violation
	OpenRead          bool
}
