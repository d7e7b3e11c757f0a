package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gowebpki/jcs"
)

// referenceDigest is the definition the input digest keeps: sha256 of the
// RFC 8785 form of json.Marshal(dig).
func referenceDigest(dig *digestInput) (string, error) {
	b, err := json.Marshal(dig)
	if err != nil {
		return "", err
	}
	c, err := jcs.Transform(b)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(c)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

var awkward = []string{
	"", "plain", "lv-2026-11-26.1", `quote " and \ backslash`, "tab\tnew\nline\rcr", "\b\f\x00\x01\x1f\x7f",
	"<html> & 'amp'", "\u2028\u2029", "é ü 漢字", "😀 emoji", "bad \xff\xfe utf8", "\ufffd", "sha256:" + string(make([]byte, 3)),
}

func randomDigestInput(r *rand.Rand) *digestInput {
	s := func() string { return awkward[r.IntN(len(awkward))] }
	ss := func() []string {
		switch r.IntN(4) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		out := make([]string, 1+r.IntN(3))
		for i := range out {
			out[i] = s()
		}
		return out
	}
	zones := []*time.Location{time.UTC, time.FixedZone("", 3600), time.FixedZone("x", -(5*3600 + 30*60))}
	tm := func() time.Time {
		if r.IntN(5) == 0 {
			return time.Time{}
		}
		return time.Unix(r.Int64N(4e9), r.Int64N(2)*r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
	}
	dig := &digestInput{Gate: s(), Now: s(), Release: Release{ID: s(), Service: s(), Environment: s(), Commit: s(), Repository: s()},
		Evidence: ss()}
	if r.IntN(4) > 0 {
		dig.Freeze = []FreezeWindow{}
		for range r.IntN(3) {
			dig.Freeze = append(dig.Freeze, FreezeWindow{ID: s(), Name: s(), Reason: s(), Start: tm(), End: tm()})
		}
	}
	if r.IntN(4) > 0 {
		dig.Violations = []OpenViolation{}
		for range r.IntN(3) {
			dig.Violations = append(dig.Violations, OpenViolation{ID: s(), Release: s(), Gate: s(), Rules: ss(), Status: s(), OpenedAt: tm(), Due: tm()})
		}
	}
	if r.IntN(2) == 0 {
		dig.Signers = map[string][]string{}
		for range r.IntN(4) {
			dig.Signers[s()] = ss()
		}
	}
	return dig
}

// The digest written directly is byte for byte the one of json.Marshal and
// jcs.Transform, so every recorded decision keeps its input digest.
func TestInputDigestIsCanonical(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 10000))
	for i := range 5000 {
		dig := randomDigestInput(r)
		want, werr := referenceDigest(dig)
		got, gerr := dig.digest()
		if (werr != nil) != (gerr != nil) || got != want {
			b, _ := json.Marshal(dig)
			t.Fatalf("case %d: digest() = %s, %v; want %s, %v\ninput %s", i, got, gerr, want, werr, b)
		}
	}
}

func TestInputDigestFailsOnUnencodableTime(t *testing.T) {
	dig := &digestInput{Evidence: []string{}, Freeze: []FreezeWindow{{ID: "w", Start: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}}
	if _, err := referenceDigest(dig); err == nil {
		t.Fatal("reference accepted year 10000")
	}
	if d, err := dig.digest(); err == nil {
		t.Fatalf("digest() = %s; want an error for year 10000", d)
	}
}

func FuzzInputDigest(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, s, int64(0))
	}
	f.Fuzz(func(t *testing.T, a, b string, sec int64) {
		dig := &digestInput{Gate: a, Now: b, Release: Release{ID: a, Repository: b}, Evidence: []string{a, b},
			Freeze:     []FreezeWindow{{ID: a, Name: b, Start: time.Unix(sec, 0).UTC(), End: time.Unix(sec, 1)}},
			Violations: []OpenViolation{{ID: b, Rules: []string{a}}},
			Signers:    map[string][]string{a: {b}, b: {a}}}
		want, werr := referenceDigest(dig)
		got, gerr := dig.digest()
		if (werr != nil) != (gerr != nil) || got != want {
			t.Fatalf("digest() = %s, %v; want %s, %v", got, gerr, want, werr)
		}
	})
}
