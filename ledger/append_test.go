package ledger_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/ledger"
)

// Append writes the body Next and Body write, and the entry Parse reads
// back from it, but for the payload's bytes.
func TestAppendIsNextThenBody(t *testing.T) {
	payloads := []string{``, `{}`, `{"b": 1.0, "a": "\u00e9\u2028<&>", "c": [3, 2e3]}`, `{"z":{"y":null,"x":true}}`}
	var prev *ledger.Entry
	for i, p := range payloads {
		tmpl := ledger.Entry{Type: ledger.TypeDecision, Time: t0.Add(time.Duration(i) * 1500 * time.Nanosecond),
			Release: "lv-1", Key: "dec", Payload: json.RawMessage(p)}
		if i%2 == 1 {
			tmpl.Service, tmpl.Release = "app", ""
		}
		want, err := ledger.Next(prev, tmpl)
		if err != nil {
			t.Fatal(err)
		}
		wantBody, err := want.Body()
		if err != nil {
			t.Fatal(err)
		}
		got, body, err := ledger.Append(prev, tmpl)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(body, wantBody) {
			t.Fatalf("payload %s: Append body\n%s\nwant\n%s", p, body, wantBody)
		}
		back, err := ledger.Parse(body)
		if err != nil {
			t.Fatal(err)
		}
		got.Payload, back.Payload = nil, nil
		if !reflect.DeepEqual(got, back) {
			t.Fatalf("payload %s: Append entry %+v; Parse reads %+v", p, got, back)
		}
		prev = &want
	}
}
