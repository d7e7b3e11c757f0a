// Package cputime measures the CPU time a benchmark uses, beside its wall
// time: steadier on a machine shared with other work.
package cputime

import (
	"testing"
	"time"
)

// Report adds used, the CPU time of b's loop, to b's results per
// operation (cpu-ns/op); nothing where Process is unknown.
func Report(b *testing.B, used time.Duration) {
	if used > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
