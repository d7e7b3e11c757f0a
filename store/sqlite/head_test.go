package sqlite

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/store"
)

// A handle remembers the head it wrote, but a head changed behind it
// (here, by one byte that keeps the chain's hash column) is read again and
// stops the write, as it does for a handle that never wrote.
func TestChangedHeadStopsWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	db := openT(t, path)
	smallLedger(t, db, 5)
	e, err := db.Entry(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	body, err := e.Body()
	if err != nil {
		t.Fatal(err)
	}
	// Whitespace: the body no longer is canonical JSON, so it does not parse.
	changed := bytes.Replace(body, []byte(`{"`), []byte(`{ "`), 1)
	raw := tamperConn(t, path)
	mustExec(t, raw, "UPDATE entries SET body = ? WHERE seq = 5", changed)
	d := store.Decision{ID: "after", Body: []byte(`{"allow":true}`)}
	err = db.RecordDecision(ctx, t0.Add(time.Hour), d, nil, nil)
	if err == nil {
		t.Fatal("RecordDecision() after the head changed = nil; want an error")
	}
	if n, _ := db.Len(ctx); n != 5 {
		t.Errorf("Len() = %d after a refused write; want 5", n)
	}
	// Put back as it was, the same handle writes again.
	mustExec(t, raw, "UPDATE entries SET body = ? WHERE seq = 5", body)
	if err := db.RecordDecision(ctx, t0.Add(time.Hour), d, nil, nil); err != nil {
		t.Fatalf("RecordDecision() with the head restored = %v", err)
	}
	if _, err := db.Verify(ctx, nil); err != nil {
		t.Errorf("Verify() = %v", err)
	}
}
