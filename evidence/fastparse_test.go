package evidence

import (
	"reflect"
	"testing"
)

// fastParseCases add to canonicalCases what fastParse must decline or get
// right: every kind of syntax error, duplicate keys, depth, numbers out of
// I-JSON, control characters, bad escapes and lone surrogates.
var fastParseCases = []string{
	``, ` `, `{`, `}`, `[`, `[1,]`, `[,1]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1 "b":2}`, `[1 2]`,
	`{"a":1,"a":2}`, `{"a":{"b":1,"b":1}}`, `[[[[[[[[1]]]]]]]]`,
	`01`, `-`, `-01`, `1.`, `.1`, `1e`, `1e+`, `+1`, `1x`, `truex`, `nul`, `[true false]`, `1e400`, `1e-400`, `9007199254740992`, `-9007199254740993`, `0e0`, `-0.0e-0`,
	`"a` + "\x01" + `"`, `"\x"`, `"\u12"`, `"\u12g4"`, `"\ud800"`, `"\udc00"`, `"\ud800\u0041"`, `"\ud800\ud800"`, `"\ud83d\ude00"`, `"\uD83D\uDE00"`, `"\ufffd"`, "\"\xff\"", `"\/\b\f\n\r\t\"\\"`,
	`{"a":1} x`, `{"a":1}{}`, "\t{\"a\" :\r\n[ 1 , 2 ]\n}\n", `"unterminated`, `"esc \"`,
}

// fastParse accepts only what parseTokens accepts, and reads it the same.
func TestFastParse(t *testing.T) {
	accepted := 0
	for _, b := range canonicalCases(t) {
		if checkFastParse(t, b, canonicalMaxDepth) {
			accepted++
		}
	}
	for _, s := range fastParseCases {
		for _, depth := range []int{3, 64} {
			checkFastParse(t, []byte(s), depth)
		}
	}
	if accepted < 10 {
		t.Errorf("fastParse accepted %d of the corner cases and test documents; want them read fast", accepted)
	}
}

func FuzzFastParse(f *testing.F) {
	for _, b := range canonicalCases(f) {
		f.Add(b)
	}
	for _, s := range fastParseCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkFastParse(t, b, 8) })
}

// checkFastParse compares fastParse with parseTokens on b; it reports
// whether fastParse accepted b.
func checkFastParse(t *testing.T, b []byte, depth int) bool {
	t.Helper()
	got, ok := fastParse(b, depth)
	want, err := parseTokens(b, depth)
	if !ok {
		return false
	}
	if err != nil {
		t.Errorf("%q: fastParse accepts what parseTokens refuses (%v)", b, err)
	} else if !reflect.DeepEqual(got, want) {
		t.Errorf("%q: fastParse = %#v; parseTokens = %#v", b, got, want)
	}
	return true
}
