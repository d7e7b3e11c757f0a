package store

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/ledger"
)

// chained chains r's entry after prev, as a store does.
func chained[T any](t *testing.T, prev *ledger.Entry, r Record[T]) ledger.Entry {
	t.Helper()
	tmpl := r.Entry
	tmpl.Time = time.Date(2026, 11, 26, 10, 0, 0, 1500, time.UTC)
	e, _, err := ledger.Append(prev, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// The record each constructor builds, stamped with the chained entry, is
// the one the entry reads back as.
func TestRecordsReadBack(t *testing.T) {
	doc := []byte(`{"kind":"Build","release":{"id":"lv-1","service":"app","environment":"prod"},` +
		`"subject":{"commit":"abc"},"collectedAt":"2026-11-26T09:00:00.123456789+01:00","n":"<&>"}`)
	env := fmt.Appendf(nil, `{"payloadType":"application/vnd.shipgate.evidence+json","payload":%q,"signatures":[]}`,
		base64.StdEncoding.EncodeToString(doc))
	for _, ev := range []Evidence{{Body: doc, Source: "ci"}, {Body: doc, Envelope: env}} {
		r, err := NewEvidence(ev)
		if err != nil {
			t.Fatal(err)
		}
		e := chained(t, nil, r)
		want, err := EvidenceOf(e)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Stamp(e); !reflect.DeepEqual(got, want) {
			t.Errorf("NewEvidence stamped\n%+v\nEvidenceOf\n%+v", got, want)
		}
	}
	d, err := NewDecision(Decision{Body: []byte(`{"id":"dec_1","gate":"deploy","release":{"id":"lv-1","service":"app"},"allow":true,"evaluatedAt":"2026-11-26T10:00:00Z"}`)})
	if err != nil {
		t.Fatal(err)
	}
	e := chained(t, &ledger.Entry{Seq: 6, Hash: "sha256:00"}, d)
	if want, err := DecisionOf(e); err != nil || !reflect.DeepEqual(d.Stamp(e), want) {
		t.Errorf("NewDecision stamped %+v; DecisionOf %+v (%v)", d.Stamp(e), want, err)
	}
	v, err := NewOpened(Violation{ID: "vio_1", Kind: KindViolation, ReleaseID: "lv-1", Service: "app", DecisionID: "dec_1",
		OpenedAt: time.Now(), Due: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	e = chained(t, nil, v)
	if want, err := ViolationOf(e); err != nil || !reflect.DeepEqual(v.Stamp(e), want) {
		t.Errorf("NewOpened stamped %+v; ViolationOf %+v (%v)", v.Stamp(e), want, err)
	}
}
