package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/storetest"
)

// policyLedger returns the path of a closed ledger holding two policy sets,
// each recorded with the first of three decisions made under it, and the
// seq of the first policy entry.
func policyLedger(t *testing.T) (string, int64) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "base.db")
	db := openT(t, path)
	for i := range 6 {
		p := storetest.NewPolicy(t, i/3)
		at := t0.Add(time.Duration(i) * time.Second)
		d := storetest.NewDecision(t, fmt.Sprintf("dec_%d", i), "lv-1", "app", true, at)
		d.Body = bytes.Replace(d.Body, []byte(`"revision":"sha256:0123"`), fmt.Appendf(nil, `"revision":%q`, p.Revision), 1)
		d.Policy = &p
		if err := db.RecordDecision(ctx, at, d, nil, []store.Evidence{storetest.NewEvidence(t, "Plan", "lv-1", "app", at, i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path, 2 // evidence, then the policy set, then the decision
}

// audit verify checks policy entries as it checks the others: a changed
// byte breaks the chain there; a policy entry forged consistently (its
// modules no longer computing its key, the chain rehashed after it) is
// named by the projection; a changed, removed or added row of the policies
// table is a *store.ProjectionError.
func TestTamperPolicy(t *testing.T) {
	ctx := context.Background()
	path, seq := policyLedger(t)
	bodyAt := func(t *testing.T, raw *sql.DB, seq int64) []byte {
		var b []byte
		if err := raw.QueryRow("SELECT body FROM entries WHERE seq = ?", seq).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	rechain := func(t *testing.T, raw *sql.DB, from int64, edit func(*ledger.Entry)) {
		prev, err := ledger.Parse(bodyAt(t, raw, from-1))
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := raw.QueryRow("SELECT MAX(seq) FROM entries").Scan(&n); err != nil {
			t.Fatal(err)
		}
		for s := from; s <= n; s++ {
			e, err := ledger.Parse(bodyAt(t, raw, s))
			if err != nil {
				t.Fatal(err)
			}
			if s == from {
				edit(&e)
			}
			ne, err := ledger.Next(&prev, e)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := ne.Body()
			mustExec(t, raw, "UPDATE entries SET hash = ?, body = ? WHERE seq = ?", ne.Hash, b, s)
			prev = ne
		}
	}
	db := openT(t, path)
	p0 := storetest.NewPolicy(t, 0)
	if _, err := db.Verify(ctx, nil); err != nil {
		t.Fatalf("Verify(untouched) = %v", err)
	}
	db.Close()

	breaks := []struct {
		name   string
		tamper func(t *testing.T, raw *sql.DB)
		want   string
	}{
		{"a byte of a module", func(t *testing.T, raw *sql.DB) {
			b := bodyAt(t, raw, seq)
			i := bytes.Index(b, []byte("decision :="))
			b = append(bytes.Clone(b[:i]), b[i:]...)
			b[i] = 'D'
			mustExec(t, raw, "UPDATE entries SET body = ? WHERE seq = ?", b, seq)
		}, "content hash"},
		{"a module rewritten and the chain rehashed", func(t *testing.T, raw *sql.DB) {
			rechain(t, raw, seq, func(e *ledger.Entry) {
				e.Payload = bytes.Replace(e.Payload, []byte(`{\"allow\": true}`), []byte(`{\"allow\": false}`), 1)
			})
		}, "compute revision"},
		{"the data rewritten and the chain rehashed", func(t *testing.T, raw *sql.DB) {
			rechain(t, raw, seq, func(e *ledger.Entry) {
				e.Payload = bytes.Replace(e.Payload, []byte(`"alice"`), []byte(`"mallory"`), 1)
			})
		}, "compute revision"},
	}
	for _, tt := range breaks {
		t.Run(tt.name, func(t *testing.T) {
			mine := filepath.Join(t.TempDir(), "ledger.db")
			copyFile(t, path, mine)
			db := openT(t, mine)
			tt.tamper(t, tamperConn(t, mine))
			_, err := db.Verify(ctx, nil)
			wantBreak(t, err, seq)
			if !bytes.Contains([]byte(err.Error()), []byte(tt.want)) {
				t.Errorf("Verify() = %v; want it to say %q", err, tt.want)
			}
		})
	}

	rows := []struct {
		name, sql string
		args      []any
		key       string
	}{
		{"change a module count", "UPDATE policies SET modules = modules + 1 WHERE revision = ?", []any{p0.Revision}, p0.Revision},
		{"move a policy set to another entry", "UPDATE policies SET seq = 1 WHERE revision = ?", []any{p0.Revision}, p0.Revision},
		{"delete a policy set", "DELETE FROM policies WHERE revision = ?", []any{p0.Revision}, p0.Revision},
		{"add a policy set", "INSERT INTO policies VALUES ('sha256:forged', 1, 3, '2026-11-26T10:00:00.000000000Z')", nil, "sha256:forged"},
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			mine := filepath.Join(t.TempDir(), "ledger.db")
			copyFile(t, path, mine)
			db := openT(t, mine)
			mustExec(t, tamperConn(t, mine), tt.sql, tt.args...)
			_, err := db.Verify(ctx, nil)
			var pe *store.ProjectionError
			if !errors.As(err, &pe) || pe.Table != "policies" || pe.Key != tt.key {
				t.Fatalf("Verify() = %v; want a *store.ProjectionError of table policies, row %s", err, tt.key)
			}
		})
	}
}
