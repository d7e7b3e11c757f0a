package store

import "strings"

// Table is one query table as every store keeps it: its name and columns,
// the key column first. A store's row functions give a record's values in
// this order, both to insert them and, in Verify, to compare them with what
// is stored (CompareRows).
type Table struct {
	Name string
	Cols []string
}

// The query tables.
var (
	EvidenceTable = Table{"evidence", []string{"digest", "kind", "release_id", "service", "environment",
		`"commit"`, "source", "collected_at", "seq", "added_at"}}
	DecisionsTable = Table{"decisions", []string{"id", "release_id", "service", "environment", "gate",
		"allow", "dry_run", "reason", "evaluated_at", "seq"}}
	ViolationsTable = Table{"violations", []string{"id", "kind", "release_id", "service", "environment",
		"gate", "decision_id", "rules", "actor", "message", "opened_at", "due", "status", "closed_at",
		"closed_by", "seq"}}
	PoliciesTable = Table{"policies", []string{"revision", "modules", "seq", "added_at"}}
)

// SelectSQL selects t's columns from t.
func (t Table) SelectSQL() string {
	return "SELECT " + strings.Join(t.Cols, ", ") + " FROM " + t.Name
}

// Prefixed returns t's columns qualified with alias, for joins.
func (t Table) Prefixed(alias string) string {
	cols := make([]string, len(t.Cols))
	for i, c := range t.Cols {
		cols[i] = alias + "." + c
	}
	return strings.Join(cols, ", ")
}

// InsertSQL inserts one row of t's columns, their values given by the
// placeholders param returns for the columns 1, 2, … in the store's SQL
// dialect.
func (t Table) InsertSQL(param func(i int) string) string {
	params := make([]string, len(t.Cols))
	for i := range params {
		params[i] = param(i + 1)
	}
	return "INSERT INTO " + t.Name + " (" + strings.Join(t.Cols, ", ") + ") VALUES (" + strings.Join(params, ", ") + ")"
}
