package engine

import (
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// The schemas the compiler is given, with only the keywords OPA makes
// types of, give the types the whole schemas give.
func TestTypeSchemasTypeAlike(t *testing.T) {
	for name, schema := range map[string]func() (map[string]any, error){"input": inputSchema, "data": dataTypeSchema} {
		t.Run(name, func(t *testing.T) {
			full, err := schema()
			if err != nil {
				t.Fatal(err)
			}
			before, err := json.Marshal(full)
			if err != nil {
				t.Fatal(err)
			}
			kept, err := typeJSON(full)
			if err != nil {
				t.Fatal(err)
			}
			if after, _ := json.Marshal(full); string(after) != string(before) {
				t.Error("typeJSON changed the schema")
			}
			if len(kept) >= len(before) {
				t.Errorf("the compiler's schema has %d bytes of %d", len(kept), len(before))
			}
			inputType := func(s json.RawMessage) string {
				ss := ast.NewSchemaSet()
				ss.Put(ast.SchemaRootRef, s)
				c := ast.NewCompiler().WithCapabilities(Capabilities()).WithSchemas(ss)
				c.Compile(map[string]*ast.Module{"t.rego": ast.MustParseModule("package t")})
				if c.Failed() {
					t.Fatal(c.Errors)
				}
				return c.TypeEnv.Get(ast.InputRootRef).String()
			}
			if got, want := inputType(kept), inputType(before); got != want {
				t.Errorf("types:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
