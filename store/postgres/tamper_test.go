package postgres

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/storetest"
)

// tamperConn connects to the database at url the way someone editing it by
// hand would: session_replication_role = replica turns off the append-only
// triggers and the foreign keys (both are triggers). It takes a superuser.
func tamperConn(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	mustExec(t, conn, "SET session_replication_role = replica")
	return conn
}

func mustExec(t testing.TB, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func wantBreak(t *testing.T, err error, seq int64) {
	t.Helper()
	var be *ledger.BreakError
	if !errors.As(err, &be) {
		t.Fatalf("Verify() = %v; want a *ledger.BreakError at entry %d", err, seq)
	}
	if be.Seq != seq {
		t.Fatalf("Verify() broke at entry %d; want %d (%v)", be.Seq, seq, err)
	}
}

// filled returns a new database holding about 200 entries of every type,
// its URL, and a checkpoint of its head.
func filled(t *testing.T) (*DB, string, ledger.Checkpoint) {
	t.Helper()
	url := newDatabase(t)
	db := openT(t, url)
	storetest.Fill(t, db, storetest.T0, 0, 36)
	h, err := db.Verify(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return db, url, ledger.NewCheckpoint("test", h, storetest.T0, priv)
}

// Every single-byte change of some entries' bodies, made with SQL, is
// detected, naming that entry.
func TestTamperBytes(t *testing.T) {
	ctx := context.Background()
	db, url, _ := filled(t)
	n, err := db.Len(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw := tamperConn(t, url)
	start, calls := time.Now(), 0
	for _, seq := range []int64{1, 57, n} {
		var size int
		if err := raw.QueryRow(ctx, "SELECT length(body) FROM entries WHERE seq = $1", seq).Scan(&size); err != nil {
			t.Fatal(err)
		}
		for i := range size {
			// Flip the lowest bit of byte i, verify, flip it back.
			mustExec(t, raw, "UPDATE entries SET body = set_byte(body, $1, get_byte(body, $1) # 1) WHERE seq = $2", i, seq)
			_, err := db.Verify(ctx, nil)
			calls++
			var be *ledger.BreakError
			if !errors.As(err, &be) || be.Seq != seq {
				t.Fatalf("entry %d, byte %d changed: Verify() = %v; want a break at entry %d", seq, i, err, seq)
			}
			mustExec(t, raw, "UPDATE entries SET body = set_byte(body, $1, get_byte(body, $1) # 1) WHERE seq = $2", i, seq)
		}
	}
	if _, err := db.Verify(ctx, nil); err != nil {
		t.Errorf("Verify() after restoring every byte = %v", err)
	}
	t.Logf("%d entries: %d changed bytes detected in %v", n, calls, time.Since(start).Round(time.Millisecond))
}

// Structural changes made with SQL, each detected and named.
func TestTamperStructure(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		tamper string
		cp     bool // verify against a checkpoint made before tampering
		want   int64
	}{
		{"delete", "DELETE FROM entries WHERE seq = 57", false, 57},
		// Renumbering goes through a far range: the primary key is checked row by row.
		{"delete renumbered", "DELETE FROM entries WHERE seq = 57; UPDATE entries SET seq = seq + 1000000 WHERE seq > 57; " +
			"UPDATE entries SET seq = seq - 1000001 WHERE seq > 1000000", false, 57},
		{"delete first", "DELETE FROM entries WHERE seq = 1; UPDATE entries SET seq = seq + 1000000; " +
			"UPDATE entries SET seq = seq - 1000001", false, 1},
		{"duplicate at the end", "INSERT INTO entries SELECT (SELECT MAX(seq) + 1 FROM entries), type, key, hash, body FROM entries WHERE seq = 80", false, -1},
		{"swap bodies", "UPDATE entries SET body = CASE seq WHEN 120 THEN (SELECT body FROM entries WHERE seq = 121) " +
			"ELSE (SELECT body FROM entries WHERE seq = 120) END WHERE seq IN (120, 121)", false, 120},
		{"truncate tail", "DELETE FROM entries WHERE seq > 150", true, 151},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, url, cp := filled(t)
			want := tt.want
			if want < 0 {
				want = cp.Size + 1
			}
			mustExec(t, tamperConn(t, url), tt.tamper)
			var use *ledger.Checkpoint
			if tt.cp {
				use = &cp
			}
			_, err := db.Verify(ctx, use)
			wantBreak(t, err, want)
		})
	}
}

// A truncated tail with its query table rows removed too is a valid,
// shorter ledger: only a checkpoint shows what is missing.
func TestTruncatedNeedsCheckpoint(t *testing.T) {
	ctx := context.Background()
	db, url, cp := filled(t)
	mustExec(t, tamperConn(t, url), "DELETE FROM violations WHERE seq > 150; DELETE FROM decisions WHERE seq > 150; "+
		"DELETE FROM evidence WHERE seq > 150; DELETE FROM policies WHERE seq > 150; DELETE FROM entries WHERE seq > 150")
	if h, err := db.Verify(ctx, nil); err != nil || h.Size != 150 {
		t.Errorf("Verify(no checkpoint) = %+v, %v; want a valid ledger of 150 entries", h, err)
	}
	_, err := db.Verify(ctx, &cp)
	wantBreak(t, err, 151)
	var be *ledger.BreakError
	if errors.As(err, &be) {
		t.Logf("%v", be)
	}
}

// Query tables changed behind the store's back are reported by table and
// row. Fill is deterministic: every case's database has the same records.
func TestTamperProjection(t *testing.T) {
	ctx := context.Background()
	db, _, _ := filled(t)
	vs, err := db.Violations(ctx, store.Filter{Status: store.StatusOpen})
	if err != nil || len(vs) == 0 {
		t.Fatalf("Violations(open) = %d, %v", len(vs), err)
	}
	ds, err := db.Decisions(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	evs, err := db.Evidence(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	v, d, ev := vs[0], ds[10], evs[0]
	tests := []struct {
		name       string
		sql        string
		args       []any
		table, key string
	}{
		{"close a violation", "UPDATE violations SET status = 'closed', closed_at = due, closed_by = $1 WHERE id = $2",
			[]any{ev.Digest, v.ID}, "violations", v.ID},
		{"move a due date", "UPDATE violations SET due = '2099-01-01T00:00:00.000000000Z' WHERE id = $1",
			[]any{v.ID}, "violations", v.ID},
		{"drop a rule", "UPDATE violations SET rules = rules[1:1] WHERE id = $1", []any{v.ID}, "violations", v.ID},
		{"delete a violation", "DELETE FROM violations WHERE id = $1", []any{v.ID}, "violations", v.ID},
		{"flip a decision", "UPDATE decisions SET allow = NOT allow WHERE id = $1", []any{d.ID}, "decisions", d.ID},
		{"delete a decision", "DELETE FROM decisions WHERE id = $1", []any{d.ID}, "decisions", d.ID},
		{"add a decision", "INSERT INTO decisions SELECT 'zzz', release_id, service, environment, gate, allow, dry_run, reason, evaluated_at, 100000 FROM decisions WHERE id = $1",
			[]any{d.ID}, "decisions", "zzz"},
		{"change evidence kind", "UPDATE evidence SET kind = 'Approval' WHERE digest = $1", []any{ev.Digest}, "evidence", ev.Digest},
		{"change an entry's type column", "UPDATE entries SET type = 'decision' WHERE seq = $1",
			[]any{ev.Seq}, "entries", fmt.Sprint(ev.Seq)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, url, _ := filled(t)
			mustExec(t, tamperConn(t, url), tt.sql, tt.args...)
			_, err := db.Verify(ctx, nil)
			var pe *store.ProjectionError
			if !errors.As(err, &pe) {
				t.Fatalf("Verify() = %v; want a *store.ProjectionError", err)
			}
			if pe.Table != tt.table || pe.Key != tt.key {
				t.Errorf("Verify() = %v; want table %s, row %s", err, tt.table, tt.key)
			}
		})
	}
}
