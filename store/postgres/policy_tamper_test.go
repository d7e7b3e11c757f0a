package postgres

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/storetest"
)

// audit verify checks policy entries and the policies table as it checks
// the others: a changed row is a *store.ProjectionError of table policies;
// a module rewritten, with the chain rehashed from there on, no longer
// computes the entry's revision and is named as the break.
func TestTamperPolicy(t *testing.T) {
	ctx := context.Background()
	p0 := storetest.NewPolicy(t, 0)
	rows := []struct {
		name, sql string
		args      []any
		key       string
	}{
		{"change a module count", "UPDATE policies SET modules = modules + 1 WHERE revision = $1", []any{p0.Revision}, p0.Revision},
		{"delete a policy set", "DELETE FROM policies WHERE revision = $1", []any{p0.Revision}, p0.Revision},
		{"add a policy set", "INSERT INTO policies VALUES ('sha256:forged', 1, 3, '2026-11-26T10:00:00.000000000Z')", nil, "sha256:forged"},
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, url, _ := filled(t)
			mustExec(t, tamperConn(t, url), tt.sql, tt.args...)
			_, err := db.Verify(ctx, nil)
			var pe *store.ProjectionError
			if !errors.As(err, &pe) || pe.Table != "policies" || pe.Key != tt.key {
				t.Fatalf("Verify() = %v; want a *store.ProjectionError of table policies, row %s", err, tt.key)
			}
		})
	}

	t.Run("a module rewritten and the chain rehashed", func(t *testing.T) {
		t.Parallel()
		db, url, _ := filled(t)
		conn := tamperConn(t, url)
		var rowsAll []ledger.Row
		if err := db.Rows(ctx, func(r ledger.Row) error { rowsAll = append(rowsAll, r); return nil }); err != nil {
			t.Fatal(err)
		}
		var from int64
		var prev ledger.Entry
		for i, r := range rowsAll {
			e, err := ledger.Parse(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			if from == 0 && e.Type == store.TypePolicy && e.Key == p0.Revision {
				from = r.Seq
				e.Payload = bytes.Replace(e.Payload, []byte(`{\"allow\": true}`), []byte(`{\"allow\": false}`), 1)
			}
			if from == 0 {
				prev = e
				continue
			}
			var base *ledger.Entry
			if i > 0 {
				base = &prev
			}
			n, err := ledger.Next(base, e)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := n.Body()
			mustExec(t, conn, "UPDATE entries SET hash = $1, body = $2 WHERE seq = $3", n.Hash, b, r.Seq)
			prev = n
		}
		if from == 0 {
			t.Fatal("the filled ledger holds no policy entry")
		}
		_, err := db.Verify(ctx, nil)
		wantBreak(t, err, from)
		if !strings.Contains(err.Error(), "compute revision") {
			t.Errorf("Verify() = %v; want it to say the modules compute another revision", err)
		}
	})
}
