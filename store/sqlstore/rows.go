package sqlstore

import (
	"database/sql"
	"fmt"

	"github.com/localizevideos/shipgate/store"
)

// The row functions give a record's values in its table's column order
// (store.Table), both to insert them and, in Verify, to compare them with
// what is stored. A violation's rules are a []string here; the dialect
// says how the database keeps them.

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

// rulesCol is the index of rules in violationRow.
const rulesCol = 7

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

// scanDecision reads decisionsTable's columns and the body of the entry.
func scanDecision(s store.Scanner) (store.Decision, error) {
	var d store.Decision
	var evaluated string
	var body []byte
	if err := s.Scan(&d.ID, &d.ReleaseID, &d.Service, &d.Environment, &d.Gate, &d.Allow, &d.DryRun,
		&d.Reason, &evaluated, &d.Seq, &body); err != nil {
		return store.Decision{}, err
	}
	// A query that leaves the body out (a summary) selects NULL for it.
	if err := store.DecodeDecision(&d, evaluated, body); err != nil {
		return store.Decision{}, err
	}
	return d, nil
}

// scanViolation reads violationsTable's columns, the rules as the dialect
// keeps them.
func (db *DB) scanViolation(s store.Scanner) (store.Violation, error) {
	var v store.Violation
	var opened, due string
	var closedAt, closedBy *string
	var seq int64
	if err := s.Scan(&v.ID, &v.Kind, &v.ReleaseID, &v.Service, &v.Environment, &v.Gate, &v.DecisionID,
		stringsScanner{&v.Rules, db.d.ParseStrings}, &v.Actor, &v.Message, &opened, &due, &v.Status, &closedAt, &closedBy, &seq); err != nil {
		return store.Violation{}, err
	}
	if len(v.Rules) == 0 {
		v.Rules = nil
	}
	if err := store.DecodeViolation(&v, opened, due, closedAt, closedBy); err != nil {
		return store.Violation{}, err
	}
	return v, nil
}

// stringsScanner scans a list of strings as the dialect keeps it.
type stringsScanner struct {
	dst   *[]string
	parse func(src any) ([]string, error)
}

func (s stringsScanner) Scan(src any) error {
	l, err := s.parse(src)
	*s.dst = l
	return err
}

// values is a row read whole into driver values (what Scan into *any
// gives), scanned again part by part: the scan functions read the columns
// of one table of a row that holds several.
type values []any

// Scan converts the values into dest as database/sql does.
func (v values) Scan(dest ...any) error {
	if len(dest) != len(v) {
		return fmt.Errorf("scan %d columns into %d", len(v), len(dest))
	}
	for i, d := range dest {
		if err := assign(d, v[i]); err != nil {
			return fmt.Errorf("column %d: %w", i+1, err)
		}
	}
	return nil
}

// assign converts src, a driver value, into dst, one of the destinations
// the scan functions use, as database/sql's Scan does: NULL only into a
// Scanner, bytes or a pointer.
func assign(dst, src any) error {
	switch d := dst.(type) {
	case sql.Scanner:
		return d.Scan(src)
	case *string:
		if v, ok := src.(string); ok {
			*d = v
			return nil
		}
		return notNull(d, src)
	case *int64:
		if v, ok := src.(int64); ok {
			*d = v
			return nil
		}
		return notNull(d, src)
	case *[]byte:
		if b, ok := src.([]byte); ok || src == nil {
			// Scan into *any copied the bytes already.
			*d = b
			return nil
		}
		return notNull(d, src)
	case **string:
		if src == nil {
			*d = nil
			return nil
		}
		var s string
		if err := notNull(&s, src); err != nil {
			return err
		}
		*d = &s
		return nil
	}
	return fmt.Errorf("scan into %T", dst)
}

// notNull converts src into d, refusing NULL.
func notNull[T any](d *T, src any) error {
	var n sql.Null[T]
	if err := n.Scan(src); err != nil {
		return err
	}
	if !n.Valid {
		return fmt.Errorf("NULL into %T", *d)
	}
	*d = n.V
	return nil
}
