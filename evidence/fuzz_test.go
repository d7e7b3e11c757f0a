package evidence

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzDecode checks that Decode never panics, that it rejects only with
// ValidationErrors, and that an accepted document has a stable identity:
// canonicalizing is idempotent and decoding the canonical form gives the
// same digest. Seeds are in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	v := newValidator(f, DefaultLimits)
	// The canonical form can be a little longer than the input (1e21 becomes
	// 1e+21), so re-decoding it must not trip the size limit.
	roomy := newValidator(f, Limits{MaxBytes: 4 * DefaultLimits.MaxBytes})
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := v.Decode("fuzz", b)
		if err != nil {
			var ves ValidationErrors
			if !errors.As(err, &ves) || len(ves) == 0 {
				t.Fatalf("Decode() error = %v (%T); want non-empty ValidationErrors", err, err)
			}
			return
		}
		canon, err := canonicalValue(doc.Value)
		if err != nil {
			t.Fatalf("canonicalValue(accepted document) = %v", err)
		}
		again, err := Canonical(canon)
		if err != nil {
			t.Fatalf("Canonical(canonical form) = %v", err)
		}
		if !bytes.Equal(canon, again) {
			t.Fatalf("Canonical not idempotent:\n%s\n%s", canon, again)
		}
		if DigestOf(canon) != doc.Digest {
			t.Fatalf("Digest = %s; want DigestOf(canonical) = %s", doc.Digest, DigestOf(canon))
		}
		if raw, err := Canonical(b); err != nil || !bytes.Equal(raw, canon) {
			t.Fatalf("Canonical(input) = %s, %v; want %s", raw, err, canon)
		}
		doc2, err := roomy.Decode("canonical", canon)
		if err != nil {
			t.Fatalf("Decode(canonical form) = %v", err)
		}
		if doc2.Digest != doc.Digest {
			t.Fatalf("Digest of canonical form = %s; want %s", doc2.Digest, doc.Digest)
		}
	})
}

// TestFuzzSeedsValid keeps the valid-* seeds valid, so that fuzzing starts
// from documents that reach the digest properties rather than only the
// decoder's rejections.
func TestFuzzSeedsValid(t *testing.T) {
	v := newValidator(t, DefaultLimits)
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzDecode", "valid-*"))
	if err != nil || len(seeds) == 0 {
		t.Fatalf("no valid seeds: %v", err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		lit, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "go test fuzz v1\n[]byte(")
		if !ok {
			t.Fatalf("%s: not a []byte corpus file", s)
		}
		doc, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if _, err := v.Decode(s, []byte(doc)); err != nil {
			t.Errorf("Decode(%s) = %v", s, err)
		}
	}
}
