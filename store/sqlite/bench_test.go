package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/store/storetest"
)

// BenchmarkRecordDecision appends one decision a transaction, each synced
// to disk (synchronous=FULL) before RecordDecision returns.
func BenchmarkRecordDecision(b *testing.B) {
	ctx := context.Background()
	db := openT(b, filepath.Join(b.TempDir(), "ledger.db"))
	d := storetest.NewDecision(b, "dec", "lv-1", "app", true, t0)
	i := 0
	for b.Loop() {
		i++
		d.ID = fmt.Sprintf("dec_%d", i)
		d.Body = fmt.Appendf(d.Body[:0], `{"id":%q,"gate":"deploy","release":{"id":"lv-1","service":"app"},"allow":true}`, d.ID)
		d.Gate, d.Environment, d.Reason, d.EvaluatedAt, d.DryRun = "", "", "", time.Time{}, false
		if err := db.RecordDecision(ctx, t0.Add(time.Duration(i)*time.Millisecond), d, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkRecordDecisionConcurrent appends decisions from 32 goroutines
// at once, each answered only once its decision is synced to disk: what a
// server's concurrent gates cost the store.
func BenchmarkRecordDecisionConcurrent(b *testing.B) {
	storetest.BenchRecordDecisions(b, openT(b, filepath.Join(b.TempDir(), "ledger.db")), t0, 32)
}

// BenchmarkVerify checks a whole 200-entry ledger: the chain, every entry
// decoded, the query tables rebuilt and compared.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	db := openT(b, filepath.Join(b.TempDir(), "ledger.db"))
	storetest.Fill(b, db, t0, 0, 36)
	n, err := db.Len(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := db.Verify(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/entry")
}
