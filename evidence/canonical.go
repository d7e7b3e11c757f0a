package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/gowebpki/jcs"
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
//
// The values parse returns are written directly (appendCanonical), byte
// for byte what canonjson.Marshal writes for them (TestCanonicalWriter,
// FuzzCanonicalWriter) without encoding them and parsing them again;
// anything else goes through canonjson.
func canonicalValue(v any) ([]byte, error) {
	if out, ok := appendCanonical(make([]byte, 0, 1024), v); ok {
		return out, nil
	}
	out, err := canonjson.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("canonicalize: %w", err)
	}
	return out, nil
}

// appendCanonical appends the RFC 8785 form of v, a value as parse returns
// it, to out; false when v holds anything else (or a number that is not
// an I-JSON one), for canonjson to handle or refuse.
func appendCanonical(out []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case nil:
		return append(out, "null"...), true
	case bool:
		return strconv.AppendBool(out, v), true
	case string:
		return canonjson.AppendString(out, v), true
	case json.Number:
		// As jcs does: the number's double, in ECMAScript's shortest form.
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return out, false
		}
		n, err := jcs.NumberToJSON(f)
		if err != nil {
			return out, false
		}
		return append(out, n...), true
	case []any:
		out = append(out, '[')
		for i, e := range v {
			if i > 0 {
				out = append(out, ',')
			}
			var ok bool
			if out, ok = appendCanonical(out, e); !ok {
				return out, false
			}
		}
		return append(out, ']'), true
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, compareUTF16)
		out = append(out, '{')
		for i, k := range keys {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(canonjson.AppendString(out, k), ':')
			var ok bool
			if out, ok = appendCanonical(out, v[k]); !ok {
				return out, false
			}
		}
		return append(out, '}'), true
	}
	return out, false
}

// compareUTF16 orders member names by their UTF-16 code units, as RFC
// 8785 sorts them. UTF-8 byte order is code point order, which differs
// from it only where a name has a character beyond U+FFFF.
func compareUTF16(a, b string) int {
	if isBMP(a) && isBMP(b) {
		return strings.Compare(a, b)
	}
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

// isBMP reports whether s has no character beyond U+FFFF (none of its
// UTF-8 sequences is four bytes long).
func isBMP(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xF0 {
			return false
		}
	}
	return true
}

// DigestOf returns "sha256:" followed by the lower-case hex SHA-256 of
// canonical, which should come from Canonical.
func DigestOf(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ShortDigest is a digest as the text reports print it: "sha256:" and the
// first 12 hex digits; "-" for none.
func ShortDigest(d string) string {
	if d == "" {
		return "-"
	}
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		d = d[:12]
	}
	return "sha256:" + d
}
