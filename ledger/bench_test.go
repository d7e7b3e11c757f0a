package ledger_test

import (
	"testing"

	"github.com/localizevideos/shipgate/ledger"
)

func BenchmarkVerify200(b *testing.B) {
	rows := chain(b, 200)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ledger.Verify(rows, nil); err != nil {
			b.Fatal(err)
		}
	}
}
