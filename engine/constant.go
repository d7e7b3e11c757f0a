package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Rules whose value cannot depend on the input, such as each rule file's
// metadata (rules) and the decision library's catalog, come out the same
// in every evaluation. OPA evaluates them again each time; the engine
// evaluates them once at load instead and gives their values to every
// evaluation through its virtual-document cache, where OPA looks first.
// This is constant folding: a rule counts as constant only when nothing it
// reads, directly or through the rules and functions it uses, is the input,
// a nondeterministic builtin (time.now_ns, rand.*, ...), print, or a `with`
// modifier; the data it reads is the engine's own store, fixed at load. A
// rule that is undefined or fails at load is left to the evaluation, so
// its outcome (undefined, or the error) is exactly as before.

// constants holds the folded rule values by path.
type constants struct {
	root constNode
	n    int
}

type constNode struct {
	children map[string]*constNode
	value    *ast.Term
}

func (c *constants) put(ref ast.Ref, v *ast.Term) {
	node := &c.root
	for _, t := range ref[1:] {
		s := string(t.Value.(ast.String))
		if node.children == nil {
			node.children = map[string]*constNode{}
		}
		next := node.children[s]
		if next == nil {
			next = &constNode{}
			node.children[s] = next
		}
		node = next
	}
	node.value = v
	c.n++
}

func (c *constants) get(ref ast.Ref) *ast.Term {
	if len(ref) < 2 || !ref[0].Equal(ast.DefaultRootDocument) {
		return nil
	}
	node := &c.root
	for _, t := range ref[1:] {
		s, ok := t.Value.(ast.String)
		if !ok {
			return nil
		}
		if node = node.children[string(s)]; node == nil {
			return nil
		}
	}
	return node.value
}

// cache returns a fresh virtual-document cache for one evaluation that
// answers the folded rules first.
func (c *constants) cache() topdown.VirtualCache {
	return &foldedCache{consts: c, inner: topdown.NewVirtualCache()}
}

// foldedCache is OPA's virtual-document cache with the folded rules in
// front. Inside a `with` (a pushed frame) it answers nothing itself: a
// `with` may replace data a folded rule read.
type foldedCache struct {
	consts *constants
	inner  topdown.VirtualCache
	depth  int
}

func (f *foldedCache) Push() { f.depth++; f.inner.Push() }
func (f *foldedCache) Pop()  { f.depth--; f.inner.Pop() }

func (f *foldedCache) Get(ref ast.Ref) (*ast.Term, bool) {
	if f.depth == 0 {
		if v := f.consts.get(ref); v != nil {
			return v, false
		}
	}
	return f.inner.Get(ref)
}

func (f *foldedCache) Put(ref ast.Ref, value *ast.Term) { f.inner.Put(ref, value) }
func (f *foldedCache) Keys() []ast.Ref                  { return f.inner.Keys() }

// fold finds the constant rules of compiler and evaluates each once, each
// within timeout: one that does not finish in time is left to the
// evaluations, which then run out of time as they would have.
func fold(ctx context.Context, compiler *ast.Compiler, store storage.Store, timeout time.Duration) (*constants, error) {
	a := &constAnalysis{c: compiler, dynamic: map[*ast.Rule]bool{}}
	consts := &constants{}
	seen := map[string]bool{}
	for _, name := range sortedModuleNames(compiler) {
		for _, r := range compiler.Modules[name].Rules {
			if len(r.Head.Args) > 0 {
				continue // functions are folded where they are called
			}
			path := r.Ref().GroundPrefix()
			key := path.String()
			if seen[key] {
				continue
			}
			seen[key] = true
			if !a.foldable(path) {
				continue
			}
			ectx, cancel := context.WithTimeout(ctx, timeout)
			rs, err := rego.New(
				rego.Query(key),
				rego.Compiler(compiler),
				rego.Store(store),
				rego.StrictBuiltinErrors(true),
				rego.Capabilities(Capabilities()),
				rego.GenerateJSON(func(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }),
			).Eval(ectx)
			cancel()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err != nil || len(rs) != 1 || len(rs[0].Expressions) != 1 {
				continue // undefined or failing: left to each evaluation
			}
			t, ok := rs[0].Expressions[0].Value.(*ast.Term)
			if !ok {
				return nil, fmt.Errorf("fold %s: got %T", key, rs[0].Expressions[0].Value)
			}
			consts.put(path, t)
		}
	}
	return consts, nil
}

func sortedModuleNames(c *ast.Compiler) []string {
	names := make([]string, 0, len(c.Modules))
	for n := range c.Modules {
		names = append(names, n)
	}
	// Order only decides which path is tried first; any order folds the
	// same rules.
	return names
}

// constAnalysis decides which rules cannot depend on the input.
type constAnalysis struct {
	c       *ast.Compiler
	dynamic map[*ast.Rule]bool
}

// foldable holds when path names a plain set of rules (no rules below it,
// every path element a string) all of which are constant.
func (a *constAnalysis) foldable(path ast.Ref) bool {
	if len(path) < 2 {
		return false
	}
	for _, t := range path[1:] {
		if _, ok := t.Value.(ast.String); !ok {
			return false
		}
	}
	exact := a.c.GetRulesExact(path)
	if len(exact) == 0 || len(a.c.GetRulesWithPrefix(path)) != len(exact) {
		return false
	}
	for _, r := range exact {
		if len(r.Head.Args) > 0 || a.isDynamic(r) {
			return false
		}
	}
	return true
}

// isDynamic holds when r may read the input or anything else that changes
// between evaluations. Unsure is dynamic.
func (a *constAnalysis) isDynamic(r *ast.Rule) bool {
	if d, ok := a.dynamic[r]; ok {
		return d
	}
	a.dynamic[r] = true // a cycle (never compiled) stays dynamic
	d := a.reads(r)
	a.dynamic[r] = d
	return d
}

func (a *constAnalysis) reads(r *ast.Rule) bool {
	dynamic := false
	ast.NewGenericVisitor(func(n any) bool {
		if dynamic {
			return true
		}
		switch x := n.(type) {
		case *ast.Expr:
			if len(x.With) > 0 {
				dynamic = true
				return true
			}
			if x.IsCall() {
				op := x.Operator()
				name := op.String()
				if name == "print" || name == "internal.print" {
					dynamic = true
					return true
				}
				if b, ok := ast.BuiltinMap[name]; ok {
					if b.Nondeterministic {
						dynamic = true
					}
				} else if op.HasPrefix(ast.DefaultRootRef) && a.anyDynamic(op.ConstantPrefix()) {
					dynamic = true
				} else if !op.HasPrefix(ast.DefaultRootRef) {
					dynamic = true // not a known builtin, not a rule: unsure
				}
			}
		case ast.Ref:
			switch {
			case x.HasPrefix(ast.InputRootRef):
				dynamic = true
			case x.HasPrefix(ast.DefaultRootRef):
				if a.anyDynamic(x.ConstantPrefix()) {
					dynamic = true
				}
			}
		}
		return dynamic
	}).Walk(r)
	return dynamic
}

// anyDynamic holds when a rule that ref may read (the rules at, above or
// below it) is dynamic.
func (a *constAnalysis) anyDynamic(ref ast.Ref) bool {
	for _, r := range a.c.GetRules(ref) {
		if a.isDynamic(r) {
			return true
		}
	}
	return false
}
