package auditpack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/ledger"
)

type verifier struct {
	head ledger.Head
	err  error
}

func (v verifier) Verify(context.Context, *ledger.Checkpoint) (ledger.Head, error) {
	return v.head, v.err
}

// The verification is written as `shipgate audit verify -o json` always
// wrote it: a JSON object with its keys in order.
func TestVerifyLedgerJSON(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	cp := &ledger.Checkpoint{Size: 3, Head: "h3", KeyID: "k1", Time: at}
	broken := errors.New("entry 2: hash mismatch")
	for _, tc := range []struct {
		name string
		v    verifier
		cp   *ledger.Checkpoint
		want string
	}{
		{"intact", verifier{head: ledger.Head{Size: 3, Hash: "h3", Root: "r3"}}, nil,
			`{"head":"h3","intact":true,"root":"r3","size":3}`},
		{"broken against a checkpoint", verifier{head: ledger.Head{Size: 1, Hash: "h1", Root: "r1"}, err: broken}, cp,
			`{"checkpoint":{"head":"h3","keyId":"k1","size":3,"time":"2026-11-26T10:00:00Z"},"error":"entry 2: hash mismatch","head":"h1","intact":false,"root":"r1","size":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := auditpack.VerifyLedger(context.Background(), tc.v, tc.cp)
			if !errors.Is(err, tc.v.err) {
				t.Errorf("VerifyLedger error = %v; want %v", err, tc.v.err)
			}
			got, _ := json.Marshal(res)
			if string(got) != tc.want {
				t.Errorf("VerifyLedger = %s\nwant %s", got, tc.want)
			}
			var text bytes.Buffer
			if err := res.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if (text.Len() > 0) != res.Intact {
				t.Errorf("WriteText wrote %q; want a line only for an intact ledger", text.String())
			}
		})
	}
}
