package server

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// depth is the nesting depth of a decoded JSON value.
func depth(v any) int {
	switch x := v.(type) {
	case map[string]any:
		d := 0
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	case []any:
		d := 0
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	}
	return 0
}

// readBody accepts only valid JSON nested at most maxDepth deep, whatever
// the strings hold, and never a body that encoding/json would read with one
// of two equal keys lost.
func FuzzReadBody(f *testing.F) {
	for _, s := range []string{`{}`, `[[[]]]`, `{"a":"[[[[\"]]"}`, `["\\", [{"\"{": []}]]`, `"x"`, `{"a":1,"a":2}`, `{"a":{"b":1,"b":1}}`, strings.Repeat("[", 65) + strings.Repeat("]", 65)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := httptest.NewRequest("POST", "/v1/evidence", bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
		got, err := readBody(r)
		if err != nil {
			return
		}
		var v any
		if err := json.Unmarshal(got, &v); err != nil {
			t.Fatalf("readBody(%q) accepted invalid JSON: %v", b, err)
		}
		if d := depth(v); d > maxDepth {
			t.Fatalf("readBody(%q) accepted a body %d deep", b, d)
		}
		if keys(got) != keys(mustMarshal(t, v)) {
			t.Fatalf("readBody(%q) accepted a body with a key twice", b)
		}
	})
}

// keys counts the object members of JSON b.
func keys(b []byte) int {
	dec := json.NewDecoder(bytes.NewReader(b))
	n, inObject := 0, []bool{}
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return n
		}
		switch tok {
		case json.Delim('{'):
			inObject = append(inObject, true)
			expectKey = true
			continue
		case json.Delim('['):
			inObject = append(inObject, false)
		case json.Delim('}'), json.Delim(']'):
			inObject = inObject[:len(inObject)-1]
		default:
			if expectKey {
				n++
				expectKey = false
				continue
			}
		}
		expectKey = len(inObject) > 0 && inObject[len(inObject)-1]
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
