package server

import (
	"encoding/json"
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

// checkDepth agrees with the decoder on every valid JSON document: it
// passes exactly those nested at most max deep, whatever the strings hold.
func FuzzCheckDepth(f *testing.F) {
	for _, s := range []string{`{}`, `[[[]]]`, `{"a":"[[[[\"]]"}`, `["\\", [{"\"{": []}]]`, `"x"`, `[` + `[[[[[[[[` + `]]]]]]]]` + `]`} {
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		max = max%80 + 1
		if max < 1 {
			max = -max + 1
		}
		var v any
		if json.Unmarshal(b, &v) != nil {
			_ = checkDepth(b, max) // never panics on garbage
			return
		}
		err := checkDepth(b, max)
		if d := depth(v); (err == nil) != (d <= max) {
			t.Fatalf("checkDepth(%q, %d) = %v; the document is %d deep", b, max, err, d)
		}
	})
}
