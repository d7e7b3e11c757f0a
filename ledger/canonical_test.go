package ledger

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/internal/canonjson"
)

// checkCanonical holds canonical(e) to what it replaces, canonjson.Marshal
// of the entry (encoding/json, then jcs): the same bytes, or an error from
// both.
func checkCanonical(t *testing.T, e Entry) {
	t.Helper()
	want, werr := canonjson.Marshal(e)
	got, err := canonical(e)
	if (err != nil) != (werr != nil) || !bytes.Equal(got, want) {
		t.Fatalf("canonical(%+v) = %q, %v; canonjson.Marshal = %q, %v", e, got, err, want, werr)
	}
}

var entryCases = []Entry{
	{Seq: 1, Type: TypeDecision, Time: time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC), Release: "lv-1", Service: "app",
		Key: "dec_1", Payload: json.RawMessage(`{"allow":true,"id":"dec_1"}`), Prev: ""},
	{Seq: 2, Type: TypeEvidence, Time: time.Date(2026, 11, 26, 10, 5, 0, 123456000, time.UTC), Key: "sha256:ab",
		Payload: json.RawMessage(`{}`), Prev: "sha256:01", Hash: "sha256:02"},
	{Seq: 3, Type: "x\"\\\b\f\n\r\t\x00\x1f\x7f<&>\u2028\u2029é\U0001F600", Key: "k", Payload: json.RawMessage(`[1,"a",null]`)},
	{Seq: maxExactInt, Payload: json.RawMessage(`0`)},
	{Seq: -maxExactInt, Payload: json.RawMessage(`"s"`)},
	{Seq: maxExactInt + 1, Payload: json.RawMessage(`{}`)},
	{Seq: 1 << 62, Payload: json.RawMessage(`{}`)},
	{Seq: -1 << 63, Payload: json.RawMessage(`{}`)},
	{Seq: 1, Payload: json.RawMessage(`{ "b": 1, "a": [1.0, 1e2] }`)}, // canonicalized, not copied
	{Seq: 1, Payload: json.RawMessage(`{"a":"\u0041"}`)},
	{Seq: 1, Payload: json.RawMessage(`{"a":1,"a":2}`)},
	{Seq: 1, Payload: json.RawMessage(`{"a":`)},
	{Seq: 1, Payload: json.RawMessage(``)},
	{Seq: 1, Payload: nil},
	{Seq: 1, Payload: json.RawMessage(`{}`), Key: "\xff\xfe", Prev: "a\xc3"},
	{Seq: 1, Payload: json.RawMessage("{\"a\":\"\xff\"}")},
	{Seq: 1, Payload: json.RawMessage(`{}`), Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", 5*3600+30*60))},
	{Seq: 1, Payload: json.RawMessage(`{}`), Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	{Seq: 1, Payload: json.RawMessage(`{}`), Time: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
	{Seq: 1, Payload: json.RawMessage(`{}`), Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 30))},
}

func TestCanonicalEntry(t *testing.T) {
	for _, e := range entryCases {
		checkCanonical(t, e)
	}
	// The entries every store appends are written directly.
	if _, ok := appendCanonical(nil, entryCases[0]); !ok {
		t.Errorf("appendCanonical(%+v) declined", entryCases[0])
	}
}

// FuzzCanonicalEntry compares canonical with canonjson.Marshal over
// arbitrary entries.
func FuzzCanonicalEntry(f *testing.F) {
	for _, e := range entryCases {
		_, off := e.Time.Zone()
		f.Add(e.Seq, e.Type, e.Time.Unix(), int64(e.Time.Nanosecond()), off, e.Release, e.Service, e.Key, []byte(e.Payload), e.Prev, e.Hash)
	}
	f.Fuzz(func(t *testing.T, seq int64, typ string, sec, nsec int64, off int, release, service, key string, payload []byte, prev, hash string) {
		tm := time.Unix(sec, nsec).In(time.FixedZone("", off%(100*3600)))
		checkCanonical(t, Entry{Seq: seq, Type: typ, Time: tm, Release: release, Service: service, Key: key,
			Payload: payload, Prev: prev, Hash: hash})
	})
}
