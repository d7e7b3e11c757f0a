package postgres

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/localizevideos/shipgate/store"
)

// table is one query table: its name and columns, the key column first.
// The row functions below give a record's values in this order, both to
// insert them and, in Verify, to compare them with what is stored, as the
// Go values pgx reads back (text string, bigint int64, boolean bool, text[]
// []string, NULL nil).
type table struct {
	name string
	cols []string
}

var (
	evidenceTable = table{"evidence", []string{"digest", "kind", "release_id", "service", "environment",
		`"commit"`, "source", "collected_at", "seq", "added_at"}}
	decisionsTable = table{"decisions", []string{"id", "release_id", "service", "environment", "gate",
		"allow", "dry_run", "reason", "evaluated_at", "seq"}}
	violationsTable = table{"violations", []string{"id", "kind", "release_id", "service", "environment",
		"gate", "decision_id", "rules", "actor", "message", "opened_at", "due", "status", "closed_at",
		"closed_by", "seq"}}
	policiesTable = table{"policies", []string{"revision", "modules", "seq", "added_at"}}
)

func (t table) selectSQL() string {
	return "SELECT " + strings.Join(t.cols, ", ") + " FROM " + t.name
}

// prefixed returns t's columns qualified with alias, for joins.
func (t table) prefixed(alias string) string {
	cols := make([]string, len(t.cols))
	for i, c := range t.cols {
		cols[i] = alias + "." + c
	}
	return strings.Join(cols, ", ")
}

func (t table) insertSQL() string {
	params := make([]string, len(t.cols))
	for i := range params {
		params[i] = fmt.Sprintf("$%d", i+1)
	}
	return "INSERT INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") VALUES (" + strings.Join(params, ", ") + ")"
}

func evidenceRow(ev store.Evidence) []any {
	return []any{ev.Digest, ev.Kind, ev.ReleaseID, ev.Service, ev.Environment, ev.Commit, ev.Source,
		store.FormatTime(ev.CollectedAt), ev.Seq, store.FormatTime(ev.AddedAt)}
}

func policyRow(p store.Policy) []any {
	return []any{p.Revision, int64(len(p.Modules)), p.Seq, store.FormatTime(p.AddedAt)}
}

func decisionRow(d store.Decision) []any {
	return []any{d.ID, d.ReleaseID, d.Service, d.Environment, d.Gate, d.Allow, d.DryRun,
		d.Reason, store.FormatTime(d.EvaluatedAt), d.Seq}
}

// violationRow also needs seq, the entry that opened v, which a Violation
// does not carry.
func violationRow(v store.Violation, seq int64) []any {
	rules := v.Rules
	if rules == nil {
		rules = []string{}
	}
	var closedAt, closedBy any
	if v.Status == store.StatusClosed {
		closedAt, closedBy = store.FormatTime(v.ClosedAt), v.ClosedBy
	}
	return []any{v.ID, v.Kind, v.ReleaseID, v.Service, v.Environment, v.Gate, v.DecisionID, rules,
		v.Actor, v.Message, store.FormatTime(v.OpenedAt), store.FormatTime(v.Due), v.Status, closedAt, closedBy, seq}
}

// scanEvidence reads evidenceTable's columns and, after them, the body of
// the entry that recorded the evidence.
func scanEvidence(s pgx.Row) (store.Evidence, error) {
	var ev store.Evidence
	var collected, added string
	var body []byte
	if err := s.Scan(&ev.Digest, &ev.Kind, &ev.ReleaseID, &ev.Service, &ev.Environment, &ev.Commit,
		&ev.Source, &collected, &ev.Seq, &added, &body); err != nil {
		return store.Evidence{}, err
	}
	var err error
	if ev.CollectedAt, err = store.ParseTime(collected); err != nil {
		return store.Evidence{}, fmt.Errorf("evidence %s: collected_at: %w", ev.Digest, err)
	}
	if ev.AddedAt, err = store.ParseTime(added); err != nil {
		return store.Evidence{}, fmt.Errorf("evidence %s: added_at: %w", ev.Digest, err)
	}
	if ev.Body, err = store.Document(body); err != nil {
		return store.Evidence{}, fmt.Errorf("evidence %s: entry %d: %w", ev.Digest, ev.Seq, err)
	}
	if ev.Envelope, err = store.Envelope(body); err != nil {
		return store.Evidence{}, fmt.Errorf("evidence %s: entry %d: %w", ev.Digest, ev.Seq, err)
	}
	return ev, nil
}

// scanDecision reads decisionsTable's columns and the body of the entry.
func scanDecision(s pgx.Row) (store.Decision, error) {
	var d store.Decision
	var evaluated string
	var body []byte
	if err := s.Scan(&d.ID, &d.ReleaseID, &d.Service, &d.Environment, &d.Gate, &d.Allow, &d.DryRun,
		&d.Reason, &evaluated, &d.Seq, &body); err != nil {
		return store.Decision{}, err
	}
	var err error
	if d.EvaluatedAt, err = store.ParseTime(evaluated); err != nil {
		return store.Decision{}, fmt.Errorf("decision %s: evaluated_at: %w", d.ID, err)
	}
	// A query that leaves the body out (a summary) selects NULL for it.
	if body == nil {
		return d, nil
	}
	if d.Body, err = store.Payload(body); err != nil {
		return store.Decision{}, fmt.Errorf("decision %s: entry %d: %w", d.ID, d.Seq, err)
	}
	return d, nil
}

// scanViolation reads violationsTable's columns.
func scanViolation(s pgx.Row) (store.Violation, error) {
	var v store.Violation
	var opened, due string
	var closedAt, closedBy *string
	var seq int64
	if err := s.Scan(&v.ID, &v.Kind, &v.ReleaseID, &v.Service, &v.Environment, &v.Gate, &v.DecisionID,
		&v.Rules, &v.Actor, &v.Message, &opened, &due, &v.Status, &closedAt, &closedBy, &seq); err != nil {
		return store.Violation{}, err
	}
	if len(v.Rules) == 0 {
		v.Rules = nil
	}
	var err error
	if v.OpenedAt, err = store.ParseTime(opened); err != nil {
		return store.Violation{}, fmt.Errorf("violation %s: opened_at: %w", v.ID, err)
	}
	if v.Due, err = store.ParseTime(due); err != nil {
		return store.Violation{}, fmt.Errorf("violation %s: due: %w", v.ID, err)
	}
	if closedAt != nil {
		if v.ClosedAt, err = store.ParseTime(*closedAt); err != nil {
			return store.Violation{}, fmt.Errorf("violation %s: closed_at: %w", v.ID, err)
		}
	}
	if closedBy != nil {
		v.ClosedBy = *closedBy
	}
	return v, nil
}
