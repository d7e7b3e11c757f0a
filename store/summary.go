package store

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ReleaseSummary is one release as a list shows it, computed by the store
// over its query tables without reading any evidence document.
type ReleaseSummary struct {
	ID          string
	Service     string
	Environment string
	// Commit is the Plan's commit, else the first document's.
	Commit string
	// Evidence and Decisions count the recorded documents and decisions.
	Evidence, Decisions int
	// Kinds lists the evidence kinds recorded, sorted.
	Kinds []string
	// Latest holds the latest decision of each gate that is not a dry run,
	// by gate name, without Body (read one with the store's Decision).
	Latest []Decision
	// Last is the most recent decision, dry runs included (nil when none),
	// without Body.
	Last *Decision
	// Open counts the open violations and obligations; Overdue those of
	// them due before the time the summary was asked at.
	Open, Overdue int
	// LastEntry is the release's most recent ledger entry (evidence or
	// decision); LastEvidenceAt when its latest document was recorded.
	LastEntry      int64
	LastEvidenceAt time.Time
}

// Summary queries, in the SQL both stores speak (a store rewrites the
// placeholders). Times are kept as FormatTime text, so text order is time
// order.
const (
	// SummaryEvidenceSQL: release_id, kind, count, min seq, max seq,
	// max added_at, and the service, environment and commit of the first
	// document of that kind.
	SummaryEvidenceSQL = `SELECT ev.release_id, ev.kind, g.n, g.first, g.last, g.added, ev.service, ev.environment, ev."commit"
FROM (SELECT release_id, kind, COUNT(*) AS n, MIN(seq) AS first, MAX(seq) AS last, MAX(added_at) AS added
      FROM evidence GROUP BY release_id, kind) g
JOIN evidence ev ON ev.seq = g.first`
	// SummaryCountsSQL: release_id, decision count, max seq.
	SummaryCountsSQL = `SELECT release_id, COUNT(*), MAX(seq) FROM decisions GROUP BY release_id`
	// SummaryLatestWhere selects, after a store's decision columns, the
	// latest non-dry-run decision of each gate and release, and each
	// release's latest decision; last says which.
	SummaryLatestWhere = ` WHERE d.seq IN (SELECT MAX(seq) FROM decisions WHERE NOT dry_run GROUP BY release_id, gate)
   OR d.seq IN (SELECT MAX(seq) FROM decisions GROUP BY release_id) ORDER BY d.seq`
	// SummaryOpenSQL: release_id, open count, overdue count at ?.
	SummaryOpenSQL = `SELECT release_id, COUNT(*), SUM(CASE WHEN due < ? THEN 1 ELSE 0 END) FROM violations
WHERE status = 'open' GROUP BY release_id`
)

// SummaryBuilder assembles ReleaseSummaries from the rows of the summary
// queries, in the order of the Scan methods below.
type SummaryBuilder struct {
	byID  map[string]*ReleaseSummary
	first map[string]int64 // seq of the document the service was taken from
	last  map[int64]bool
}

func (b *SummaryBuilder) get(id string) *ReleaseSummary {
	if b.byID == nil {
		b.byID, b.first, b.last = map[string]*ReleaseSummary{}, map[string]int64{}, map[int64]bool{}
	}
	r := b.byID[id]
	if r == nil {
		r = &ReleaseSummary{ID: id}
		b.byID[id] = r
	}
	return r
}

// Scanner is a row of a query: *sql.Rows, pgx.Rows.
type Scanner interface{ Scan(dest ...any) error }

// ScanEvidence adds the row r of SummaryEvidenceSQL.
func (b *SummaryBuilder) ScanEvidence(r Scanner) error {
	var release, kind, added, service, env, commit string
	var n int
	var first, last int64
	if err := r.Scan(&release, &kind, &n, &first, &last, &added, &service, &env, &commit); err != nil {
		return err
	}
	at, err := ParseTime(added)
	if err != nil {
		return fmt.Errorf("evidence of %s: added_at: %w", release, err)
	}
	rs := b.get(release)
	rs.Evidence += n
	rs.Kinds = append(rs.Kinds, kind)
	rs.LastEntry = max(rs.LastEntry, last)
	if at.After(rs.LastEvidenceAt) {
		rs.LastEvidenceAt = at
	}
	if f, ok := b.first[release]; !ok || first < f {
		b.first[release] = first
		rs.Service, rs.Environment = service, env
		if !slices.Contains(rs.Kinds[:len(rs.Kinds)-1], "Plan") {
			rs.Commit = commit
		}
	}
	if kind == "Plan" {
		rs.Commit = commit
	}
	return nil
}

// ScanCounts adds the row r of SummaryCountsSQL.
func (b *SummaryBuilder) ScanCounts(r Scanner) error {
	var release string
	var n int
	var last int64
	if err := r.Scan(&release, &n, &last); err != nil {
		return err
	}
	rs := b.get(release)
	rs.Decisions = n
	rs.LastEntry = max(rs.LastEntry, last)
	b.last[last] = true
	return nil
}

// Decision adds a decision the SummaryLatestWhere query selects, once
// every ScanCounts row is in.
func (b *SummaryBuilder) Decision(d Decision) {
	r := b.get(d.ReleaseID)
	if r.Service == "" {
		r.Service, r.Environment = d.Service, d.Environment
	}
	if b.last[d.Seq] {
		last := d
		r.Last = &last
	}
	if d.DryRun {
		return
	}
	if i := slices.IndexFunc(r.Latest, func(x Decision) bool { return x.Gate == d.Gate }); i >= 0 {
		if r.Latest[i].Seq < d.Seq {
			r.Latest[i] = d
		}
		return
	}
	r.Latest = append(r.Latest, d)
}

// ScanOpen adds the row r of SummaryOpenSQL; releases not added yet are
// left out.
func (b *SummaryBuilder) ScanOpen(r Scanner) error {
	var release string
	var open, overdue int
	if err := r.Scan(&release, &open, &overdue); err != nil {
		return err
	}
	if rs := b.byID[release]; rs != nil {
		rs.Open, rs.Overdue = open, overdue
	}
	return nil
}

// Summaries returns the releases, the most recent ledger entry first.
func (b *SummaryBuilder) Summaries() []ReleaseSummary {
	out := make([]ReleaseSummary, 0, len(b.byID))
	for _, r := range b.byID {
		slices.Sort(r.Kinds)
		slices.SortFunc(r.Latest, func(a, b Decision) int { return cmp.Compare(a.Gate, b.Gate) })
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b ReleaseSummary) int {
		return cmp.Or(cmp.Compare(b.LastEntry, a.LastEntry), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// Query runs query with args and calls fn on every row, as a store's read
// path does; Summarize takes one to stay free of any driver.
type Query func(fn func(Scanner) error, query string, args ...any) error

// Summarize builds the summaries of every release (the store's Releases)
// from the query tables: each runs the queries, scanDecision reads a
// DecisionsTable row followed by a NULL body, and param is the store's
// first placeholder ("?" or "$1").
func Summarize(each Query, scanDecision func(Scanner) (Decision, error), param string, now time.Time) ([]ReleaseSummary, error) {
	var b SummaryBuilder
	err := each(b.ScanEvidence, SummaryEvidenceSQL)
	if err == nil {
		err = each(b.ScanCounts, SummaryCountsSQL)
	}
	if err == nil {
		err = each(func(r Scanner) error {
			d, err := scanDecision(r)
			if err == nil {
				b.Decision(d)
			}
			return err
		}, "SELECT "+DecisionsTable.Prefixed("d")+", NULL FROM decisions d"+SummaryLatestWhere)
	}
	if err == nil {
		err = each(b.ScanOpen, strings.Replace(SummaryOpenSQL, "?", param, 1), FormatTime(now))
	}
	if err != nil {
		return nil, fmt.Errorf("summarize releases: %w", err)
	}
	return b.Summaries(), nil
}
