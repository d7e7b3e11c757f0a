package project

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAuditPackExport: a pack of a fresh ledger is proved against a
// checkpoint of its head signed with the project's key, and written whole.
func TestAuditPackExport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key := filepath.Join(dir, "checkpoint.key")
	if err := CreateKey(key, filepath.Join(dir, "checkpoint.pub"), io.Discard); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	g := &Settings{Now: func() time.Time { return now }}
	st := &Store{Path: filepath.Join(dir, "ledger.db"), Settings: g}
	db, err := st.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	out := filepath.Join(dir, "pack.tar.gz")
	_, cp, err := AuditPack{Out: out, Created: now, Policy: &Policy{Settings: g}, Key: key, TrustedKeys: []string{dir}, Store: st}.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cp == nil || cp.Size != 0 || !cp.Time.Equal(now) {
		t.Errorf("Export() checkpoint = %+v; want the empty head, signed at the clock's time", cp)
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
		t.Errorf("Export() wrote %v, %v; want the pack", fi, err)
	}

	// The pack replays clean against the checkpoint key it was signed with.
	res, err := ReplayPack(ctx, out, filepath.Join(dir, "checkpoint.pub"), 0, &Evidence{})
	if err != nil || !res.OK {
		t.Errorf("ReplayPack() = %+v, %v; want clean", res, err)
	}
	if _, err := ReplayPack(ctx, out, filepath.Join(dir, "none.pub"), 0, &Evidence{}); err == nil || !strings.Contains(err.Error(), "read key") {
		t.Errorf("ReplayPack(a missing key) = %v; want read key", err)
	}
}
