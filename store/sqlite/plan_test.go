package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestServiceReadsUseIndexes holds that the reads every decision makes of
// its service (its Deploys, its verify decisions, its open violations) are
// served by an index: a scan of the whole table would make each decision
// slower as the ledger grows. The queries have the shapes package sqlstore
// gives them.
func TestServiceReadsUseIndexes(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "ledger.db"))
	for _, c := range []struct{ query, index string }{
		{"SELECT ev.seq FROM evidence ev WHERE ev.service = ? AND ev.kind = ? ORDER BY ev.seq", "evidence_service"},
		{"SELECT ev.seq FROM evidence ev WHERE ev.kind = 'Deploy' AND ev.service IN (SELECT service FROM evidence WHERE release_id = ? AND kind = 'Plan')", "evidence_service"},
		{"SELECT d.id FROM decisions d WHERE d.service = ? AND d.gate = ? ORDER BY d.seq", "decisions_service"},
		{"SELECT id FROM violations WHERE service = ? ORDER BY due, id", "violations_service"},
	} {
		args := []any{"app", "Deploy"}[:strings.Count(c.query, "?")]
		rows, err := db.sql.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+c.query, args...)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if p := strings.Join(plan, "; "); !strings.Contains(p, "INDEX "+c.index) {
			t.Errorf("%s\nplan: %s\nwant it to use index %s", c.query, p, c.index)
		}
	}
}
