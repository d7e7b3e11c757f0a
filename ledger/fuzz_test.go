package ledger_test

import (
	"bytes"
	"testing"

	"github.com/localizevideos/shipgate/ledger"
)

// FuzzVerify replaces one stored body of a valid ledger with arbitrary
// bytes: Verify must never panic, and must accept only the original body.
func FuzzVerify(f *testing.F) {
	rows := chain(f, 8)
	for _, r := range rows {
		f.Add(uint8(r.Seq-1), r.Body)
	}
	f.Add(uint8(3), []byte(`{"hash":"sha256:","seq":4}`))
	f.Fuzz(func(t *testing.T, at uint8, body []byte) {
		rs := clone(rows)
		i := int(at) % len(rs)
		rs[i].Body = body
		_, err := ledger.Verify(rs, nil)
		if err == nil && !bytes.Equal(body, rows[i].Body) {
			t.Fatalf("Verify accepted a changed entry %d: %q", i+1, body)
		}
	})
}
