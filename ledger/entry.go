// Package ledger is the tamper-evident record: append-only entries, each
// carrying the hash of the one before over canonical (RFC 8785) bytes, an
// RFC 6962 Merkle tree over the entry hashes, and ed25519-signed
// checkpoints of its head. Verification is a pure function of the entries
// and, optionally, a checkpoint kept elsewhere.
//
// The package knows nothing of storage: stores keep each entry's canonical
// body as it was appended and hand the bodies back to a Verifier.
package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/localizevideos/shipgate/internal/canonjson"
)

// Entry types.
const (
	TypeEvidence        = "evidence"
	TypeDecision        = "decision"
	TypeViolationOpened = "violation.opened"
	TypeViolationClosed = "violation.closed"
	TypeObligation      = "obligation.opened"
	TypeObligationDone  = "obligation.closed"
)

// Entry is one ledger record. Hash covers every other field; Prev is the
// Hash of the entry before (empty for the first).
type Entry struct {
	Seq     int64           `json:"seq"`
	Type    string          `json:"type"`
	Time    time.Time       `json:"time"`
	Release string          `json:"release,omitempty"`
	Service string          `json:"service,omitempty"`
	Key     string          `json:"key"`
	Payload json.RawMessage `json:"payload"`
	Prev    string          `json:"prev"`
	Hash    string          `json:"hash,omitempty"`
}

// Next builds the entry that follows prev (nil for the first entry) and
// computes its hash. Time is truncated to microseconds, which every store
// keeps exactly.
func Next(prev *Entry, e Entry) (Entry, error) {
	e.Seq, e.Prev = 1, ""
	if prev != nil {
		e.Seq, e.Prev = prev.Seq+1, prev.Hash
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if len(e.Payload) == 0 {
		e.Payload = json.RawMessage("{}")
	}
	h, err := e.digest()
	if err != nil {
		return Entry{}, err
	}
	e.Hash = h
	return e, nil
}

// Append is Next followed by Body, from one canonical encoding: the body
// is the hashed form with the "hash" member put first, where it sorts.
// The entry returned is the one Parse reads back from the body, except that
// Payload keeps the bytes given (the body holds their canonical form).
func Append(prev *Entry, e Entry) (Entry, []byte, error) {
	e.Seq, e.Prev, e.Hash = 1, "", ""
	if prev != nil {
		e.Seq, e.Prev = prev.Seq+1, prev.Hash
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if len(e.Payload) == 0 {
		e.Payload = json.RawMessage("{}")
	}
	c, err := canonical(e)
	if err != nil {
		return Entry{}, nil, err
	}
	sum := sha256.Sum256(c)
	e.Hash = "sha256:" + hex.EncodeToString(sum[:])
	body := make([]byte, 0, len(hashPrefix)+64+len(c)+1)
	body = append(body, hashPrefix...)
	body = hex.AppendEncode(body, sum[:])
	body = append(body, `",`...)
	body = append(body, c[1:]...)
	return e, body, nil
}

// digest is the hash of the entry's canonical form without its Hash field.
func (e Entry) digest() (string, error) {
	e.Hash = ""
	b, err := canonical(e)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// hashPrefix opens every canonical body: "hash" sorts before every other
// member name, so it is always first.
const hashPrefix = `{"hash":"sha256:`

// bodyDigest returns the hash recorded in a canonical body and the hash of
// the body without that member, which is the canonical form digest() hashes.
// Hashing the stored bytes themselves means any changed byte shows.
func bodyDigest(body []byte) (recorded, computed string, err error) {
	const n = len(hashPrefix) + 64 + len(`",`)
	if len(body) < n+1 || !bytes.HasPrefix(body, []byte(hashPrefix)) || !bytes.Equal(body[n-2:n], []byte(`",`)) {
		return "", "", errors.New(`body does not start with its "hash" member`)
	}
	recorded = "sha256:" + string(body[len(hashPrefix):n-2])
	h := sha256.New()
	h.Write([]byte{'{'})
	h.Write(body[n:])
	return recorded, "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// Body is the canonical JSON of the whole entry, hash included: what a store
// keeps and what Parse reads back.
func (e Entry) Body() ([]byte, error) { return canonical(e) }

// canonical returns the RFC 8785 form of e, byte for byte what
// canonjson.Marshal(e) returns (TestCanonicalEntry, FuzzCanonicalEntry).
// An entry is written member by member (appendCanonical); one it cannot
// vouch for that way goes through canonjson.Marshal.
func canonical(e Entry) ([]byte, error) {
	if c, ok := appendCanonical(make([]byte, 0, 320+len(e.Payload)), e); ok {
		return c, nil
	}
	c, err := canonjson.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("canonical entry: %w", err)
	}
	return c, nil
}

// maxExactInt is the largest integer every larger one of which a double
// may not hold: canonical JSON writes a number as its double.
const maxExactInt = 1<<53 - 1

// appendCanonical appends the canonical form of e, its members in RFC 8785
// order, without encoding it and parsing it again: the payload is copied
// as it is. It declines (false) an entry whose payload is not canonical
// already (canonjson.IsCanonical), whose strings are not valid UTF-8, whose
// time has no JSON form, or whose seq a double would not hold exactly.
func appendCanonical(c []byte, e Entry) ([]byte, bool) {
	if e.Seq > maxExactInt || e.Seq < -maxExactInt || !canonjson.IsCanonical(e.Payload) {
		return c, false
	}
	for _, s := range [...]string{e.Hash, e.Key, e.Prev, e.Release, e.Service, e.Type} {
		if !utf8.ValidString(s) {
			return c, false
		}
	}
	// "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)", quoted: nothing to escape.
	t, err := e.Time.MarshalJSON()
	if err != nil {
		return c, false
	}
	c = append(c, '{')
	if e.Hash != "" {
		c = append(canonjson.AppendString(append(c, `"hash":`...), e.Hash), ',')
	}
	c = canonjson.AppendString(append(c, `"key":`...), e.Key)
	c = append(append(c, `,"payload":`...), e.Payload...)
	c = canonjson.AppendString(append(c, `,"prev":`...), e.Prev)
	if e.Release != "" {
		c = canonjson.AppendString(append(c, `,"release":`...), e.Release)
	}
	c = strconv.AppendInt(append(c, `,"seq":`...), e.Seq, 10)
	if e.Service != "" {
		c = canonjson.AppendString(append(c, `,"service":`...), e.Service)
	}
	c = append(append(c, `,"time":`...), t...)
	c = canonjson.AppendString(append(c, `,"type":`...), e.Type)
	return append(c, '}'), true
}

// Parse reads a stored body. It rejects anything that is not exactly the
// canonical form of an entry, so no byte of a body can change unnoticed.
func Parse(body []byte) (Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("decode: %w", err)
	}
	if dec.More() {
		return Entry{}, errors.New("decode: trailing data")
	}
	c, err := canonical(e)
	if err != nil {
		return Entry{}, err
	}
	if !bytes.Equal(c, body) {
		return Entry{}, errors.New("body is not in canonical form")
	}
	return e, nil
}

// hashBytes decodes a "sha256:<hex>" hash.
func hashBytes(h string) ([]byte, error) {
	rest, ok := strings.CutPrefix(h, "sha256:")
	if !ok {
		return nil, fmt.Errorf("hash %q: want sha256:<hex>", h)
	}
	b, err := hex.DecodeString(rest)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("hash %q: want 64 hex characters", h)
	}
	return b, nil
}
