package celyaml_test

import (
	"errors"
	"testing"

	"github.com/google/cel-go/cel"

	"github.com/localizevideos/shipgate/internal/celyaml"
)

type doc struct {
	Name  string         `yaml:"name"`
	Check celyaml.Expr   `yaml:"check"`
	More  []celyaml.Expr `yaml:"more"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, src string
		terse     bool
		want      string
	}{
		{"unknown key", "name: a\nnmae: b\n", false, "f.yaml:2:1: unknown field \"nmae\"\n   1 | name: a\n>  2 | nmae: b\n       ^"},
		{"unknown key, terse", "name: a\nnmae: b\n", true, `f.yaml:2:1: unknown field "nmae"`},
		{"repeated key", "name: a\nname: b\n", true, `f.yaml:2:1: mapping key "name" already defined at [1:1]`},
		{"syntax", "more: [\n", true, `f.yaml:1:7: sequence end token ']' not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			decode := celyaml.Decode
			if tt.terse {
				decode = celyaml.DecodeTerse
			}
			var d doc
			err := decode("f.yaml", []byte(tt.src), &d)
			var le *celyaml.LoadError
			if !errors.As(err, &le) || err.Error() != tt.want {
				t.Errorf("Decode(%q) = %v; want a *LoadError %q", tt.src, err, tt.want)
			}
		})
	}
}

func TestCompile(t *testing.T) {
	env, err := cel.NewEnv(cel.Variable("n", cel.IntType))
	if err != nil {
		t.Fatal(err)
	}
	var d doc
	src := "check: n > 1\nmore:\n  - n +\n  - ' '\n  - n + 1\n  - m == k\n"
	if err := celyaml.Decode("f.yaml", []byte(src), &d); err != nil {
		t.Fatal(err)
	}
	le := &celyaml.LoadError{File: "f.yaml"}
	want := celyaml.Want{Types: []*cel.Type{cel.BoolType}, Name: "a bool"}
	a, prg := le.Compile(env, "check", d.Check, want, cel.CostLimit(100))
	if a == nil || prg == nil || len(le.Problems) > 0 {
		t.Fatalf("Compile(%q) = %v, %v, problems %v; want a program", d.Check.Text, a, prg, le.Problems)
	}
	if out, _, err := prg.Eval(map[string]any{"n": 2}); err != nil || out.Value() != true {
		t.Errorf("Eval(n = 2) = %v, %v; want true", out, err)
	}
	for _, e := range d.More {
		if a, prg := le.Compile(env, "more", e, want); a != nil || prg != nil {
			t.Errorf("Compile(%q) = %v, %v; want nil after a problem", e.Text, a, prg)
		}
	}
	if a, _ := le.Compile(env, "any", d.More[2], celyaml.Want{}); a == nil {
		t.Errorf("Compile(%q) with any type = nil; want a program", d.More[2].Text)
	}
	le.Errorf("name", "no %s", "name")
	got := le.Error()
	wantErr := `f.yaml:3:5: more "n +": 1:4: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
f.yaml:4:5: more: empty expression
f.yaml:5:5: more "n + 1": the expression is a int, want a bool
f.yaml:6:5: more "m == k": 1:1: undeclared reference to 'm' (in container '')
f.yaml:6:5: more "m == k": 1:6: undeclared reference to 'k' (in container '')
f.yaml: name: no name`
	if got != wantErr {
		t.Errorf("LoadError =\n%s\nwant\n%s", got, wantErr)
	}
}

// String and Value keep where they start, for problems found after
// decoding; ErrorAt reports at that place.
func TestPositions(t *testing.T) {
	var d struct {
		URL     celyaml.String            `yaml:"url"`
		Headers map[string]celyaml.String `yaml:"headers"`
		Body    celyaml.Value             `yaml:"body"`
	}
	src := "url: /x/${a}\nheaders:\n  Cookie: \"sid=${b}\"\nbody: {x: [1, \"${c}\"]}\n"
	if err := celyaml.Decode("f.yaml", []byte(src), &d); err != nil {
		t.Fatal(err)
	}
	if d.URL != (celyaml.String{Text: "/x/${a}", Line: 1, Column: 6}) {
		t.Errorf("url = %+v; want /x/${a} at 1:6", d.URL)
	}
	if h := d.Headers["Cookie"]; h != (celyaml.String{Text: "sid=${b}", Line: 3, Column: 11}) {
		t.Errorf("headers.Cookie = %+v; want sid=${b} at 3:11", h)
	}
	b, ok := d.Body.V.(map[string]any)
	if !ok || d.Body.Line != 4 || d.Body.Column != 7 || len(b["x"].([]any)) != 2 {
		t.Errorf("body = %+v; want a mapping at 4:7", d.Body)
	}
	le := &celyaml.LoadError{File: "f.yaml"}
	le.ErrorAt(d.URL.Line, d.URL.Column, "url", "unknown var ${%s}", "a")
	le.ErrorAt(0, 0, "base", "no base")
	if got, want := le.Error(), "f.yaml:1:6: url: unknown var ${a}\nf.yaml: base: no base"; got != want {
		t.Errorf("LoadError =\n%s\nwant\n%s", got, want)
	}
}
