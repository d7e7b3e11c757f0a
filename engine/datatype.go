package engine

import (
	"fmt"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/schemas"
)

// DataSchemaRef names the data schema (schemas/policydata.json) in a
// policy's METADATA annotation: rules whose annotation lists
// `data.shipgate.config: schema.policydata` are type-checked against it,
// so that reading a key the data cannot have fails to compile.
var DataSchemaRef = ast.MustParseRef("schema.policydata")

// unshareImportTerms gives each use of an import its own terms for the
// import's path. OPA's import resolution shares them between every use
// (lib.config.x, lib.plan, …) and sets their location at each, so they
// all end up where the last use is; a type error, which OPA places at a
// ref's first term, would then name that row. Each use's copies are
// placed at the first term of its own (config in lib.config.x).
func unshareImportTerms(c *ast.Compiler) *ast.Error {
	// One map and one list serve every module, cleared in between: their
	// storage is kept instead of grown again for each.
	uses := map[*ast.Term]int{}
	var refs []ast.Ref
	for _, m := range c.Modules {
		clear(uses)
		clear(refs)
		refs = refs[:0]
		ast.WalkRefs(m, func(r ast.Ref) bool {
			refs = append(refs, r)
			for _, t := range r {
				uses[t]++
			}
			return false
		})
		for _, r := range refs {
			n := 0
			for n < len(r) && uses[r[n]] > 1 {
				n++
			}
			if n == 0 || n == len(r) || r[n].Location == nil {
				continue
			}
			for i := range n {
				t := *r[i]
				t.Location = r[n].Location
				r[i] = &t
			}
		}
	}
	return nil
}

// configPath is where the policy data is mounted, as a path under data.
var configPath = []string{"shipgate", "config"}

// checkReads refuses a rule that reads a key of the policy data that the
// data schema s (the type checker's form, schemas.DataSchema) lacks. The
// type checker sees the reads through the annotated config rule; this
// sees what it cannot: a constant path given to object.get, and data refs
// in modules without the annotation (a policy set of one's own).
func (e *Engine) checkReads(s map[string]any) error {
	var errs ast.Errors
	seen := map[string]bool{}
	for _, rr := range e.DataReads() {
		for _, p := range rr.Paths {
			if len(p) <= len(configPath) || !slices.Equal(p[:len(configPath)], configPath) {
				continue
			}
			key := p[len(configPath):]
			ok, want := policyset.Admits(s, key)
			msg := fmt.Sprintf("data.shipgate.config.%s: the data schema (schemas/%s) has no such key%s", policyset.KeyPath(key), schemas.DataFile, want)
			if ok || seen[location(rr.Rule)+msg] {
				continue
			}
			seen[location(rr.Rule)+msg] = true
			errs = append(errs, ast.NewError(ast.TypeErr, rr.Rule.Location, "%s", msg))
		}
	}
	if len(errs) > 0 {
		return &PolicyError{Errors: errs}
	}
	return nil
}
