package ledger_test

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/ledger"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func chain(t testing.TB, n int) []ledger.Row {
	t.Helper()
	var prev *ledger.Entry
	rows := make([]ledger.Row, 0, n)
	for i := range n {
		e, err := ledger.Next(prev, ledger.Entry{
			Type: ledger.TypeDecision, Time: t0.Add(time.Duration(i) * time.Second),
			Release: "lv-1", Service: "app", Key: fmt.Sprintf("dec_%03d", i),
			Payload: json.RawMessage(fmt.Sprintf(`{"allow": %t, "n": %d}`, i%2 == 0, i)),
		})
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.Body()
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, ledger.Row{Seq: e.Seq, Body: b})
		prev = &e
	}
	return rows
}

func breakAt(t *testing.T, err error) int64 {
	t.Helper()
	var be *ledger.BreakError
	if !errors.As(err, &be) {
		t.Fatalf("Verify() error = %v; want a *BreakError", err)
	}
	return be.Seq
}

func clone(rows []ledger.Row) []ledger.Row {
	out := make([]ledger.Row, len(rows))
	for i, r := range rows {
		out[i] = ledger.Row{Seq: r.Seq, Body: slices.Clone(r.Body)}
	}
	return out
}

func TestVerifyIntact(t *testing.T) {
	rows := chain(t, 200)
	h, err := ledger.Verify(rows, nil)
	if err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if h.Size != 200 {
		t.Errorf("Size = %d; want 200", h.Size)
	}
}

// Every single-byte change of every entry is detected and named.
func TestVerifyEveryByte(t *testing.T) {
	rows := chain(t, 200)
	for i := range rows {
		for j := range rows[i].Body {
			orig := rows[i].Body[j]
			rows[i].Body[j] ^= 0x01
			_, err := ledger.Verify(rows, nil)
			rows[i].Body[j] = orig
			if err == nil {
				t.Fatalf("entry %d byte %d changed: Verify() = nil", i+1, j)
			}
			if got := breakAt(t, err); got != int64(i+1) {
				t.Fatalf("entry %d byte %d changed: break at %d", i+1, j, got)
			}
		}
	}
}

func TestVerifyStructuralChanges(t *testing.T) {
	base := chain(t, 20)
	renumber := func(rows []ledger.Row) []ledger.Row {
		for i := range rows {
			rows[i].Seq = int64(i + 1)
		}
		return rows
	}
	tests := []struct {
		name string
		edit func([]ledger.Row) []ledger.Row
		want int64
	}{
		{"delete keeps positions", func(r []ledger.Row) []ledger.Row { return slices.Delete(r, 6, 7) }, 7},
		{"delete renumbered", func(r []ledger.Row) []ledger.Row { return renumber(slices.Delete(r, 6, 7)) }, 7},
		{"duplicate", func(r []ledger.Row) []ledger.Row { return slices.Insert(r, 5, r[4]) }, 6},
		{"duplicate renumbered", func(r []ledger.Row) []ledger.Row { return renumber(slices.Insert(r, 5, r[4])) }, 6},
		{"swap", func(r []ledger.Row) []ledger.Row { r[3], r[4] = r[4], r[3]; return renumber(r) }, 4},
		{"swap bodies", func(r []ledger.Row) []ledger.Row { r[3].Body, r[4].Body = r[4].Body, r[3].Body; return r }, 4},
		{"insert forged", func(r []ledger.Row) []ledger.Row {
			e, _ := ledger.Parse(r[8].Body)
			forged, _ := ledger.Next(&e, ledger.Entry{Type: ledger.TypeDecision, Time: t0, Key: "dec_forged"})
			b, _ := forged.Body()
			return renumber(slices.Insert(r, 9, ledger.Row{Body: b}))
		}, 11},
		{"delete first", func(r []ledger.Row) []ledger.Row { return renumber(r[1:]) }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ledger.Verify(tt.edit(clone(base)), nil)
			if got := breakAt(t, err); got != tt.want {
				t.Errorf("break at %d; want %d (%v)", got, tt.want, err)
			}
		})
	}
}

func TestCheckpoint(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	rows := chain(t, 50)
	h, err := ledger.Verify(rows[:40], nil)
	if err != nil {
		t.Fatal(err)
	}
	cp := ledger.NewCheckpoint("test", h, t0, priv)
	if err := cp.Verify(pub); err != nil {
		t.Fatalf("Checkpoint.Verify() = %v", err)
	}
	if _, err := ledger.Verify(rows, &cp); err != nil {
		t.Errorf("longer ledger with a checkpoint: %v", err)
	}
	// A truncated tail, or an older copy restored, is shorter than the checkpoint.
	if got := breakAt(t, func() error { _, err := ledger.Verify(rows[:30], &cp); return err }()); got != 31 {
		t.Errorf("truncated: break at %d; want 31", got)
	}
	// An older copy restored and then appended to has another entry 40.
	other := chain(t, 45) // same shape, but rebuilt: the same, so change one payload
	other = rebuildFrom(t, other, 35)
	if got := breakAt(t, func() error { _, err := ledger.Verify(other, &cp); return err }()); got != 36 && got != 40 {
		t.Errorf("rewritten: break at %d", got)
	}
	bad := cp
	bad.Size++
	if err := bad.Verify(pub); !errors.Is(err, ledger.ErrBadSignature) {
		t.Errorf("tampered checkpoint: Verify() = %v; want ErrBadSignature", err)
	}
}

// rebuildFrom rewrites the chain from entry k on, consistently rehashed:
// what someone with write access could do without the checkpoint.
func rebuildFrom(t *testing.T, rows []ledger.Row, k int) []ledger.Row {
	t.Helper()
	prev, err := ledger.Parse(rows[k-1].Body)
	if err != nil {
		t.Fatal(err)
	}
	for i := k; i < len(rows); i++ {
		e, _ := ledger.Parse(rows[i].Body)
		e.Payload = json.RawMessage(`{"rewritten":true}`)
		n, err := ledger.Next(&prev, e)
		if err != nil {
			t.Fatal(err)
		}
		rows[i].Body, _ = n.Body()
		prev = n
	}
	return rows
}
