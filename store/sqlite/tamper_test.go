package sqlite

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/storetest"
)

var t0 = storetest.T0

// smallLedger appends entries to db until it holds n: mostly decisions with
// small bodies, and evidence, violations and closes among them, so that
// bodies are about 280 bytes (the two hashes take 142) and every entry type is
// there.
func smallLedger(t testing.TB, db *DB, n int64) {
	t.Helper()
	ctx := context.Background()
	open, err := db.Violations(ctx, store.Filter{Status: store.StatusOpen})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		have, err := db.Len(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if have >= n {
			return
		}
		room := n - have
		now := t0.Add(time.Duration(have) * time.Second)
		id := fmt.Sprintf("d%d", have)
		d := store.Decision{ID: id, Body: fmt.Appendf(nil, `{"allow":%t}`, i%2 == 0)}
		switch {
		case i%40 == 39 && room >= 2 && len(open) > 0:
			pm := store.Evidence{Kind: "Postmortem", Body: fmt.Appendf(nil, `{"kind":"Postmortem","n":%d}`, have)}
			if _, err := db.ClosePostmortem(ctx, now, pm, []string{open[0].ID}); err != nil {
				t.Fatal(err)
			}
			open = open[1:]
		case i%25 == 3:
			ev := store.Evidence{Body: fmt.Appendf(nil, `{"kind":"Build","n":%d}`, have)}
			if _, err := db.AddEvidence(ctx, now, []store.Evidence{ev}); err != nil {
				t.Fatal(err)
			}
		case i%20 == 1 && room >= 2:
			v := store.Violation{ID: "v" + id, Kind: store.KindViolation, Rules: []string{"r"}, Due: now}
			if err := db.RecordDecision(ctx, now, d, []store.Violation{v}, nil); err != nil {
				t.Fatal(err)
			}
			open = append(open, v)
		default:
			if err := db.RecordDecision(ctx, now, d, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// tamperConn opens the file the way someone editing it by hand would: a
// plain connection, no foreign keys, the append-only triggers dropped.
// synchronous=OFF keeps the exhaustive loop fast.
func tamperConn(t testing.TB, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", dsnPath(path)+"?_pragma=busy_timeout(10000)&_pragma=synchronous(OFF)")
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	t.Cleanup(func() { raw.Close() })
	mustExec(t, raw, "DROP TRIGGER entries_no_update")
	mustExec(t, raw, "DROP TRIGGER entries_no_delete")
	return raw
}

func dsnPath(path string) string {
	abs, _ := filepath.Abs(path)
	return "file:" + filepath.ToSlash(abs)
}

func mustExec(t testing.TB, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// snapshot writes a consistent copy of db's file to path.
func snapshot(t testing.TB, db *DB, path string) {
	t.Helper()
	if _, err := db.sql.Exec("VACUUM INTO ?", path); err != nil {
		t.Fatalf("VACUUM INTO: %v", err)
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

// base returns the path of a closed 200-entry ledger, built once per test.
func base(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "base.db")
	db := openT(t, path)
	smallLedger(t, db, 200)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// Every single-byte change of every entry body is detected, naming that
// entry. The file is split between workers, one copy each.
func TestTamperEveryByte(t *testing.T) {
	ctx := context.Background()
	path := base(t)
	db := openT(t, path)
	var rows []ledger.Row
	if err := db.Rows(ctx, func(r ledger.Row) error { rows = append(rows, r); return nil }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if raceEnabled {
		var some []ledger.Row
		for i, r := range rows {
			if i%20 == 0 || i == len(rows)-1 {
				some = append(some, r)
			}
		}
		t.Logf("race detector: every byte of %d of the %d entries", len(some), len(rows))
		rows = some
	}
	total := 0
	for _, r := range rows {
		total += len(r.Body)
	}
	workers := min(runtime.GOMAXPROCS(0), 8)
	start := time.Now()
	t.Run("workers", func(t *testing.T) {
		for w := range workers {
			t.Run(fmt.Sprint(w), func(t *testing.T) {
				t.Parallel()
				mine := filepath.Join(t.TempDir(), "ledger.db")
				copyFile(t, path, mine)
				db := openT(t, mine)
				raw := tamperConn(t, mine)
				upd, err := raw.Prepare("UPDATE entries SET body = ? WHERE seq = ?")
				if err != nil {
					t.Fatal(err)
				}
				defer upd.Close()
				for i := w; i < len(rows); i += workers {
					r := rows[i]
					body := bytes.Clone(r.Body)
					for j := range body {
						// One write restores byte j-1 and changes byte j.
						if j > 0 {
							body[j-1] ^= 0x01
						}
						body[j] ^= 0x01
						if _, err := upd.Exec(body, r.Seq); err != nil {
							t.Fatal(err)
						}
						_, err := db.Verify(ctx, nil)
						var be *ledger.BreakError
						if !errors.As(err, &be) || be.Seq != r.Seq {
							t.Fatalf("entry %d, byte %d (%q) changed: Verify() = %v; want a break at entry %d",
								r.Seq, j, r.Body[j], err, r.Seq)
						}
					}
					if _, err := upd.Exec(r.Body, r.Seq); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := db.Verify(ctx, nil); err != nil {
					t.Errorf("Verify() after restoring every byte = %v", err)
				}
			})
		}
	})
	el := time.Since(start)
	t.Logf("%d entries, %d bytes, %d workers: %d Verify calls in %v (%v each)",
		len(rows), total, workers, total, el.Round(time.Millisecond), (el * time.Duration(workers) / time.Duration(total)).Round(time.Microsecond))
}

// Structural changes made with SQL to a real file, each detected and named.
func TestTamperStructure(t *testing.T) {
	ctx := context.Background()
	path := base(t)
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	bodyAt := func(t *testing.T, raw *sql.DB, seq int64) []byte {
		var b []byte
		if err := raw.QueryRow("SELECT body FROM entries WHERE seq = ?", seq).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	// shift makes room at seq by moving every entry from seq on one up.
	shift := func(t *testing.T, raw *sql.DB, seq int64) {
		mustExec(t, raw, "UPDATE entries SET seq = -(seq + 1) WHERE seq >= ?", seq)
		mustExec(t, raw, "UPDATE entries SET seq = -seq WHERE seq < 0")
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, raw *sql.DB)
		cp     bool // verify against a checkpoint made before tampering
		want   int64
		// hidden: without the checkpoint the change cannot be seen at all,
		// which is what checkpoints are for.
		hidden bool
	}{
		{"delete", func(t *testing.T, raw *sql.DB) {
			mustExec(t, raw, "DELETE FROM entries WHERE seq = 57")
		}, false, 57, false},
		{"delete renumbered", func(t *testing.T, raw *sql.DB) {
			mustExec(t, raw, "DELETE FROM entries WHERE seq = 57")
			mustExec(t, raw, "UPDATE entries SET seq = seq - 1 WHERE seq > 57")
		}, false, 57, false},
		{"delete first", func(t *testing.T, raw *sql.DB) {
			mustExec(t, raw, "DELETE FROM entries WHERE seq = 1")
			mustExec(t, raw, "UPDATE entries SET seq = seq - 1")
		}, false, 1, false},
		{"duplicate", func(t *testing.T, raw *sql.DB) {
			shift(t, raw, 81)
			mustExec(t, raw, "INSERT INTO entries (seq, type, key, hash, body) SELECT 81, type, key, hash, body FROM entries WHERE seq = 80")
		}, false, 81, false},
		{"duplicate at the end", func(t *testing.T, raw *sql.DB) {
			mustExec(t, raw, "INSERT INTO entries (seq, type, key, hash, body) SELECT 201, type, key, hash, body FROM entries WHERE seq = 80")
		}, false, 201, false},
		{"swap bodies", func(t *testing.T, raw *sql.DB) {
			a, b := bodyAt(t, raw, 120), bodyAt(t, raw, 121)
			mustExec(t, raw, "UPDATE entries SET body = ? WHERE seq = 120", b)
			mustExec(t, raw, "UPDATE entries SET body = ? WHERE seq = 121", a)
		}, false, 120, false},
		{"insert forged", func(t *testing.T, raw *sql.DB) {
			prev, err := ledger.Parse(bodyAt(t, raw, 150))
			if err != nil {
				t.Fatal(err)
			}
			forged, err := ledger.Next(&prev, ledger.Entry{Type: ledger.TypeDecision, Time: t0, Key: "forged",
				Payload: []byte(`{"allow":true,"gate":"deploy"}`)})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := forged.Body()
			shift(t, raw, 151)
			mustExec(t, raw, "INSERT INTO entries (seq, type, key, hash, body) VALUES (151, ?, ?, ?, ?)", forged.Type, forged.Key, forged.Hash, b)
		}, false, 152, false},
		{"truncate tail", func(t *testing.T, raw *sql.DB) {
			mustExec(t, raw, "DELETE FROM entries WHERE seq > 190")
		}, true, 191, false},
		{"rewrite tail", func(t *testing.T, raw *sql.DB) {
			// Rechained consistently from 180 on, decisions moved by a
			// second (no query table shows an entry's time): only the
			// checkpoint shows it.
			prev, err := ledger.Parse(bodyAt(t, raw, 179))
			if err != nil {
				t.Fatal(err)
			}
			for seq := int64(180); seq <= 200; seq++ {
				e, err := ledger.Parse(bodyAt(t, raw, seq))
				if err != nil {
					t.Fatal(err)
				}
				if e.Type == ledger.TypeDecision {
					e.Time = e.Time.Add(time.Second)
				}
				n, err := ledger.Next(&prev, e)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := n.Body()
				mustExec(t, raw, "UPDATE entries SET hash = ?, body = ? WHERE seq = ?", n.Hash, b, seq)
				prev = n
			}
		}, true, 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mine := filepath.Join(t.TempDir(), "ledger.db")
			copyFile(t, path, mine)
			db := openT(t, mine)
			h, err := db.Verify(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			cp := ledger.NewCheckpoint("test", h, t0, priv)
			tt.tamper(t, tamperConn(t, mine))
			var use *ledger.Checkpoint
			if tt.cp {
				use = &cp
			}
			if tt.hidden {
				if _, err := db.Verify(ctx, nil); err != nil {
					t.Errorf("Verify(no checkpoint) = %v; want nil", err)
				}
			}
			_, err = db.Verify(ctx, use)
			wantBreak(t, err, tt.want)
		})
	}
}

// An older copy of the file put back in place is detected with a
// checkpoint made after the copy.
func TestRestoredOlderCopy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, old := filepath.Join(dir, "ledger.db"), filepath.Join(dir, "old.db")
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	db := openT(t, path)
	smallLedger(t, db, 100)
	snapshot(t, db, old)
	smallLedger(t, db, 150)
	h, err := db.Verify(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	cp := ledger.NewCheckpoint("test", h, t0, priv)
	db.Close()
	for _, f := range []string{path + "-wal", path + "-shm"} {
		os.Remove(f)
	}
	if err := os.Rename(old, path); err != nil {
		t.Fatal(err)
	}
	db = openT(t, path)
	if n, _ := db.Len(ctx); n != 100 {
		t.Fatalf("restored copy has %d entries; want 100", n)
	}
	_, err = db.Verify(ctx, &cp)
	wantBreak(t, err, 101)

	// Appended to again, it is as long as the checkpoint but another ledger.
	now := t0.Add(time.Hour)
	for i := range 60 {
		d := store.Decision{ID: fmt.Sprintf("again%02d", i), Body: []byte(`{"gate":"deploy"}`)}
		if err := db.RecordDecision(ctx, now, d, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Verify(ctx, nil); err != nil {
		t.Fatalf("Verify(no checkpoint) = %v; the copy is a valid ledger on its own", err)
	}
	_, err = db.Verify(ctx, &cp)
	wantBreak(t, err, 150)
}

// Query tables changed behind the store's back are reported by table and
// row.
func TestTamperProjection(t *testing.T) {
	ctx := context.Background()
	path := base(t)
	db := openT(t, path)
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
	db.Close()
	v, d, ev := vs[0], ds[10], evs[0]
	tests := []struct {
		name       string
		sql        string
		args       []any
		table, key string
	}{
		{"close a violation", "UPDATE violations SET status = 'closed', closed_at = due, closed_by = ? WHERE id = ?",
			[]any{ev.Digest, v.ID}, "violations", v.ID},
		{"move a due date", "UPDATE violations SET due = '2099-01-01T00:00:00.000000000Z' WHERE id = ?",
			[]any{v.ID}, "violations", v.ID},
		{"delete a violation", "DELETE FROM violations WHERE id = ?", []any{v.ID}, "violations", v.ID},
		{"flip a decision", "UPDATE decisions SET allow = 1 - allow WHERE id = ?", []any{d.ID}, "decisions", d.ID},
		{"delete a decision", "DELETE FROM decisions WHERE id = ?", []any{d.ID}, "decisions", d.ID},
		{"add a decision", "INSERT INTO decisions SELECT 'zzz', release_id, service, environment, gate, allow, dry_run, reason, evaluated_at, 100000 FROM decisions WHERE id = ?",
			[]any{d.ID}, "decisions", "zzz"},
		{"change evidence kind", "UPDATE evidence SET kind = 'Approval' WHERE digest = ?", []any{ev.Digest}, "evidence", ev.Digest},
		{"change an entry's type column", "UPDATE entries SET type = 'decision' WHERE seq = ?",
			[]any{ev.Seq}, "entries", fmt.Sprint(ev.Seq)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mine := filepath.Join(t.TempDir(), "ledger.db")
			copyFile(t, path, mine)
			db := openT(t, mine)
			mustExec(t, tamperConn(t, mine), tt.sql, tt.args...)
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
