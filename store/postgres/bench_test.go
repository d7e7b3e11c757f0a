package postgres

import (
	"testing"
	"time"

	"github.com/localizevideos/shipgate/store/storetest"
)

// BenchmarkRecordDecisionConcurrent appends decisions from 32 goroutines
// at once, each answered only once its transaction committed.
func BenchmarkRecordDecisionConcurrent(b *testing.B) {
	serverURL(b)
	storetest.BenchRecordDecisions(b, openT(b, newDatabase(b)), time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), 32)
}
