package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Rules whose value cannot depend on the input, such as each rule file's
// metadata (rules) and the decision library's catalog, come out the same
// in every evaluation. OPA evaluates them again each time; the engine
// evaluates them once at load instead and gives their values to every
// evaluation through its virtual-document cache, where OPA looks first.
// This is constant folding: a rule counts as constant only when nothing it
// reads, directly or through the rules and functions it uses (as the
// compiler resolves refs, variables included), is the input, a
// nondeterministic builtin (time.now_ns, rand.*, ...), print, or a `with`
// modifier; the data it reads is the engine's own store, fixed at load.
// Rules that read no input but input.gate (the decision library's list of
// the rules at the gate) are folded once per gate, with that gate: an
// evaluation of a gate always has it as input.gate. A rule that is
// undefined, fails or runs out of time at load is left to the evaluation,
// so its outcome (undefined, or the error) is exactly as before.

// constants holds the folded rule values by path, indexed by the path's
// hash (the hash OPA's refs compute, which the evaluation cache needs as
// well); those of parent count too.
type constants struct {
	byHash map[int][]constEntry
	n      int
	parent *constants
}

type constEntry struct {
	ref   ast.Ref
	value *ast.Term
}

func (c *constants) put(ref ast.Ref, v *ast.Term) {
	if c.byHash == nil {
		c.byHash = map[int][]constEntry{}
	}
	h := ref.Hash()
	for i, e := range c.byHash[h] {
		if e.ref.Equal(ref) {
			c.byHash[h][i].value = v
			return
		}
	}
	c.byHash[h] = append(c.byHash[h], constEntry{ref: ref.Copy(), value: v})
	c.n++
}

func (c *constants) get(ref ast.Ref) *ast.Term {
	return c.getHashed(ref, ref.Hash())
}

// lookup is get without the parent's values.
func (c *constants) lookup(ref ast.Ref) *ast.Term {
	for _, e := range c.byHash[ref.Hash()] {
		if e.ref.Equal(ref) {
			return e.value
		}
	}
	return nil
}

// getHashed is get for a ref whose hash is h.
func (c *constants) getHashed(ref ast.Ref, h int) *ast.Term {
	if len(ref) < 2 || !ref[0].Equal(ast.DefaultRootDocument) {
		return nil
	}
	for ; c != nil; c = c.parent {
		for _, e := range c.byHash[h] {
			if e.ref.Equal(ref) {
				return e.value
			}
		}
	}
	return nil
}

// cache returns a virtual-document cache for one evaluation that answers
// the folded rules first; give it back with release when the evaluation
// is over. Caches are reused: one evaluation puts a few hundred refs, and
// a fresh cache would allocate them all again.
func (c *constants) cache() *foldedCache {
	f := cachePool.Get().(*foldedCache)
	f.consts = c
	f.Push()
	return f
}

var cachePool = sync.Pool{New: func() any { return &foldedCache{} }}

// foldedCache is a virtual-document cache, as OPA's own (a stack of
// frames, one per `with`, each mapping a ref to its value or to undefined),
// with the folded rules in front. A frame indexes its entries by the ref's
// hash, where OPA's keeps a tree of maps, one per ref element: most cached
// refs are looked up whole, and the tree costs several allocations per
// entry. Entries and the copies of their refs live in slabs that a reused
// cache keeps. Inside a `with` (a pushed frame) the folded rules are not
// answered: a `with` may replace data a folded rule read.
type foldedCache struct {
	consts *constants
	frames []cacheFrame
	// spare holds the frames popped since the cache was taken, for reuse.
	spare []cacheFrame
}

// cacheFrame holds the entries of one frame: index maps a ref's hash to
// one plus the position of the newest entry with that hash, and each
// entry's next chains to the previous one with the same hash.
type cacheFrame struct {
	index   map[int]int32
	entries []cached
	terms   []*ast.Term
}

type cached struct {
	ref       ast.Ref
	value     *ast.Term
	undefined bool
	next      int32
}

var _ topdown.VirtualCache = (*foldedCache)(nil)

func (f *foldedCache) Push() {
	var fr cacheFrame
	if n := len(f.spare); n > 0 {
		fr, f.spare = f.spare[n-1], f.spare[:n-1]
	}
	f.frames = append(f.frames, fr)
}

func (f *foldedCache) Pop() {
	top := len(f.frames) - 1
	f.spare = append(f.spare, f.frames[top].reset())
	f.frames[top] = cacheFrame{}
	f.frames = f.frames[:top]
}

// release resets the cache and gives it back for another evaluation. Its
// values are dropped, so the pool holds no evaluation's data.
func (f *foldedCache) release() {
	for i := range f.frames {
		f.spare = append(f.spare, f.frames[i].reset())
		f.frames[i] = cacheFrame{}
	}
	f.frames, f.consts = f.frames[:0], nil
	cachePool.Put(f)
}

// reset empties fr and returns it with its storage, ready for reuse.
func (fr cacheFrame) reset() cacheFrame {
	clear(fr.index)
	clear(fr.entries)
	clear(fr.terms)
	return cacheFrame{index: fr.index, entries: fr.entries[:0], terms: fr.terms[:0]}
}

func (f *foldedCache) Get(ref ast.Ref) (*ast.Term, bool) {
	h := ref.Hash()
	if len(f.frames) == 1 {
		if v := f.consts.getHashed(ref, h); v != nil {
			return v, false
		}
	}
	fr := &f.frames[len(f.frames)-1]
	if fr.index == nil {
		return nil, false
	}
	for i := fr.index[h]; i > 0; i = fr.entries[i-1].next {
		c := &fr.entries[i-1]
		if c.ref.Equal(ref) {
			if c.undefined {
				return nil, true
			}
			return c.value, false
		}
	}
	return nil, false
}

// Put records value for ref; nil records that ref is undefined. The ref is
// copied: the evaluator reuses the slice it passes.
func (f *foldedCache) Put(ref ast.Ref, value *ast.Term) {
	fr := &f.frames[len(f.frames)-1]
	if fr.index == nil {
		fr.index = make(map[int]int32, 64)
	}
	h := ref.Hash()
	head := fr.index[h]
	for i := head; i > 0; i = fr.entries[i-1].next {
		c := &fr.entries[i-1]
		if c.ref.Equal(ref) {
			// As OPA's cache: a value replaces a value; undefined, once
			// recorded, stays.
			if value != nil {
				c.value = value
			} else {
				c.undefined = true
			}
			return
		}
	}
	n := len(fr.terms)
	fr.terms = append(fr.terms, ref...)
	fr.entries = append(fr.entries, cached{ref: fr.terms[n:len(fr.terms):len(fr.terms)], value: value, undefined: value == nil, next: head})
	fr.index[h] = int32(len(fr.entries))
}

// Keys lists the refs with a value in the top frame.
func (f *foldedCache) Keys() []ast.Ref {
	var keys []ast.Ref
	for _, c := range f.frames[len(f.frames)-1].entries {
		if c.value != nil {
			keys = append(keys, c.ref)
		}
	}
	return keys
}

// folded holds the folded rules of a policy set: those constant for every
// evaluation, and, per gate, those that read no input but input.gate (such
// as the decision library's list of the rules at the gate), evaluated with
// that gate. A gate's are folded when it is first evaluated: a command
// decides one gate, and folding the others would be wasted.
type folded struct {
	all    *constants
	byGate map[string]*gateConsts
	// gateOnly are the paths folded per gate, and eval what folds them.
	gateOnly []ast.Ref
	eval     *constEval
}

// gateConsts are the rules folded for one gate, once.
type gateConsts struct {
	once sync.Once
	c    *constants
}

// forGate is what an evaluation of gate reads first: its input.gate is
// gate, as buildInput writes it.
func (f *folded) forGate(gate string) *constants {
	g, ok := f.byGate[gate]
	if !ok {
		return f.all
	}
	g.once.Do(func() { g.c = f.foldGate(gate) })
	return g.c
}

// foldGate evaluates the rules that read no input but input.gate, with
// gate. A rule it cannot fold is left to the evaluations, as at load.
func (f *folded) foldGate(gate string) *constants {
	c := &constants{parent: f.all}
	if len(f.gateOnly) == 0 {
		return c
	}
	ctx := context.Background()
	txn, err := f.eval.store.NewTransaction(ctx)
	if err != nil {
		return c
	}
	defer f.eval.store.Abort(ctx, txn)
	ev := *f.eval
	ev.txn, ev.cache = txn, topdown.NewVirtualCache()
	input := ast.NewTerm(ast.NewObject(ast.Item(ast.InternedTerm("gate"), ast.StringTerm(gate))))
	for _, path := range f.gateOnly {
		if err := ev.eval(ctx, path, input, c); err != nil {
			break
		}
	}
	return c
}

// fold finds the constant rules of compiler and evaluates each once, each
// within timeout: one that does not finish in time is left to the
// evaluations, which then run out of time as they would have. The rules
// that read input.gate alone are found here and folded per gate when the
// gate is first evaluated (forGate).
func fold(ctx context.Context, compiler *ast.Compiler, store storage.Store, timeout time.Duration, gates []string) (*folded, error) {
	strict := &constAnalysis{c: compiler, dynamic: map[*ast.Rule]bool{}}
	perGate := &constAnalysis{c: compiler, gate: true, dynamic: map[*ast.Rule]bool{}}
	f := &folded{all: &constants{}, byGate: make(map[string]*gateConsts, len(gates))}
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, fmt.Errorf("fold: %w", err)
	}
	defer store.Abort(ctx, txn)
	ev := &constEval{compiler: compiler, store: store, txn: txn, timeout: timeout, cache: topdown.NewVirtualCache()}
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
			switch {
			case strict.foldable(path):
				if err := ev.eval(ctx, path, nil, f.all); err != nil {
					return nil, err
				}
			case perGate.foldable(path):
				f.gateOnly = append(f.gateOnly, path)
			}
		}
	}
	f.eval = &constEval{compiler: compiler, store: store, timeout: timeout}
	for _, gate := range gates {
		f.byGate[gate] = &gateConsts{}
	}
	return f, nil
}

// constEval evaluates constant rules in one read transaction of the
// engine's store. It runs the query `x = <path>` on OPA's evaluator
// directly: a ground ref to rules needs nothing of the query compiler,
// whose stages cost more than the evaluation of most constant rules.
// The evaluations with the same input share one virtual-document cache:
// every rule they evaluate is constant too (nothing a constant rule reads
// is dynamic) and none is under a `with`, so a rule's value is the same in
// each, and a rule the catalog or a gate's list of rules needs is
// evaluated once instead of once per path that reads it. A failing or
// cancelled evaluation leaves only the values of rules it completed.
type constEval struct {
	compiler *ast.Compiler
	store    storage.Store
	txn      storage.Transaction
	timeout  time.Duration
	cache    topdown.VirtualCache
}

// foldVar is the variable the value of a folded path is bound to.
var foldVar = ast.VarTerm("__fold__")

// eval evaluates the rules at path with input (none when nil) and puts the
// value in c; undefined, failing or slow rules are left out.
func (ev *constEval) eval(ctx context.Context, path ast.Ref, input *ast.Term, c *constants) error {
	ectx, cancel := context.WithTimeout(ctx, ev.timeout)
	defer cancel()
	// As rego does: the evaluator stops at its cancel, set when the
	// context is done.
	stop := topdown.NewCancel()
	done := context.AfterFunc(ectx, stop.Cancel)
	defer done()
	q := topdown.NewQuery(ast.NewBody(ast.Equality.Expr(foldVar, ast.NewTerm(path)))).
		WithCompiler(ev.compiler).
		WithStore(ev.store).
		WithTransaction(ev.txn).
		WithStrictBuiltinErrors(true).
		WithVirtualCache(ev.cache).
		WithCancel(stop)
	if input != nil {
		q = q.WithInput(input)
	}
	rs, err := q.Run(ectx)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil || len(rs) != 1 {
		return nil // undefined or failing: left to each evaluation
	}
	t, ok := rs[0][foldVar.Value.(ast.Var)]
	if !ok || t == nil {
		return fmt.Errorf("fold %s: no value", path)
	}
	c.put(path, t)
	return nil
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

// constAnalysis decides which rules cannot depend on the input; with gate
// set, which read no input but input.gate.
type constAnalysis struct {
	c       *ast.Compiler
	gate    bool
	dynamic map[*ast.Rule]bool
}

var inputGateRef = ast.MustParseRef("input.gate")

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
				} else if op.HasPrefix(ast.DefaultRootRef) && a.anyDynamic(op) {
					dynamic = true
				} else if !op.HasPrefix(ast.DefaultRootRef) {
					dynamic = true // not a known builtin, not a rule: unsure
				}
			}
		case ast.Ref:
			switch {
			case x.HasPrefix(ast.InputRootRef):
				if !a.gate || !x.Equal(inputGateRef) {
					dynamic = true
				}
			case x.HasPrefix(ast.DefaultRootRef):
				if a.anyDynamic(x) {
					dynamic = true
				}
			}
		}
		return dynamic
	}).Walk(r)
	return dynamic
}

// anyDynamic holds when a rule that ref may read is dynamic: the rules the
// compiler finds for it, at, above or below it, through any value of its
// variables.
func (a *constAnalysis) anyDynamic(ref ast.Ref) bool {
	for _, r := range a.c.GetRulesDynamicWithOpts(ref, ast.RulesOptions{IncludeHiddenModules: true}) {
		if a.isDynamic(r) {
			return true
		}
	}
	return false
}
