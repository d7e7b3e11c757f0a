// Package canonjson writes JSON in its canonical form, RFC 8785 (the JSON
// Canonicalization Scheme): sorted members, shortest numbers, minimal
// string escapes. It is the one implementation behind what the ledger
// hashes (its entries) and what evidence hashes (its documents), so that
// both mean the same bytes by "canonical".
package canonjson

import (
	"bytes"
	"encoding/json"

	"github.com/gowebpki/jcs"
)

// Marshal returns the canonical JSON of v: encoding/json's encoding of v,
// canonicalized. Callers that need a strict reading of untrusted input
// (duplicate keys, lone surrogates) decode it themselves first and marshal
// the decoded value, as evidence.Canonical does.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the canonical form has none of these escapes
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	// jcs.Transform mis-parses a top-level number followed by whitespace.
	return jcs.Transform(bytes.TrimRight(buf.Bytes(), "\n"))
}
