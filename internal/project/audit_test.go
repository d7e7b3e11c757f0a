package project

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/replay"
	"github.com/localizevideos/shipgate/report"
)

// TestAuditReportAndPolicyDiff: both read a fresh ledger through the
// project's choices, and report it empty.
func TestAuditReportAndPolicyDiff(t *testing.T) {
	ctx := context.Background()
	g := &Settings{}
	st := &Store{Path: filepath.Join(t.TempDir(), "ledger.db"), Settings: g}
	db, err := st.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	rep, err := AuditReport{Options: report.Options{Since: now.Add(-24 * time.Hour), Until: now, Now: now},
		Policy: &Policy{Settings: g}, Ev: &Evidence{}, Store: st}.Build(ctx)
	if err != nil || len(rep.Releases) != 0 || rep.Integrity.Err != nil {
		t.Fatalf("AuditReport.Build() = %+v, %v; want an empty report", rep, err)
	}

	if _, err := (&Change{Settings: g}).Resolve(); err == nil || !strings.Contains(err.Error(), "--base is required") {
		t.Errorf("Change{}.Resolve() = %v; want --base required", err)
	}
	sd, err := (&Change{Base: filepath.Join("..", "..", "policies"), Settings: g}).Resolve()
	if err != nil {
		t.Fatal(err)
	}
	var total = -1
	diff, err := PolicyDiff(ctx, sd, st, time.Second, replay.Options{}, func(n int) { total = n })
	if err != nil || len(diff.Blocking()) != 0 {
		t.Errorf("PolicyDiff(an empty ledger) = %d blocking, %v; want none", len(diff.Blocking()), err)
	}
	if total > 0 {
		t.Errorf("PolicyDiff(an empty ledger) started with %d decisions; want none", total)
	}
}
