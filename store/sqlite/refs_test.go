package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/storetest"
)

// refsLedger records two documents, a decision d1 that names the first
// (as counted, in a finding, as given) and opened violation v1, a
// decision d2 that saw v1 open, and a plain decision d3. It returns the
// file and the first document's digest.
func refsLedger(t *testing.T) (string, string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	db := openT(t, path)
	e1 := storetest.NewEvidence(t, "Build", "lv-1", "app", t0, 1)
	e2 := storetest.NewEvidence(t, "Plan", "lv-1", "app", t0, 2)
	if _, err := db.AddEvidence(ctx, t0, []store.Evidence{e1, e2}); err != nil {
		t.Fatal(err)
	}
	decision := func(id, extra string) store.Decision {
		doc := fmt.Sprintf(`{"id":%q,"gate":"deploy","release":{"id":"lv-1","service":"app","environment":"production"},`+
			`"allow":false,"reason":"policy.deny","evaluatedAt":%q%s}`, id, t0.Format(time.RFC3339Nano), extra)
		body, err := evidence.Canonical([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return store.Decision{ID: id, Body: body}
	}
	d1 := decision("d1", fmt.Sprintf(`,"evidence":[{"kind":"Build","digest":%q}],"violations":[{"rule":"r","evidence":[%q,"not a digest"]}],`+
		`"ignored":[{"kind":"Plan","digest":%q}],"opened":["v1"],"replay":{"evidence":[%q,%q],"violations":[]}`, e1.Digest, e1.Digest, e2.Digest, e1.Digest, e2.Digest))
	v1 := store.Violation{ID: "v1", Kind: store.KindViolation, Rules: []string{"r"}, Due: t0}
	if err := db.RecordDecision(ctx, t0, d1, []store.Violation{v1}, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordDecision(ctx, t0, decision("d2", `,"replay":{"evidence":[],"violations":[{"id":"v1"}]}`), nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordDecision(ctx, t0, decision("d3", ""), nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Verify(ctx, nil); err != nil {
		t.Fatalf("Verify(untouched) = %v", err)
	}
	must(t, db.Close())
	return path, e1.Digest
}

// seqOf is the seq of the entry with key.
func seqOf(t *testing.T, raw *sql.DB, key string) int64 {
	t.Helper()
	var seq int64
	if err := raw.QueryRow("SELECT seq FROM entries WHERE key = ?", key).Scan(&seq); err != nil {
		t.Fatalf("entry %s: %v", key, err)
	}
	return seq
}

// rechain rewrites the entries from seq on (renumbered from seq, each
// edited by edit first) so that the chain verifies again: what someone
// who can write the file and knows the format would do to hide a change.
func rechain(t *testing.T, raw *sql.DB, from int64, edit func(*ledger.Entry)) {
	t.Helper()
	var prev *ledger.Entry
	if from > 1 {
		var b []byte
		if err := raw.QueryRow("SELECT body FROM entries WHERE seq = ?", from-1).Scan(&b); err != nil {
			t.Fatal(err)
		}
		p, err := ledger.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		prev = &p
	}
	rows, err := raw.Query("SELECT seq, body FROM entries WHERE seq >= ? ORDER BY seq", from)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		seq  int64
		body []byte
	}
	var all []row
	for rows.Next() {
		var r row
		must(t, rows.Scan(&r.seq, &r.body))
		all = append(all, r)
	}
	rows.Close()
	for _, r := range all {
		e, err := ledger.Parse(r.body)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(&e)
		}
		n, err := ledger.Next(prev, e)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := n.Body()
		mustExec(t, raw, "UPDATE entries SET seq = ?, hash = ?, body = ? WHERE seq = ?", n.Seq, n.Hash, b, r.seq)
		prev = &n
	}
}

// A decision that names evidence or a violation the ledger does not hold
// breaks the ledger at that decision, even when the chain was rewritten to
// hide the removal: the check a checkpoint would otherwise be needed for.
func TestTamperDecisionReferences(t *testing.T) {
	ctx := context.Background()
	path, digest := refsLedger(t)
	tests := []struct {
		name   string
		tamper func(t *testing.T, raw *sql.DB) int64 // the seq Verify must name
		want   string
	}{
		{"evidence removed", func(t *testing.T, raw *sql.DB) int64 {
			seq := seqOf(t, raw, digest)
			mustExec(t, raw, "DELETE FROM entries WHERE seq = ?", seq)
			mustExec(t, raw, "DELETE FROM evidence WHERE digest = ?", digest)
			rechain(t, raw, seq, nil)
			return seqOf(t, raw, "d1")
		}, "decision d1 names evidence \"" + digest + "\" (at /evidence/0) that the ledger does not hold"},
		{"opened violation removed", func(t *testing.T, raw *sql.DB) int64 {
			seq := seqOf(t, raw, "v1")
			mustExec(t, raw, "DELETE FROM entries WHERE seq = ?", seq)
			mustExec(t, raw, "DELETE FROM violations WHERE id = 'v1'")
			rechain(t, raw, seq, nil)
			return seqOf(t, raw, "d1")
		}, `decision d1 names violation "v1" as opened, which the ledger does not hold`},
		{"a digest added to what a decision was given", func(t *testing.T, raw *sql.DB) int64 {
			seq := seqOf(t, raw, "d3")
			forged := "sha256:" + strings.Repeat("0", 64)
			rechain(t, raw, seq, func(e *ledger.Entry) {
				if e.Key == "d3" {
					e.Payload = []byte(strings.Replace(string(e.Payload), `"gate"`, `"replay":{"evidence":["`+forged+`"]},"gate"`, 1))
				}
			})
			return seq
		}, `decision d3 names evidence "sha256:0000`},
		{"a violation opened in a decision's name", func(t *testing.T, raw *sql.DB) int64 {
			seq := seqOf(t, raw, "v1")
			rechain(t, raw, seq, func(e *ledger.Entry) {
				if e.Key == "v1" {
					e.Key = "v9"
					e.Payload = []byte(strings.Replace(string(e.Payload), `"id":"v1"`, `"id":"v9"`, 1))
				}
			})
			mustExec(t, raw, "UPDATE entries SET key = 'v9' WHERE seq = ?", seq)
			return seq
		}, `violation v9: decision d1 lists the violations it opened, and not this one`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mine := filepath.Join(t.TempDir(), "ledger.db")
			copyFile(t, path, mine)
			want := tt.tamper(t, tamperConn(t, mine))
			db, err := OpenReadOnly(ctx, mine)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			_, err = db.Verify(ctx, nil)
			wantBreak(t, err, want)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Verify() = %v; want it to say %q", err, tt.want)
			}
		})
	}
}
