package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/localizevideos/shipgate/internal/canonjson"
)

// canonicalMaxDepth matches encoding/json's own nesting limit: Canonical
// serves any JSON, not only evidence documents.
const canonicalMaxDepth = 10000

// Canonical returns the RFC 8785 (JSON Canonicalization Scheme) form of the
// JSON value b. It decodes b as strictly as Validator.Decode does (valid
// UTF-8, no duplicate keys, no lone surrogates, I-JSON numbers, nothing
// after the value) but accepts any value, not only objects, and applies no
// size limit. Errors are ValidationErrors.
func Canonical(b []byte) ([]byte, error) {
	v, verr := parse(b, canonicalMaxDepth)
	if verr != nil {
		return nil, ValidationErrors{*verr}
	}
	return canonicalValue(v)
}

// CheckJSON checks that b is one JSON value read as strictly as
// Validator.Decode reads a document: valid UTF-8, no duplicate keys, no
// lone surrogates, I-JSON numbers, objects and arrays nested at most
// maxDepth deep, nothing after the value. It is for JSON that is not
// evidence (the server's request bodies), so that what reaches
// encoding/json, which keeps the last of two equal keys, has one meaning.
// Errors are ValidationErrors naming the pointer ("duplicate-key" names
// the key).
func CheckJSON(b []byte, maxDepth int) error {
	if _, verr := parse(b, maxDepth); verr != nil {
		return ValidationErrors{*verr}
	}
	return nil
}

// canonicalValue canonicalizes a decoded value. It goes through the decoded
// value, rather than handing the input bytes to jcs, so that the digest
// covers exactly what policies see: jcs would otherwise read escapes and
// duplicate keys its own way.
func canonicalValue(v any) ([]byte, error) {
	out, err := canonjson.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("canonicalize: %w", err)
	}
	return out, nil
}

// DigestOf returns "sha256:" followed by the lower-case hex SHA-256 of
// canonical, which should come from Canonical.
func DigestOf(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return "sha256:" + hex.EncodeToString(sum[:])
}
