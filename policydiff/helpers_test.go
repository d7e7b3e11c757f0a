package policydiff_test

import (
	"testing"
	"time"

	"github.com/localizevideos/shipgate/internal/enginetest"
)

// The example release, its evidence and the default engine, as the
// engine's tests have them (internal/enginetest).
var (
	release       = enginetest.Release
	deployAt      = enginetest.DeployAt
	benchCases    = enginetest.BenchCases
	defaultEngine = enginetest.DefaultEngine
)

func reportCPU(b *testing.B, cpu time.Duration) {
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
