package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/localizevideos/shipgate/evidence"
)

// envelopeOf canonicalizes the DSSE envelope env kept with the evidence
// document whose digest is digest, and checks that its payload is that
// document. The store holds no keys: it checks the binding, and whoever
// reads the evidence back verifies the signatures (evidence.Validator).
func envelopeOf(digest string, env []byte) (json.RawMessage, error) {
	if len(env) == 0 {
		return nil, nil
	}
	c, err := evidence.Canonical(env)
	if err != nil {
		return nil, fmt.Errorf("evidence %s: envelope: %w", digest, err)
	}
	var e struct {
		Payload string `json:"payload"`
	}
	if err := json.Unmarshal(c, &e); err != nil {
		return nil, fmt.Errorf("evidence %s: envelope: %w", digest, err)
	}
	payload, err := base64.StdEncoding.DecodeString(e.Payload)
	if err != nil {
		if payload, err = base64.URLEncoding.DecodeString(e.Payload); err != nil {
			return nil, fmt.Errorf("evidence %s: envelope: payload is not base64", digest)
		}
	}
	doc, err := evidence.Canonical(payload)
	if err != nil {
		return nil, fmt.Errorf("evidence %s: envelope payload: %w", digest, err)
	}
	if got := evidence.DigestOf(doc); got != digest {
		return nil, fmt.Errorf("evidence %s: the envelope holds another document (%s)", digest, got)
	}
	return c, nil
}

// Recorded is what to decode to read the document back as it was recorded:
// its DSSE envelope when it came signed, so that the reader verifies the
// signers again with the keys it trusts, else the document itself.
func (e Evidence) Recorded() []byte {
	if len(e.Envelope) > 0 {
		return e.Envelope
	}
	return e.Body
}
