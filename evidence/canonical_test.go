package evidence

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/localizevideos/shipgate/internal/canonjson"
)

// canonicalCases are JSON texts whose canonical forms test the writer's
// corners: every control character, quotes and backslashes, characters
// that encoding/json escapes and jcs does not, member names beyond U+FFFF
// (sorted by UTF-16 code units, not code points), and numbers that
// ECMAScript spells differently from their input.
func canonicalCases(t testing.TB) [][]byte {
	var ctl []byte
	for c := range 0x20 {
		ctl = append(ctl, []byte(`\u`+strconv.FormatInt(int64(0x10000+c), 16)[1:])...)
	}
	cases := [][]byte{
		[]byte(`{"s":"` + string(ctl) + `\" \\ \/ <&> \u007f \u2028 \u2029 é 😀 \ud83d\ude00"}`),
		[]byte(`{"\ue000":1,"😀":2,"z":3,"é":4,"":5,"a":{"b":[],"a":{}}}`),
		[]byte(`[1e21, 1e20, 1E-7, 0.000001, -0, -0.0, 0.1, 1.5e300, 9007199254740991, 4.9e-324, 100, 1.0, -12.50]`),
		[]byte(`[true, false, null, "", [], {}, [[[]]]]`),
		[]byte(`"top"`), []byte(`42`), []byte(`null`),
	}
	for _, pattern := range []string{"testdata/*.json", "testdata/fuzz/FuzzDecode/*", "testdata/fuzz/FuzzEnvelope/*"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			cases = append(cases, b)
			// A fuzz seed file quotes its input: add what it quotes.
			for _, line := range bytes.Split(b, []byte("\n")) {
				if q, ok := bytes.CutPrefix(line, []byte("[]byte(")); ok {
					if s, err := strconv.Unquote(string(bytes.TrimSuffix(q, []byte(")")))); err == nil {
						cases = append(cases, []byte(s))
					}
				}
			}
		}
	}
	return cases
}

// The canonical writer writes what canonjson (jcs) writes for every value
// parse returns.
func TestCanonicalWriter(t *testing.T) {
	n := 0
	for _, b := range canonicalCases(t) {
		if checkCanonicalWriter(t, b) {
			n++
		}
	}
	if n < 10 {
		t.Errorf("only %d cases parsed; want the corner cases and the test documents", n)
	}
	// A value parse never returns goes through canonjson.
	if got, err := canonicalValue(map[string]any{"n": 1.5, "s": []string{"b"}}); err != nil || string(got) != `{"n":1.5,"s":["b"]}` {
		t.Errorf("canonicalValue(Go values) = %s, %v", got, err)
	}
}

func FuzzCanonicalWriter(f *testing.F) {
	for _, b := range canonicalCases(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkCanonicalWriter(t, b) })
}

// checkCanonicalWriter compares the writer with canonjson on b, when b
// parses; it reports whether it did.
func checkCanonicalWriter(t *testing.T, b []byte) bool {
	t.Helper()
	v, verr := parse(b, canonicalMaxDepth)
	if verr != nil {
		return false
	}
	want, err := canonjson.Marshal(v)
	got, ok := appendCanonical(nil, v)
	if err != nil {
		if ok {
			t.Errorf("%q: canonjson refuses (%v); the writer wrote %s", b, err, got)
		}
		return true
	}
	if !ok || !bytes.Equal(got, want) {
		t.Errorf("%q: writer = %s, %t; canonjson = %s", b, got, ok, want)
	}
	if !json.Valid(got) {
		t.Errorf("%q: writer wrote invalid JSON %s", b, got)
	}
	return true
}
