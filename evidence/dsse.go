package evidence

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// PayloadType is the DSSE payloadType of a signed evidence document. An
// envelope with any other payloadType is not shipgate evidence.
const PayloadType = "application/vnd.shipgate.evidence+json"

// KeyID names an ed25519 public key in envelopes, in policy data
// (signing.trusted_keys) and in signed_by: "sha256:" and the lower-case hex
// SHA-256 of the 32 raw bytes of the key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Keyring holds the public keys whose signatures on evidence are trusted.
// The zero value trusts no key.
type Keyring struct {
	keys map[string]ed25519.PublicKey
	gen  uint64 // counts Add: what was decoded before may now verify
}

// NewKeyring returns a keyring trusting pubs.
func NewKeyring(pubs ...ed25519.PublicKey) *Keyring {
	k := &Keyring{}
	for _, p := range pubs {
		k.Add(p)
	}
	return k
}

// Add trusts pub and returns its key id.
func (k *Keyring) Add(pub ed25519.PublicKey) string {
	if k.keys == nil {
		k.keys = map[string]ed25519.PublicKey{}
	}
	id := KeyID(pub)
	k.keys[id] = pub
	k.gen++
	return id
}

// IDs lists the trusted key ids, sorted.
func (k *Keyring) IDs() []string {
	if k == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(k.keys))
}

// Key is the trusted key of id.
func (k *Keyring) Key(id string) (ed25519.PublicKey, bool) { return k.key(id) }

// Signers lists the key ids of the signatures of a DSSE envelope (its
// signatures[].keyid), whether or not they verify; nil when env is not
// an envelope.
func Signers(env []byte) []string {
	var e struct {
		Signatures []struct {
			KeyID string `json:"keyid"`
		} `json:"signatures"`
	}
	if json.Unmarshal(env, &e) != nil {
		return nil
	}
	var ids []string
	for _, s := range e.Signatures {
		if s.KeyID != "" && !slices.Contains(ids, s.KeyID) {
			ids = append(ids, s.KeyID)
		}
	}
	return ids
}

func (k *Keyring) generation() uint64 {
	if k == nil {
		return 0
	}
	return k.gen
}

func (k *Keyring) key(id string) (ed25519.PublicKey, bool) {
	if k == nil {
		return nil, false
	}
	p, ok := k.keys[id]
	return p, ok
}

// Signer signs evidence documents with an ed25519 key. It is also a
// go-securesystemslib dsse.Signer.
type Signer struct {
	key ed25519.PrivateKey
	id  string
}

// NewSigner returns a Signer for key.
func NewSigner(key ed25519.PrivateKey) *Signer {
	return &Signer{key: key, id: KeyID(key.Public().(ed25519.PublicKey))}
}

// KeyID returns the id of the signing key's public half.
func (s *Signer) KeyID() (string, error) { return s.id, nil }

// Public returns the signing key's public half.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign signs data, which DSSE passes already in its pre-authentication
// encoding (PAE).
func (s *Signer) Sign(_ context.Context, data []byte) ([]byte, error) {
	return ed25519.Sign(s.key, data), nil
}

var _ dsse.Signer = (*Signer)(nil)

// Seal returns the DSSE envelope, as JSON, of the evidence document doc:
// payloadType PayloadType, doc as its base64 payload, and one signature over
// the PAE of both. doc is signed as given; the document's digest stays the
// digest of its canonical form.
func (s *Signer) Seal(ctx context.Context, doc []byte) ([]byte, error) {
	es, err := dsse.NewEnvelopeSigner(s)
	if err != nil {
		return nil, fmt.Errorf("sign evidence: %w", err)
	}
	env, err := es.SignPayload(ctx, PayloadType, doc)
	if err != nil {
		return nil, fmt.Errorf("sign evidence: %w", err)
	}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("sign evidence: %w", err)
	}
	return b, nil
}

// Signature-related ValidationError keywords.
const (
	// KeywordEnvelope: the DSSE envelope itself is malformed.
	KeywordEnvelope = "envelope"
	// KeywordPayloadType: the envelope's payloadType is not PayloadType.
	KeywordPayloadType = "payload-type"
	// KeywordUnknownKey: a signature names a key that is not trusted.
	KeywordUnknownKey = "unknown-key"
	// KeywordSignature: a signature does not verify.
	KeywordSignature = "signature"
)

// isEnvelope tells a DSSE envelope from a bare document: a document always
// has "kind", an envelope has "payloadType" and never "kind".
func isEnvelope(obj map[string]any) bool {
	_, kind := obj["kind"]
	_, pt := obj["payloadType"]
	_, sigs := obj["signatures"]
	return !kind && (pt || sigs)
}

// openEnvelope checks the shape of the envelope obj, verifies every
// signature against keys, and returns the payload and the verified key ids,
// sorted. Every signature must be by a trusted key and must verify: an
// envelope is evidence of who signed it only if nothing in it is forged.
//
// With untrustedOK (an envelope read back from the ledger, whose bytes the
// hash chain already vouches for) a signature by a key not trusted now is
// left out of the signers instead: the document still counts, as unsigned by
// that key, and a policy that requires a trusted signer denies. A signature
// by a trusted key that does not verify is an error either way.
func openEnvelope(source string, obj map[string]any, keys *Keyring, untrustedOK bool) ([]byte, []string, error) {
	fail := func(ptr, keyword, msg string) error {
		return ValidationErrors{{Source: source, Pointer: ptr, Keyword: keyword, Message: msg}}
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if k != "payloadType" && k != "payload" && k != "signatures" {
			return nil, nil, fail("", KeywordEnvelope, fmt.Sprintf("additional property %q is not allowed in a DSSE envelope (want payloadType, payload, signatures)", k))
		}
	}
	pt, ok := obj["payloadType"].(string)
	if !ok {
		return nil, nil, fail("/payloadType", KeywordEnvelope, "a DSSE envelope needs a string payloadType")
	}
	p64, ok := obj["payload"].(string)
	if !ok {
		return nil, nil, fail("/payload", KeywordEnvelope, "a DSSE envelope needs a base64 string payload")
	}
	sigs, ok := obj["signatures"].([]any)
	if !ok || len(sigs) == 0 {
		return nil, nil, fail("/signatures", KeywordEnvelope, "a DSSE envelope needs a non-empty signatures array")
	}
	if pt != PayloadType {
		return nil, nil, fail("/payloadType", KeywordPayloadType, fmt.Sprintf("payloadType %q is not %q", pt, PayloadType))
	}
	payload, err := (&dsse.Envelope{Payload: p64}).DecodeB64Payload()
	if err != nil {
		return nil, nil, fail("/payload", KeywordEnvelope, "payload is not valid base64")
	}
	pae := dsse.PAE(pt, payload)
	var signers []string
	for i, s := range sigs {
		ptr := "/signatures/" + strconv.Itoa(i)
		m, ok := s.(map[string]any)
		if !ok {
			return nil, nil, fail(ptr, KeywordEnvelope, "a signature must be an object with keyid and sig")
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if k != "keyid" && k != "sig" {
				return nil, nil, fail(ptr, KeywordEnvelope, fmt.Sprintf("additional property %q is not allowed in a signature (want keyid, sig)", k))
			}
		}
		id, _ := m["keyid"].(string)
		if id == "" {
			return nil, nil, fail(ptr+"/keyid", KeywordEnvelope, "a signature needs a keyid naming its key (sha256:<hex of the public key>)")
		}
		sig64, ok := m["sig"].(string)
		if !ok {
			return nil, nil, fail(ptr+"/sig", KeywordEnvelope, "a signature needs a base64 string sig")
		}
		pub, ok := keys.key(id)
		if !ok && untrustedOK {
			continue
		}
		if !ok {
			msg := fmt.Sprintf("key %s is not trusted", id)
			if len(keys.IDs()) == 0 {
				msg += " (no trusted keys are configured: give --trusted-key)"
			}
			return nil, nil, fail(ptr+"/keyid", KeywordUnknownKey, msg)
		}
		sig, err := base64.StdEncoding.DecodeString(sig64)
		if err != nil {
			sig, err = base64.URLEncoding.DecodeString(sig64)
		}
		if err != nil || !ed25519.Verify(pub, pae, sig) {
			return nil, nil, fail(ptr+"/sig", KeywordSignature, fmt.Sprintf("signature by %s does not verify: the payload or its type was changed after signing, or the signature is not by that key", id))
		}
		if !slices.Contains(signers, id) {
			signers = append(signers, id)
		}
	}
	slices.Sort(signers)
	return payload, signers, nil
}

// decodeEnvelope decodes the document inside the verified envelope obj.
// The document's errors name the payload as their source.
func (v *Validator) decodeEnvelope(source string, obj map[string]any) (*Document, error) {
	payload, signers, err := openEnvelope(source, obj, v.keys, v.recorded)
	if err != nil {
		return nil, err
	}
	inner := source + " (DSSE payload)"
	val, verr := parse(payload, v.lim.MaxDepth)
	if verr != nil {
		verr.Source = inner
		return nil, ValidationErrors{*verr}
	}
	if m, ok := val.(map[string]any); ok && isEnvelope(m) {
		return nil, ValidationErrors{{Source: inner, Keyword: KeywordEnvelope, Message: "an envelope inside an envelope is not evidence"}}
	}
	doc, err := v.decodeValue(inner, val)
	if err != nil {
		return nil, err
	}
	env, err := canonicalValue(obj)
	if err != nil {
		return nil, fmt.Errorf("canonicalize envelope %s: %w", source, err)
	}
	doc.Source, doc.SignedBy, doc.Envelope = source, signers, env
	return doc, nil
}

// ForLedger returns a copy of v for evidence read back from the ledger: an
// envelope signed by a key that is not trusted now decodes, with only the
// trusted signers in SignedBy, instead of failing. The ledger recorded the
// envelope after verifying it and its hash chain covers the bytes; whether
// an untrusted signer is enough is the policy's question (signature.required),
// and a recorded document must not make every later gate of its release an
// error.
func (v *Validator) ForLedger() *Validator {
	c := *v
	c.recorded = true
	return &c
}

// WithKeys returns a copy of v that accepts DSSE envelopes signed by keys
// and records their signers. Without keys, an envelope is invalid evidence.
func (v *Validator) WithKeys(keys *Keyring) *Validator {
	c := *v
	c.keys = keys
	return &c
}

// Trusting returns a copy of v that trusts pubs besides the keys it
// trusts already (a server trusts the key it signs with itself).
func (v *Validator) Trusting(pubs ...ed25519.PublicKey) *Validator {
	k := NewKeyring(pubs...)
	if v.keys != nil {
		for _, p := range v.keys.keys {
			k.Add(p)
		}
	}
	c := *v
	c.keys = k
	return &c
}
