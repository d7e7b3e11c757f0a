package sqlite

import (
	"encoding/json"
	"fmt"

	"github.com/localizevideos/shipgate/store"
)

func encBool(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// table is a query table (store.Table) with SQLite's insert placeholders.
// The row functions below give a record's values in its column order, both
// to insert them and, in Verify, to compare them with what is stored.
type table struct{ store.Table }

var (
	evidenceTable   = table{store.EvidenceTable}
	decisionsTable  = table{store.DecisionsTable}
	violationsTable = table{store.ViolationsTable}
	policiesTable   = table{store.PoliciesTable}
)

// insertSQL inserts one row of t with ? placeholders.
func (t table) insertSQL() string {
	return t.InsertSQL(func(int) string { return "?" })
}

func evidenceRow(ev store.Evidence) []any {
	return []any{ev.Digest, ev.Kind, ev.ReleaseID, ev.Service, ev.Environment, ev.Commit, ev.Source,
		store.FormatTime(ev.CollectedAt), ev.Seq, store.FormatTime(ev.AddedAt)}
}

func policyRow(p store.Policy) []any {
	return []any{p.Revision, int64(len(p.Modules)), p.Seq, store.FormatTime(p.AddedAt)}
}

func decisionRow(d store.Decision) []any {
	return []any{d.ID, d.ReleaseID, d.Service, d.Environment, d.Gate, encBool(d.Allow), encBool(d.DryRun),
		d.Reason, store.FormatTime(d.EvaluatedAt), d.Seq}
}

// violationRow also needs seq, the entry that opened v, which a Violation
// does not carry.
func violationRow(v store.Violation, seq int64) ([]any, error) {
	rules := v.Rules
	if rules == nil {
		rules = []string{}
	}
	r, err := json.Marshal(rules)
	if err != nil {
		return nil, err
	}
	var closedAt, closedBy any
	if v.Status == store.StatusClosed {
		closedAt, closedBy = store.FormatTime(v.ClosedAt), v.ClosedBy
	}
	return []any{v.ID, v.Kind, v.ReleaseID, v.Service, v.Environment, v.Gate, v.DecisionID, string(r),
		v.Actor, v.Message, store.FormatTime(v.OpenedAt), store.FormatTime(v.Due), v.Status, closedAt, closedBy, seq}, nil
}

// scanDecision reads decisionsTable's columns and the body of the entry.
func scanDecision(s store.Scanner) (store.Decision, error) {
	var d store.Decision
	var allow, dryRun int64
	var evaluated string
	var body []byte
	if err := s.Scan(&d.ID, &d.ReleaseID, &d.Service, &d.Environment, &d.Gate, &allow, &dryRun,
		&d.Reason, &evaluated, &d.Seq, &body); err != nil {
		return store.Decision{}, err
	}
	d.Allow, d.DryRun = allow != 0, dryRun != 0
	// A query that leaves the body out (a summary) selects NULL for it.
	if err := store.DecodeDecision(&d, evaluated, body); err != nil {
		return store.Decision{}, err
	}
	return d, nil
}

// scanViolation reads violationsTable's columns.
func scanViolation(s store.Scanner) (store.Violation, int64, error) {
	var v store.Violation
	var rules, opened, due string
	var closedAt, closedBy *string
	var seq int64
	if err := s.Scan(&v.ID, &v.Kind, &v.ReleaseID, &v.Service, &v.Environment, &v.Gate, &v.DecisionID,
		&rules, &v.Actor, &v.Message, &opened, &due, &v.Status, &closedAt, &closedBy, &seq); err != nil {
		return store.Violation{}, 0, err
	}
	if err := json.Unmarshal([]byte(rules), &v.Rules); err != nil {
		return store.Violation{}, 0, fmt.Errorf("violation %s: rules: %w", v.ID, err)
	}
	if len(v.Rules) == 0 {
		v.Rules = nil
	}
	if err := store.DecodeViolation(&v, opened, due, closedAt, closedBy); err != nil {
		return store.Violation{}, 0, err
	}
	return v, seq, nil
}
