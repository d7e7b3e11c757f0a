package engine

import (
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Hiding the modules from OPA's type check changes nothing it decides:
// the same types and the same errors, with and without a `with` on data,
// and the modules are back once Compile returns, even when it fails.
func TestModuleHiderTypesAlike(t *testing.T) {
	sets := map[string]string{
		"no with": `package t
default empty := {}
default list := []
names contains n if some n in ["a", "b"]
x := empty.a
y := list[0]
z := count(names) + 1
`,
		"with on input": `package t
default empty := {}
x := v if v := empty.a with input.gate as "deploy"
`,
		"with on data": `package t
default empty := {}
default other := set()
x := v if v := other with data.t.empty as {"a": 1}
y := empty.a
`,
		"type error": `package t
default empty := {}
x := empty.a + "s"
y := concat(",", 1)
`,
	}
	for name, src := range sets {
		t.Run(name, func(t *testing.T) {
			compile := func(hide bool) (*ast.Compiler, map[string]*ast.Module) {
				mods := map[string]*ast.Module{"t.rego": ast.MustParseModuleWithOpts(src, ast.ParserOptions{RegoVersion: ast.RegoV1})}
				c := ast.NewCompiler().WithCapabilities(Capabilities())
				var h *moduleHider
				if hide {
					c, h = withModuleHider(c, ast.StageCheckRecursion)
				}
				c.Compile(mods)
				if h != nil {
					h.showModules(c)
				}
				return c, mods
			}
			plain, _ := compile(false)
			hidden, _ := compile(true)
			if got, want := hidden.Errors.Error(), plain.Errors.Error(); got != want {
				t.Errorf("errors with hidden modules:\n%s\nwant:\n%s", got, want)
			}
			if len(hidden.Modules) != 1 || hidden.Modules["t.rego"] == nil {
				t.Errorf("modules after Compile = %v; want t.rego back", hidden.Modules)
			}
			for _, r := range []string{"empty", "list", "other", "names", "x", "y", "z"} {
				ref := ast.MustParseRef("data.t." + r)
				got, want := hidden.TypeEnv.Get(ref), plain.TypeEnv.Get(ref)
				if (got == nil) != (want == nil) || (got != nil && got.String() != want.String()) {
					t.Errorf("type of %s = %v; want %v", r, got, want)
				}
			}
		})
	}
}
