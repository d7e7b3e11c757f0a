package store

import (
	"context"
	"time"

	"github.com/localizevideos/shipgate/ledger"
)

// Store is the store contract, declared once: the ledger, its query tables
// and the token table as the server, the CLI and the storetest suite use
// them. store/sqlstore provides it, over the database store/sqlite or
// store/postgres opens.
type Store interface {
	AddEvidence(ctx context.Context, now time.Time, docs []Evidence) ([]Evidence, error)
	Evidence(ctx context.Context, releaseID string) ([]Evidence, error)
	EvidenceByDigest(ctx context.Context, digest string) (Evidence, error)
	EvidenceOfKinds(ctx context.Context, releaseID string, kinds ...string) ([]Evidence, error)
	ServiceEvidence(ctx context.Context, service, kind string) ([]Evidence, error)
	RecordDecision(ctx context.Context, now time.Time, d Decision, opened []Violation, ev []Evidence) error
	Decision(ctx context.Context, id string) (Decision, error)
	Decisions(ctx context.Context, releaseID string) ([]Decision, error)
	ServiceDecisions(ctx context.Context, service, gate string) ([]Decision, error)
	Violation(ctx context.Context, id string) (Violation, error)
	Violations(ctx context.Context, f Filter) ([]Violation, error)
	ClosePostmortem(ctx context.Context, now time.Time, pm Evidence, ids []string) ([]Violation, error)
	Releases(ctx context.Context, now time.Time) ([]ReleaseSummary, error)
	Policy(ctx context.Context, revision string) (Policy, error)

	// Rows, Entry and Len read the ledger itself; Verify checks it and
	// the query tables against it.
	Rows(ctx context.Context, fn func(ledger.Row) error) error
	Entry(ctx context.Context, seq int64) (ledger.Entry, error)
	Len(ctx context.Context) (int64, error)
	Verify(ctx context.Context, cp *ledger.Checkpoint) (ledger.Head, error)

	// The token table (what package auth needs).
	CreateToken(ctx context.Context, t Token) error
	TokenByHash(ctx context.Context, hash string) (Token, error)
	Tokens(ctx context.Context) ([]Token, error)
	RevokeToken(ctx context.Context, id, by string, at time.Time) (Token, error)

	// Ping runs a real query: readiness.
	Ping(ctx context.Context) error
	Close() error
}
