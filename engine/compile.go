package engine

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// OPA's recursion check searches the rule dependency graph afresh from
// every rule, for a path back to it, with a new visited set each time: a
// sixteenth of what a load allocates. The type check, the stage after it,
// sorts the same graph, and that sort fails exactly when the graph has a
// cycle, that is when the recursion check has a path to report; it keeps
// its result, which the type check then reads.
//
// recursionSort sorts the graph in place of the recursion check. When the
// sort succeeds the check would have reported nothing, and the type check
// reuses the sorted graph. When it fails, the compile stops, and
// compileModules compiles the modules again with OPA's check, whose errors
// (which rules, along which path) it reports.
type recursionSort struct {
	cyclic bool
}

func (r *recursionSort) sortGraph(c *ast.Compiler) *ast.Error {
	if _, ok := c.Graph.Sort(); !ok {
		r.cyclic = true
		return ast.NewError(ast.RecursionErr, nil, "rule dependency graph has a cycle")
	}
	return nil
}

// compileModules compiles modules with a compiler newCompiler makes, as OPA
// would, though without repeating the graph searches of its recursion
// check where the graph has no cycle; the modules are not changed.
func compileModules(newCompiler func() *ast.Compiler, modules map[string]*ast.Module) *ast.Compiler {
	r := &recursionSort{}
	c := newCompiler().
		WithSkipStages(ast.StageCheckRecursion).
		WithStageAfterID(ast.StageRewriteTestRulesForTracing, ast.CompilerStageDefinition{
			Name: "SortRuleGraph", MetricName: "compile_stage_sort_rule_graph", Stage: r.sortGraph,
		})
	c, hider := withModuleHider(c, ast.StageRewriteTestRulesForTracing)
	c.Compile(modules)
	hider.showModules(c)
	if !r.cyclic {
		return c
	}
	c, hider = withModuleHider(newCompiler(), ast.StageCheckRecursion)
	c.Compile(modules)
	hider.showModules(c)
	return c
}

// withoutComments is modules with the comments left out of those whose
// annotations the parser read, for the compiler, which copies every
// module it is given, comments and all, but reads the comments of a
// module without annotations only (to find its METADATA blocks, which a
// module parsed without them still has). The modules are not changed.
func withoutComments(modules map[string]*ast.Module) map[string]*ast.Module {
	out := make(map[string]*ast.Module, len(modules))
	for name, m := range modules {
		if len(m.Annotations) > 0 && len(m.Comments) > 0 {
			cpy := *m
			cpy.Comments = nil
			m = &cpy
		}
		out[name] = m
	}
	return out
}
