package engine

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
)

// What each rule reads of the data: the engine refuses a read of a key
// the data schema lacks (checkReads), and policydiff finds the rule files
// that read data a policy change moved.

// RuleRead is a rule and the data paths it reads.
type RuleRead struct {
	Rule *ast.Rule
	// Paths are paths under data: the constant prefix of each data ref
	// the rule reads, through aliases, and of object.get's path.
	Paths [][]string
}

// DataReads lists what each rule of the policy set reads of the data,
// found once. A rule that only names data (config := data.shipgate.config)
// is an alias: its readers are judged by what they read through it, and it
// is not listed. object.get with a constant path reads that path only.
// Callers must not change it.
func (e *Engine) DataReads() []RuleRead {
	e.readsOnce.Do(func() {
		c := e.compiler
		f := newReadFinder()
		for _, name := range sortedModuleNames(c) {
			ast.WalkRules(c.Modules[name], func(r *ast.Rule) bool {
				if target, ok := alias(c, r); ok {
					f.addAlias(r.Ref(), target)
				}
				return false
			})
		}
		for _, name := range sortedModuleNames(c) {
			ast.WalkRules(c.Modules[name], func(r *ast.Rule) bool {
				if _, ok := alias(c, r); !ok {
					if paths := f.read(r); len(paths) > 0 {
						e.reads = append(e.reads, RuleRead{Rule: r, Paths: paths})
					}
				}
				return false
			})
		}
	})
	return e.reads
}

// alias reports whether r is a complete rule whose value is a data ref
// that no rule defines, with no condition: it names that data. Compiled,
// `config := data.shipgate.config` has the body `v = data.shipgate.config`
// and the value v.
func alias(c *ast.Compiler, r *ast.Rule) (ast.Ref, bool) {
	if len(r.Head.Args) > 0 || r.Head.Value == nil || r.Else != nil || r.Default || len(r.Body) != 1 || len(r.Body[0].With) > 0 {
		return nil, false
	}
	value := r.Head.Value
	if e := r.Body[0]; e.IsEquality() {
		ts := e.Terms.([]*ast.Term)
		if !ts[1].Equal(value) {
			return nil, false
		}
		value = ts[2]
	} else if !e.Equal(ast.NewExpr(ast.BooleanTerm(true))) {
		return nil, false
	}
	ref, ok := value.Value.(ast.Ref)
	if !ok || !ref.IsGround() || !ref.HasPrefix(ast.DefaultRootRef) || len(c.GetRulesDynamic(ref)) > 0 {
		return nil, false
	}
	return ref, true
}

var objectGet = ast.ObjectGet.Ref()

// readFinder finds the data paths rules read (read), one rule after
// another: its map, visitor and buffer serve every rule, cleared in
// between, instead of being made again for each.
type readFinder struct {
	// aliases are the data refs the aliases name, by the alias's ref as
	// text; heads are the first terms of the aliases' refs: a ref whose
	// first term is none of them has no prefix among the aliases, and
	// resolve need not write out each of its prefixes to find that out.
	aliases map[string]ast.Ref
	heads   map[ast.Var]bool
	// key holds a ref prefix as text, for looking it up in aliases.
	key []byte
	// bound and out are the rule being read's: its generated variables
	// bound to a ref, and the paths it reads.
	bound map[ast.Var]ast.Ref
	out   [][]string
	vis   *ast.GenericVisitor
}

func newReadFinder() *readFinder {
	f := &readFinder{aliases: map[string]ast.Ref{}, heads: map[ast.Var]bool{}, bound: map[ast.Var]ast.Ref{}}
	f.vis = ast.NewGenericVisitor(f.visit)
	return f
}

// addAlias records that the rule at ref names the data at target.
func (f *readFinder) addAlias(ref, target ast.Ref) {
	f.key, _ = ref.AppendText(f.key[:0])
	f.aliases[string(f.key)] = target
	if v, ok := ref[0].Value.(ast.Var); ok {
		f.heads[v] = true
	}
}

// resolve is ref with its longest prefix that is an alias replaced by the
// data ref the alias names.
func (f *readFinder) resolve(ref ast.Ref) ast.Ref {
	if len(ref) == 0 {
		return ref
	}
	if v, ok := ref[0].Value.(ast.Var); !ok || !f.heads[v] {
		return ref
	}
	for i := len(ref); i > 1; i-- {
		f.key, _ = ref[:i].AppendText(f.key[:0])
		if target, ok := f.aliases[string(f.key)]; ok {
			return target.Concat(ref[i:])
		}
	}
	return ref
}

// read lists the data paths (under data) that r reads: the constant
// prefix of each data ref, through aliases, and of object.get's path.
func (f *readFinder) read(r *ast.Rule) [][]string {
	f.out = nil
	// The compiler moves a call's ref arguments into generated variables
	// (__local1__ = data.x; object.get(__local1__, ...)): a ref bound so
	// is read where its variable is used.
	clear(f.bound)
	ast.WalkExprs(r, func(e *ast.Expr) bool {
		if e.IsEquality() && len(e.With) == 0 {
			ts := e.Terms.([]*ast.Term)
			v, ok := ts[1].Value.(ast.Var)
			ref, isRef := ts[2].Value.(ast.Ref)
			if ok && isRef && v.IsGenerated() {
				f.bound[v] = ref
			}
		}
		return false
	})
	f.vis.Walk(r)
	return f.out
}

// add records a read of ref, followed by the terms more (object.get's
// path): its constant prefix, when it is under data.
func (f *readFinder) add(ref ast.Ref, more ...*ast.Term) {
	ref = f.resolve(ref)
	if !ref.HasPrefix(ast.DefaultRootRef) {
		return
	}
	var p []string
terms:
	for _, ts := range [2][]*ast.Term{ref[1:], more} {
		for _, t := range ts {
			s, ok := t.Value.(ast.String)
			if !ok {
				break terms
			}
			if p == nil {
				p = make([]string, 0, len(ref)-1+len(more))
			}
			p = append(p, string(s))
		}
	}
	f.out = append(f.out, p)
}

// get reads object.get(x, path, default) as a read of x's path.
func (f *readFinder) get(op *ast.Term, args []*ast.Term) bool {
	ref, ok := op.Value.(ast.Ref)
	if !ok || !ref.Equal(objectGet) || len(args) < 3 {
		return false
	}
	var x ast.Ref
	switch a := args[0].Value.(type) {
	case ast.Ref:
		x = a
	case ast.Var:
		if x, ok = f.bound[a]; !ok {
			return false
		}
	default:
		return false
	}
	var path []*ast.Term
	switch p := args[1].Value.(type) {
	case *ast.Array:
		for i := range p.Len() {
			path = append(path, p.Elem(i))
		}
	case ast.String:
		path = []*ast.Term{args[1]}
	}
	f.add(x, path...)
	for _, a := range args[1:] {
		f.vis.Walk(a)
	}
	return true
}

// visit is the visitor's step: it records the reads at x and says
// whether what is under x is read already.
func (f *readFinder) visit(x any) bool {
	switch x := x.(type) {
	case *ast.Expr:
		if x.IsEquality() && len(x.With) == 0 {
			if v, ok := x.Terms.([]*ast.Term)[1].Value.(ast.Var); ok && f.bound[v] != nil {
				return true // read where v is used
			}
		}
		if x.IsCall() {
			ts := x.Terms.([]*ast.Term)
			if f.get(ts[0], ts[1:]) {
				for _, w := range x.With {
					f.vis.Walk(w)
				}
				return true
			}
		}
	case ast.Call:
		return f.get(x[0], x[1:])
	case ast.Var:
		if ref, ok := f.bound[x]; ok {
			f.add(ref)
		}
	case ast.Ref:
		f.add(x)
	}
	return false
}

// location names where r is written: file:row, or its ref.
func location(r *ast.Rule) string {
	if r.Location != nil {
		return fmt.Sprintf("%s:%d", r.Location.File, r.Location.Row)
	}
	return r.Head.Ref().String()
}
