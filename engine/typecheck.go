package engine

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// OPA's type checker asks, for every rule whose type holds an empty
// collection (default x := {}), whether a `with` in the policy set could
// replace it: it collects the rules that `with` modifiers target by
// walking every module, and keeps the answer, except when it is empty,
// which it takes for "not computed yet". A policy set with no `with` on
// data (the shipped one: its gates replace input.gate only) therefore
// walks every module again for each such rule, a sixth of the load.
//
// hideModules and showModules run around OPA's type-check stage. When no
// module has a `with` whose target is under data, the answer is known to
// be empty, and the compiler's modules are hidden while the types are
// checked, so each of those walks finds no module and gives the same empty
// answer at once. Nothing else in the stage reads the modules: it takes
// the rules from the dependency graph and their rule tree. Otherwise the
// modules stay as they are.
type moduleHider struct {
	hidden map[string]*ast.Module
}

func (h *moduleHider) hideModules(c *ast.Compiler) *ast.Error {
	for _, m := range c.Modules {
		found := false
		ast.WalkWiths(m, func(w *ast.With) bool {
			if ref, ok := w.Target.Value.(ast.Ref); ok && ref.HasPrefix(ast.DefaultRootRef) {
				found = true
			}
			return found
		})
		if found {
			return nil
		}
	}
	h.hidden, c.Modules = c.Modules, map[string]*ast.Module{}
	return nil
}

// showModules puts back the modules hideModules hid. load calls it again
// after Compile, which stops before this stage when errors abort it.
func (h *moduleHider) showModules(c *ast.Compiler) *ast.Error {
	if h.hidden != nil {
		c.Modules, h.hidden = h.hidden, nil
	}
	return nil
}

// withModuleHider adds hideModules and showModules around the type check
// of c: hideModules after the stage after (one that runs: the recursion
// check, or the stage before it when that is skipped), showModules after
// the type check. Call showModules once Compile returns.
func withModuleHider(c *ast.Compiler, after ast.StageID) (*ast.Compiler, *moduleHider) {
	h := &moduleHider{}
	return c.
		WithStageAfterID(after, ast.CompilerStageDefinition{
			Name: "HideModulesFromTypeCheck", MetricName: "compile_stage_hide_modules", Stage: h.hideModules,
		}).
		WithStageAfterID(ast.StageCheckTypes, ast.CompilerStageDefinition{
			Name: "ShowModulesAfterTypeCheck", MetricName: "compile_stage_show_modules", Stage: h.showModules,
		}), h
}
