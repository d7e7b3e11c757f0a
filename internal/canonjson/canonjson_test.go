package canonjson

import (
	"encoding/json"
	"testing"
)

func TestMarshal(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want string
	}{
		{map[string]any{"b": 1.0, "a": []any{"<&>", "\u2028", "é"}, "c": nil}, "{\"a\":[\"<&>\",\"\u2028\",\"é\"],\"b\":1,\"c\":null}"},
		{json.RawMessage(`{ "z" : 1e2, "y" : {"b":true,"a":"\u0041"} }`), `{"y":{"a":"A","b":true},"z":100}`},
		{42, `42`},
		{struct {
			B string `json:"b"`
			A int    `json:"a,omitempty"`
		}{B: "x"}, `{"b":"x"}`},
	} {
		got, err := Marshal(tt.v)
		if err != nil {
			t.Fatalf("Marshal(%v) = %v", tt.v, err)
		}
		if string(got) != tt.want {
			t.Errorf("Marshal(%v) = %s; want %s", tt.v, got, tt.want)
		}
	}
	if _, err := Marshal(make(chan int)); err == nil {
		t.Error("Marshal(chan) succeeded")
	}
}
