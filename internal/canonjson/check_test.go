package canonjson

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

var canonicalCases = []struct {
	in   string
	want bool
}{
	{`{}`, true},
	{`[]`, true},
	{`null`, true},
	{`true`, true},
	{`"x"`, true},
	{`0`, true},
	{`-1`, true},
	{`123456789012345`, true},
	{`9007199254740991`, true},
	{`1.5`, true},
	{`1e+21`, true},
	{`1e-7`, true},
	{`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, true},
	{`{"a":"\"\\\b\f\n\r\t\u0000\u001f"}`, true},
	{"{\"a\":\"<&>\u2028é\x7f\"}", true},
	{`{"":0,"a":0}`, true},
	{"{\"\U0001F600\":0,\"\uffff\":0}", true}, // UTF-16 order: a surrogate sorts before U+FFFF
	{"{\"\uffff\":0,\"\U0001F600\":0}", false},
	{`{"b":1,"a":2}`, false},
	{`{"a":1,"a":2}`, false},
	{`{"\u0061":1}`, false}, // an escaped name
	{`{"a\n":1}`, false},
	{`{ "a":1}`, false},
	{`{"a": 1}`, false},
	{`[1, 2]`, false},
	{` {}`, false},
	{`{} `, false},
	{`{}{}`, false},
	{`"\/"`, false},
	{`"\u0041"`, false},
	{`"\u000a"`, false},
	{`"\u001F"`, false},
	{`"\u0020"`, false},
	{`"\ud83d\ude00"`, false},
	{"\"\x01\"", false},
	{"\"\xff\"", false},
	{"\"\xed\xa0\x80\"", false}, // a surrogate in UTF-8
	{`"abc`, false},
	{`-0`, false},
	{`01`, false},
	{`1.0`, false},
	{`1E+21`, false},
	{`1e21`, false},
	{`100e0`, false},
	{`9007199254740993`, false},
	{`1.`, false},
	{`-`, false},
	{`.5`, false},
	{`tru`, false},
	{`nul`, false},
	{``, false},
	{`{"a"}`, false},
	{`{"a":}`, false},
	{`{"a":1,}`, false},
	{`[1,]`, false},
	{`[`, false},
}

func TestIsCanonical(t *testing.T) {
	for _, tt := range canonicalCases {
		if got := IsCanonical([]byte(tt.in)); got != tt.want {
			t.Errorf("IsCanonical(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
	deep := bytes.Repeat([]byte("["), maxCheckDepth+1)
	deep = append(deep, bytes.Repeat([]byte("]"), maxCheckDepth+1)...)
	if IsCanonical(deep) {
		t.Errorf("IsCanonical(%d nested arrays) = true; want false", maxCheckDepth+1)
	}
	if !IsCanonical(deep[1 : len(deep)-1]) {
		t.Errorf("IsCanonical(%d nested arrays) = false; want true", maxCheckDepth)
	}
}

// TestIsCanonicalMarshal: what Marshal writes is canonical, and IsCanonical
// says so for the usual values (names without escapes).
func TestIsCanonicalMarshal(t *testing.T) {
	for _, v := range []any{
		map[string]any{"b": 1.0, "a": []any{"<&>", "\u2028", "é", "\x01\n"}, "c": nil, "d": 0.1, "e": -3e30},
		json.RawMessage(`{ "z" : 1e2, "y" : {"b":true,"a":"\u0041\ud83d\ude00"} }`),
		42,
		"x\"y",
	} {
		b, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !IsCanonical(b) {
			t.Errorf("IsCanonical(Marshal(%v) = %s) = false; want true", v, b)
		}
	}
}

// FuzzIsCanonical holds IsCanonical to its promise: what it accepts is
// JSON that Marshal leaves as it is.
func FuzzIsCanonical(f *testing.F) {
	for _, tt := range canonicalCases {
		f.Add([]byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !IsCanonical(b) {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("IsCanonical(%q) = true for invalid JSON", b)
		}
		c, err := Marshal(json.RawMessage(b))
		if err != nil || !bytes.Equal(c, b) {
			t.Fatalf("IsCanonical(%q) = true; Marshal gives %q, %v", b, c, err)
		}
		checkMembers(t, b)
	})
}

// checkMembers holds EachMember on the canonical b to encoding/json's
// reading of its members.
func checkMembers(t *testing.T, b []byte) {
	t.Helper()
	var want map[string]json.RawMessage
	isObject := json.Unmarshal(b, &want) == nil && want != nil
	got := map[string]json.RawMessage{}
	var names []string
	if EachMember(b, func(name, value []byte) bool {
		var n string
		if err := json.Unmarshal([]byte(`"`+string(name)+`"`), &n); err != nil {
			t.Fatalf("EachMember(%q): name %q: %v", b, name, err)
		}
		names = append(names, n)
		got[n] = value
		return true
	}) != isObject {
		t.Fatalf("EachMember(%q) = %v; want %v", b, !isObject, isObject)
	}
	if !isObject {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("EachMember(%q) found %d members; want %d", b, len(got), len(want))
	}
	for n, v := range want {
		if !bytes.Equal(got[n], v) {
			t.Fatalf("EachMember(%q): member %q = %q; want %q", b, n, got[n], v)
		}
	}
	// Stopping early stops at the first member.
	calls := 0
	EachMember(b, func(_, _ []byte) bool { calls++; return false })
	if len(want) > 0 && calls != 1 {
		t.Fatalf("EachMember(%q) went on after false: %d calls", b, calls)
	}
}

func TestEachMember(t *testing.T) {
	for _, tt := range canonicalCases {
		if tt.want {
			checkMembers(t, []byte(tt.in))
		}
	}
	nested := []byte(`{"a":{"b":[1,{"c":"}]\"\\"}],"d":null},"e":-1.5,"f":"x,y","g":[],"h":{}}`)
	if !IsCanonical(nested) {
		t.Fatalf("IsCanonical(%s) = false", nested)
	}
	checkMembers(t, nested)
}

// FuzzAppendString: AppendString quotes a valid UTF-8 string as Marshal
// does.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "x", "\"\\\b\f\n\r\t\x00\x1f\x7f", "<&>\u2028\u2029é\U0001F600"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		want, err := Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %q; want %q", s, got, want)
		}
	})
}

// FuzzPlain holds plain's eight bytes at a time to a byte at a time.
func FuzzPlain(f *testing.F) {
	f.Add([]byte(`abcdefghijklmnop"q`), 0)
	f.Add([]byte("abcdefgh\x1fijklmnop"), 1)
	f.Add([]byte("\xff\xfe\x80\x9f\xa0\xa2\xdc\xe0abcdefgh\\"), 3)
	f.Fuzz(func(t *testing.T, b []byte, i int) {
		if i < 0 || i > len(b) {
			return
		}
		want := i
		for want < len(b) && b[want] >= 0x20 && b[want] != '"' && b[want] != '\\' {
			want++
		}
		if got := plain(b, i); got != want {
			t.Fatalf("plain(%q, %d) = %d; want %d", b, i, got, want)
		}
	})
}

// FuzzCompareUTF16 holds compareUTF16 to a comparison of UTF-16 code
// units.
func FuzzCompareUTF16(f *testing.F) {
	f.Add("a", "b")
	f.Add("\uffff", "\U0001F600")
	f.Add("\ue000x", "\U00010000")
	f.Add("ab", "a")
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return
		}
		want := slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
		if got := compareUTF16([]byte(a), []byte(b)); got != want {
			t.Fatalf("compareUTF16(%q, %q) = %d; want %d", a, b, got, want)
		}
	})
}
