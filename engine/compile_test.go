package engine

import (
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// compileModules reports what OPA's own compile reports: the same errors
// for a recursive policy set (through a rule, a function, an else, or
// only possibly through a variable), the same types for one without
// recursion, and it leaves the modules as they were.
func TestCompileModulesAsOPA(t *testing.T) {
	sets := map[string]string{
		"no recursion": `package t
a := b + 1
b := count(c)
c contains x if some x in [1, 2]
f(x) := x + a
`,
		"rule": `package t
a := b
b := c
c := a
d := 1
`,
		"self": `package t
a contains x if some x in a
`,
		"function": `package t
f(x) := g(x)
g(x) := f(x) + 1
`,
		"else": `package t
a := 1 if input.x else := b
b := a
`,
		"through a variable": `package t
p[x] := 1 if some x in ["a", "b"]
q := p[input.k]
p.c := q
`,
		"recursion and a type error": `package t
a := b
b := a
c := concat(",", 1)
`,
		"type error": `package t
c := concat(",", 1)
d := c + 1
`,
	}
	newCompiler := func() *ast.Compiler {
		return ast.NewCompiler().WithStrict(true).WithCapabilities(Capabilities())
	}
	for name, src := range sets {
		t.Run(name, func(t *testing.T) {
			parse := func() map[string]*ast.Module {
				return map[string]*ast.Module{"t.rego": ast.MustParseModuleWithOpts(src, ast.ParserOptions{RegoVersion: ast.RegoV1})}
			}
			plain := newCompiler()
			plain.Compile(parse())
			mods := parse()
			want := mods["t.rego"].String()
			got := compileModules(newCompiler, mods)
			if g, w := got.Errors.Error(), plain.Errors.Error(); g != w {
				t.Errorf("errors:\n%s\nwant:\n%s", g, w)
			}
			if s := mods["t.rego"].String(); s != want {
				t.Errorf("module changed:\n%s\nwant:\n%s", s, want)
			}
			if plain.Failed() {
				return
			}
			for _, r := range []string{"a", "b", "c", "d", "f"} {
				ref := ast.MustParseRef("data.t." + r)
				g, w := got.TypeEnv.Get(ref), plain.TypeEnv.Get(ref)
				if (g == nil) != (w == nil) || (g != nil && g.String() != w.String()) {
					t.Errorf("type of %s = %v; want %v", r, g, w)
				}
			}
		})
	}
}

// withoutComments leaves out only the comments of modules whose
// annotations were read, and changes none of the modules it is given.
func TestWithoutComments(t *testing.T) {
	annotated := ast.MustParseModuleWithOpts(`package t

# a comment
# METADATA
# title: A
a := 1
`, ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true})
	plain := ast.MustParseModuleWithOpts(`package u

# METADATA
# title: B
b := 1
`, ast.ParserOptions{RegoVersion: ast.RegoV1})
	mods := withoutComments(map[string]*ast.Module{"t.rego": annotated, "u.rego": plain})
	if got := mods["t.rego"]; len(got.Comments) != 0 || len(got.Annotations) != 1 || got.Rules[0] != annotated.Rules[0] {
		t.Errorf("annotated module: %d comments, %d annotations", len(got.Comments), len(got.Annotations))
	}
	if mods["u.rego"] != plain {
		t.Error("a module without annotations lost its comments")
	}
	if len(annotated.Comments) != 3 || len(plain.Comments) != 2 {
		t.Errorf("modules given changed: %d and %d comments", len(annotated.Comments), len(plain.Comments))
	}
}
