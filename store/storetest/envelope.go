package storetest

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/store"
)

// envelopeFor wraps the document body in a DSSE-shaped envelope. The store
// checks that an envelope holds its document, not the signature: readers
// verify that with their trusted keys.
func envelopeFor(body []byte) []byte {
	return fmt.Appendf(nil, `{"signatures":[{"sig":"AAAA","keyid":"sha256:%064x"}], "payloadType":"application/vnd.shipgate.evidence+json","payload":%q}`,
		1, base64.StdEncoding.EncodeToString(body))
}

// testEvidenceEnvelope: a signed document keeps its envelope, canonical,
// beside the canonical document; its digest stays the document's; an
// envelope holding another document is refused.
func testEvidenceEnvelope(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	now := T0.Add(time.Hour)
	signed := NewEvidence(t, "Build", "lv-1", "app", T0, 1)
	signed.Envelope = envelopeFor(signed.Body)
	other := NewEvidence(t, "Build", "lv-1", "app", T0, 2)
	forged := other
	forged.Envelope = envelopeFor(signed.Body)
	if added, err := s.AddEvidence(ctx, now, []store.Evidence{forged}); err == nil {
		t.Fatalf("AddEvidence(envelope of another document) = %d added; want an error", len(added))
	}
	garbled := other
	garbled.Envelope = []byte(`{"payload":"!!","payloadType":"x","signatures":[]}`)
	if _, err := s.AddEvidence(ctx, now, []store.Evidence{garbled}); err == nil {
		t.Fatal("AddEvidence(envelope with a payload that is not base64) = nil; want an error")
	}
	if n := mustLen(t, s); n != 0 {
		t.Fatalf("Len() = %d after refused envelopes; want 0", n)
	}
	added, err := s.AddEvidence(ctx, now, []store.Evidence{signed, other})
	if err != nil {
		t.Fatal(err)
	}
	want := signed
	want.Envelope = []byte(fmt.Sprintf(`{"payload":%q,"payloadType":"application/vnd.shipgate.evidence+json","signatures":[{"keyid":"sha256:%064x","sig":"AAAA"}]}`,
		base64.StdEncoding.EncodeToString(signed.Body), 1))
	want.Seq, want.AddedAt = 1, now.Truncate(time.Microsecond)
	if diff := cmp.Diff(want, added[0]); diff != "" {
		t.Errorf("AddEvidence() (-want +got):\n%s", diff)
	}
	if added[1].Envelope != nil {
		t.Errorf("bare document came back with envelope %s", added[1].Envelope)
	}
	got, err := s.EvidenceByDigest(ctx, signed.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EvidenceByDigest() (-want +got):\n%s", diff)
	}
	list, err := s.Evidence(ctx, "lv-1")
	if err != nil || len(list) != 2 || string(list[0].Envelope) != string(want.Envelope) || list[1].Envelope != nil {
		t.Errorf("Evidence(lv-1) = %+v, %v; want the envelope on the first only", list, err)
	}
	if _, err := s.Verify(ctx, nil); err != nil {
		t.Errorf("Verify() = %v", err)
	}
}
