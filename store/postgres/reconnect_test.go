package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/localizevideos/shipgate/store/storetest"
)

// A write after the server ended every session of the handle (a restart,
// a proxy closing idle connections) is recorded on a new connection.
func TestWriteAfterSessionsEnded(t *testing.T) {
	ctx := context.Background()
	url := newDatabase(t)
	db := openT(t, url)
	storetest.Fill(t, db, storetest.T0, 0, 1)
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var ended int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&ended); err != nil || ended == 0 {
		t.Fatalf("ended %d sessions: %v", ended, err)
	}
	d := storetest.NewDecision(t, "dec_after", "lv-9", "app", true, storetest.T0.Add(time.Hour))
	if err := db.RecordDecision(ctx, storetest.T0.Add(time.Hour), d, nil, nil); err != nil {
		t.Fatalf("RecordDecision() after the sessions ended = %v", err)
	}
	if _, err := db.Verify(ctx, nil); err != nil {
		t.Errorf("Verify() = %v", err)
	}
}
