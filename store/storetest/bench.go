package storetest

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// BenchRecordDecisions records b.N decisions, each in a RecordDecision of
// its own, from clients goroutines at once, each answered only once its
// decision is durable: what a server's concurrent gates cost the store. It
// reports decisions/s.
func BenchRecordDecisions(b *testing.B, s Store, at time.Time, clients int) {
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		d := NewDecision(b, "dec", "lv-1", "app", true, at)
		for pb.Next() {
			i := n.Add(1)
			d.ID = fmt.Sprintf("dec_%d", i)
			d.Body = fmt.Appendf(d.Body[:0], `{"id":%q,"gate":"deploy","release":{"id":"lv-1","service":"app"},"allow":true}`, d.ID)
			d.Gate, d.Environment, d.Reason, d.EvaluatedAt, d.DryRun = "", "", "", time.Time{}, false
			if err := s.RecordDecision(ctx, at.Add(time.Duration(i)*time.Millisecond), d, nil, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
