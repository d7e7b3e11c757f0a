package canonjson_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/internal/canonjson"
)

// checkCanonicalize holds Canonicalize to evidence.Canonical: what it
// returns, evidence.Canonical returns too.
func checkCanonicalize(t *testing.T, b []byte) bool {
	t.Helper()
	got, ok := canonjson.Canonicalize(b)
	if !ok {
		return false
	}
	want, err := evidence.Canonical(b)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Canonicalize(%q) = %q; evidence.Canonical = %q, %v", b, got, want, err)
	}
	return true
}

var canonicalizeCases = []struct {
	in     string
	direct bool // Canonicalize takes it
}{
	{`{"b":1,"a":[true,false,null],"c":{"e":"f","d":-0}}`, true},
	{` { "z" : 1e2 , "y" : [ 1.0 , 0.1 , -3e30 , 123456789012345678 ] } `, false},
	{` { "z" : 1e2 , "y" : [ 1.0 , 0.1 , -3e30 , 12345678901234 ] } `, true},
	{`{"a":"\u003c\u0026\u003e\u2028\n\t\"\\\/\u0041\u00e9","b":"x"}`, true},
	{"{\"\uffff\":1,\"\U0001F600\":2,\"a\":3}", true},
	{`{"a":1,"a":2}`, false},
	{`{"a":1,"\u0061":2}`, false},
	{`"\ud83d\ude00"`, false},
	{`"\ud83d"`, false},
	{`9007199254740991`, true},
	{`9007199254740992`, false},
	{`1e400`, false},
	{`1e-400`, false},
	{`[]`, true},
	{`{}`, true},
	{`{"a":[{},{"c":1,"b":2}]}`, true},
	{`[1,]`, false},
	{`{"a":1,}`, false},
	{`{"a" 1}`, false},
	{`tru`, false},
	{`1true`, false},
	{"\"\x01\"", false},
	{"\"\xff\"", false},
	{`"\x"`, false},
	{``, false},
}

func TestCanonicalize(t *testing.T) {
	for _, tt := range canonicalizeCases {
		if got := checkCanonicalize(t, []byte(tt.in)); got != tt.direct {
			t.Errorf("Canonicalize(%q) took it: %v; want %v", tt.in, got, tt.direct)
		}
	}
	// What encoding/json writes of a struct is taken.
	b, err := json.Marshal(struct {
		Z string         `json:"z"`
		A map[string]any `json:"a"`
		M []int          `json:"m"`
	}{"<&>\u2028", map[string]any{"y": 1.5, "x": nil}, []int{3, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if !checkCanonicalize(t, b) {
		t.Errorf("Canonicalize(%s) declined", b)
	}
}

// FuzzCanonicalize compares Canonicalize with evidence.Canonical.
func FuzzCanonicalize(f *testing.F) {
	for _, tt := range canonicalizeCases {
		f.Add([]byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCanonicalize(t, b)
	})
}
