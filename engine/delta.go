package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gowebpki/jcs"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// A policy change seldom touches more than a few rule files, and a rule
// file's answers on an input (its findings and obligations) are all that
// the decision library reads of it, besides its rule metadata. So when two
// policy sets differ only in some rule files, a decision of one is a
// decision of the other wherever those files answer the input alike: the
// rest of what the decision is made from is the same code on the same data.
// Delta checks that at the cost of evaluating the changed files alone, and
// evaluates the whole gate only where they answer differently.
//
// Delta is sound under these conditions, which Compare checks and which
// otherwise make every decision evaluated in full:
//   - the data (configuration) that changed is read by rule files only,
//     which then count as changed, and not by the engine itself (settings
//     other than the freeze calendar, whose windows are in the input and
//     so in its digest);
//   - every package other than a rule file (data.shipgate.rules.<name>) has
//     the same modules, compared as OPA parses them: layout and comments do
//     not count, annotations do;
//   - each changed rule file declares the same rules (its `rules` value);
//   - no rule outside the changed files reads anything of them but their
//     `findings`, `obligations` and `rules`, by OPA's dependency graph of
//     each policy set (refs with variables select every rule they may);
//   - no rule that a gate's decision reaches, outside the changed files,
//     evaluates with a `with` modifier, except `with input.gate as` that
//     gate's own name, which changes nothing (a gate replaced this way is
//     evaluated in full, the others are not).
//
// A decision is reused only when the base made it as a policy answer
// (allow or deny, the engine's evidence checks included): a fault is
// evaluated again.

// Delta is what a head policy set changes from a base policy set, for
// deciding recorded gate inputs with the head by reusing the base's
// decisions where the change cannot alter them.
type Delta struct {
	base, head *Engine
	// same: the two policy sets compile to the same modules and data.
	same bool
	// full, when not empty, says why every decision is evaluated in full.
	full string
	// fullGates are the gates evaluated in full, with the reason.
	fullGates map[string]string
	changed   []deltaPackage
	// views are, by gate, what the shipped decision library reads of the
	// rule files there (libraryViews); nil when the policy set's library
	// is another, and then the files' whole answers are compared.
	views map[string]*gateView
}

// deltaPackage is a changed rule file, with the query of its answers on
// each side.
type deltaPackage struct {
	name       string
	base, head *rego.PreparedEvalQuery
	// key is the file's name under data.shipgate.rules.
	key string
}

// answers are the members of a rule file that the decision library reads
// for each input; rules, its metadata, is compared once by Compare.
var answers = [2]string{"findings", "obligations"}

// readable are the members of a rule file other files may read.
var readable = map[string]bool{"findings": true, "obligations": true, "rules": true}

var rulesRoot = ast.MustParseRef("data.shipgate.rules")

// Compare works out what head changes from base.
func Compare(ctx context.Context, base, head *Engine) (*Delta, error) {
	d := &Delta{base: base, head: head, fullGates: map[string]string{}}
	moved, err := dataChanges(base.data, head.data)
	if err != nil {
		return nil, err
	}
	for _, p := range moved {
		for _, s := range engineReads {
			if overlaps(p, s) {
				d.full = fmt.Sprintf("the data at %s changed, which the engine reads itself", strings.Join(p, "."))
				return d, nil
			}
		}
	}
	bp, hp := packages(base.files), packages(head.files)
	var changed []string
	for _, name := range slices.Sorted(maps.Keys(packageUnion(bp, hp))) {
		if slices.EqualFunc(bp[name], hp[name], (*ast.Module).Equal) {
			continue
		}
		if _, ok := ruleFile(bp[name], hp[name]); !ok {
			d.full = fmt.Sprintf("package %s changed, and it is not a rule file", name)
			return d, nil
		}
		changed = append(changed, name)
	}
	if len(changed) == 0 && len(moved) == 0 {
		d.same = true
		return d, nil
	}
	if len(moved) > 0 {
		for _, e := range [2]*Engine{base, head} {
			files, why := e.dataReaders(moved)
			if why != "" {
				d.full = why
				return d, nil
			}
			for _, f := range files {
				if !slices.Contains(changed, f) {
					changed = append(changed, f)
				}
			}
		}
		slices.Sort(changed)
	}
	memo := map[*ast.Module]bool{}
	isChanged := func(r *ast.Rule) bool {
		v, ok := memo[r.Module]
		if !ok {
			v = slices.Contains(changed, r.Module.Package.Path.String())
			memo[r.Module] = v
		}
		return v
	}
	for _, e := range [2]*Engine{base, head} {
		if why := readsChanged(e.compiler, isChanged); why != "" {
			d.full = why
			return d, nil
		}
		withs := e.withModifiers()
		for _, g := range Gates {
			if why := rewritesInput(e.compiler, withs, g, isChanged); why != "" && d.fullGates[g] == "" {
				d.fullGates[g] = why
			}
		}
	}
	for _, name := range changed {
		p := deltaPackage{name: name}
		mods := bp[name]
		if len(mods) == 0 {
			mods = hp[name]
		}
		ref := mods[0].Package.Path
		if k, ok := ref[len(ref)-1].Value.(ast.String); ok {
			p.key = string(k)
		}
		if why := sameRules(base, head, ref); why != "" {
			d.full = why
			return d, nil
		}
		var err error
		if p.base, err = base.prepareAnswers(ctx, ref); err != nil {
			return nil, err
		}
		if p.head, err = head.prepareAnswers(ctx, ref); err != nil {
			return nil, err
		}
		d.changed = append(d.changed, p)
	}
	d.views = libraryViews(base, head)
	return d, nil
}

// The library that turns the rule files' answers into a decision
// (data.shipgate.lib.decision) is policy code like the rest, and Delta
// assumes nothing of it, except when it is the one shipgate ships, known
// by the digest of its parsed modules. That one reads the findings and
// obligations only of the files with a rule at the gate (gated), keeps
// only the findings of the rules that apply there or that no file declares
// (applicable, catalog), and only the obligations of rules that fired
// among those. So a changed file without a rule at the gate needs no
// evaluation there, and of one with, only what that library keeps is
// compared. Nothing else may then read a file's findings or obligations
// (else the whole answers are compared, as for any other library); the
// catalog is the same on both sides (sameRules), and so are the folded
// values read here.

// ShippedDecisionLibrary is the digest of the decision library shipgate
// ships (policies/shipgate/lib/decision/decision.rego as parsed: layout and comments do not
// count). A test holds it equal to the embedded file.
const ShippedDecisionLibrary = "sha256:dee2da2d8348bd2060dc6074822f236ff0508c8e1c6a89eae1417c48761d418a"

var decisionLib = ast.MustParseRef("data.shipgate.lib.decision")

// LibraryDigest is the digest of the modules of package pkg in the
// policy set, as parsed (layout and comments do not count); "" when it
// has none.
func (e *Engine) LibraryDigest(pkg ast.Ref) string {
	mods := packages(e.files)[pkg.String()]
	if len(mods) == 0 {
		return ""
	}
	h := sha256.New()
	for _, m := range mods {
		io.WriteString(h, m.String())
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// gateView is what the shipped decision library reads at a gate.
type gateView struct {
	gated      map[string]bool
	applicable map[string]bool
	declared   map[string]bool
}

// libraryViews are the gate views when both sides run the shipped
// decision library and nothing else reads the rule files' answers; nil
// otherwise.
func libraryViews(base, head *Engine) map[string]*gateView {
	for _, e := range [2]*Engine{base, head} {
		if e.LibraryDigest(decisionLib) != ShippedDecisionLibrary || readsAnswers(e.compiler) {
			return nil
		}
	}
	t := base.consts.forGate(Gates[0]).get(decisionLib.Append(ast.StringTerm("catalog")))
	if t == nil {
		return nil
	}
	catalog, ok := t.Value.(ast.Object)
	if !ok {
		return nil
	}
	declared := map[string]bool{}
	for _, k := range catalog.Keys() {
		if s, ok := k.Value.(ast.String); ok {
			declared[string(s)] = true
		}
	}
	views := map[string]*gateView{}
	for _, g := range Gates {
		c := base.consts.forGate(g)
		gated, ok1 := stringSet(c.get(decisionLib.Append(ast.StringTerm("gated"))))
		applicable, ok2 := stringSet(c.get(decisionLib.Append(ast.StringTerm("applicable"))))
		if !ok1 || !ok2 {
			return nil
		}
		views[g] = &gateView{gated: gated, applicable: applicable, declared: declared}
	}
	return views
}

// stringSet reads a folded set of strings.
func stringSet(t *ast.Term) (map[string]bool, bool) {
	if t == nil {
		return nil, false
	}
	set, ok := t.Value.(ast.Set)
	if !ok {
		return nil, false
	}
	out := map[string]bool{}
	ok = true
	set.Foreach(func(x *ast.Term) {
		s, isString := x.Value.(ast.String)
		ok = ok && isString
		out[string(s)] = true
	})
	return out, ok
}

// readsAnswers says whether a rule outside the decision library reads the
// findings or obligations of another rule file than its own.
func readsAnswers(c *ast.Compiler) bool {
	for _, name := range sortedModuleNames(c) {
		pkg := c.Modules[name].Package.Path
		if pkg.Equal(decisionLib) {
			continue
		}
		found := false
		ast.WalkRules(c.Modules[name], func(r *ast.Rule) bool {
			for dep := range c.Graph.Dependencies(r) {
				dr, ok := dep.(*ast.Rule)
				if !ok || dr.Module.Package.Path.Equal(pkg) {
					continue
				}
				if _, isFile := ruleFile([]*ast.Module{dr.Module}); !isFile {
					continue
				}
				if head := strings.Trim(dr.Head.Ref()[0].String(), `"`); head == "findings" || head == "obligations" {
					found = true
					return true
				}
			}
			return false
		})
		if found {
			return true
		}
	}
	return false
}

// kept is the part of a rule file's answers (findings, obligations) that
// the shipped decision library keeps at the gate: those of rules that
// apply there or that no file declares. An answer without a rule is kept.
func (v *gateView) kept(answers *ast.Term) *ast.Term {
	arr, ok := answers.Value.(*ast.Array)
	if !ok {
		return answers
	}
	out := make([]*ast.Term, arr.Len())
	for i := range arr.Len() {
		set, ok := arr.Elem(i).Value.(ast.Set)
		if !ok {
			out[i] = arr.Elem(i)
			continue
		}
		keep := ast.NewSet()
		set.Foreach(func(x *ast.Term) {
			if obj, ok := x.Value.(ast.Object); ok {
				if r, ok := obj.Get(ast.InternedTerm("rule")).Value.(ast.String); ok && v.declared[string(r)] && !v.applicable[string(r)] {
					return
				}
			}
			keep.Add(x)
		})
		out[i] = ast.NewTerm(keep)
	}
	return ast.ArrayTerm(out...)
}

// Same reports whether the two policy sets compile to the same modules and
// data: every decision of one is a decision of the other.
func (d *Delta) Same() bool { return d.same }

// Full says why every decision is evaluated in full; empty when Delta
// checks the changed rule files first.
func (d *Delta) Full() string { return d.full }

// Changed lists the rule files (packages) that differ.
func (d *Delta) Changed() []string {
	out := make([]string, len(d.changed))
	for i, p := range d.changed {
		out[i] = p.name
	}
	return out
}

// Evaluate decides in with the head policy set. base must be the base
// policy set's decision on the same input (evaluated, or recorded by that
// policy set on an input of the same digest). When the change cannot alter
// it, it is the answer, with the head's policy reference (reused is true);
// otherwise the head evaluates the gate in full.
func (d *Delta) Evaluate(ctx context.Context, in Input, base *Decision) (dec *Decision, reused bool, err error) {
	if !d.reusable(in, base) {
		dec, err = d.head.Evaluate(ctx, in)
		return dec, false, err
	}
	if d.same {
		return d.reuse(base), true, nil
	}
	now := in.Now.UTC()
	scratch := &Decision{Gate: in.Gate, Release: in.Release}
	value, err := d.head.input(in, scratch)
	if err != nil || scratch.Input.Digest != base.Input.Digest || !d.alike(ctx, in.Gate, value, now) {
		dec, err = d.head.Evaluate(ctx, in)
		return dec, false, err
	}
	return d.reuse(base), true, nil
}

// alike says whether every changed rule file answers input the same on
// both sides; an error on either side is a difference.
func (d *Delta) alike(ctx context.Context, gate string, input ast.Value, now time.Time) bool {
	ctx, cancel := context.WithTimeout(ctx, d.head.timeout)
	defer cancel()
	view := d.views[gate]
	for _, p := range d.changed {
		if view != nil && !view.gated[p.key] {
			continue // the library does not read this file here
		}
		b, err := d.base.answer(ctx, p.base, gate, input, now)
		if err != nil {
			return false
		}
		h, err := d.head.answer(ctx, p.head, gate, input, now)
		if err != nil {
			return false
		}
		if view != nil {
			b, h = view.kept(b), view.kept(h)
		}
		if !b.Equal(h) {
			return false
		}
	}
	return true
}

// reusable says whether base may stand for the head's decision on in, if
// the change allows: a policy answer of the base policy set at in's gate.
func (d *Delta) reusable(in Input, base *Decision) bool {
	if base == nil || d.full != "" || d.fullGates[in.Gate] != "" || base.Gate != in.Gate || base.Policy != d.base.Ref() {
		return false
	}
	switch base.Reason {
	case ReasonAllow, ReasonDeny, ReasonEvidenceMissing, ReasonEvidenceBinding:
		return true
	}
	return false
}

func (d *Delta) reuse(base *Decision) *Decision {
	out := *base
	out.Policy, out.Opened = d.head.Ref(), nil
	return &out
}

// answer evaluates a rule file's answers on input, as the gate's
// evaluation would: with the gate's folded rules.
func (e *Engine) answer(ctx context.Context, q *rego.PreparedEvalQuery, gate string, input ast.Value, now time.Time) (*ast.Term, error) {
	rs, err := q.Eval(ctx, rego.EvalParsedInput(input), rego.EvalTime(now), keepAST,
		rego.EvalVirtualCache(e.consts.forGate(gate).cache()))
	if err != nil {
		return nil, err
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return nil, fmt.Errorf("%d results", len(rs))
	}
	t, ok := rs[0].Expressions[0].Value.(*ast.Term)
	if !ok {
		return nil, fmt.Errorf("got %T", rs[0].Expressions[0].Value)
	}
	return t, nil
}

// prepareAnswers prepares the query of pkg's answers: the array of its
// findings and its obligations, each the empty set where pkg has no rule
// of that name.
func (e *Engine) prepareAnswers(ctx context.Context, pkg ast.Ref) (*rego.PreparedEvalQuery, error) {
	terms := make([]*ast.Term, len(answers))
	for i, member := range answers {
		ref := pkg.Append(ast.StringTerm(member))
		terms[i] = ast.SetTerm()
		if len(e.compiler.GetRules(ref)) > 0 {
			terms[i] = ast.NewTerm(ref)
		}
	}
	pq, err := rego.New(
		rego.ParsedQuery(ast.NewBody(ast.NewExpr(ast.ArrayTerm(terms...)))),
		rego.Compiler(e.compiler),
		rego.Store(e.store),
		rego.StoreReadAST(true),
		rego.StrictBuiltinErrors(true),
		rego.Capabilities(Capabilities()),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare the answers of %s: %w", pkg, err)
	}
	return &pq, nil
}

// sameRules says why the rule file pkg does not declare the same rules on
// both sides at every gate; empty when it does. Its rules value must be
// one the engine folded at load (it reads no input but the gate, as
// gates name it), so that it is the same for every input.
func sameRules(base, head *Engine, pkg ast.Ref) string {
	ref := pkg.Append(ast.StringTerm("rules"))
	for _, g := range Gates {
		b, h := base.consts.forGate(g).get(ref), head.consts.forGate(g).get(ref)
		inBase, inHead := len(base.compiler.GetRules(ref)) > 0, len(head.compiler.GetRules(ref)) > 0
		switch {
		case !inBase && !inHead:
			continue
		case inBase != inHead:
			return fmt.Sprintf("%s declares different rules", pkg)
		case b == nil || h == nil:
			return fmt.Sprintf("%s declares its rules with a value that depends on the input", pkg)
		case !b.Equal(h):
			return fmt.Sprintf("%s declares different rules", pkg)
		}
	}
	return ""
}

// packages groups the modules of files by package, each group in a stable
// order that does not depend on file names.
func packages(files map[string]policyFile) map[string][]*ast.Module {
	out := map[string][]*ast.Module{}
	for _, f := range files {
		name := f.parsed.Package.Path.String()
		out[name] = append(out[name], f.parsed)
	}
	for _, ms := range out {
		slices.SortFunc(ms, (*ast.Module).Compare)
	}
	return out
}

func packageUnion(a, b map[string][]*ast.Module) map[string][]*ast.Module {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// ruleFile reports whether the modules (of either side) form a rule file:
// a package data.shipgate.rules.<name>.
func ruleFile(sides ...[]*ast.Module) (string, bool) {
	for _, ms := range sides {
		if len(ms) > 0 {
			p := ms[0].Package.Path
			if len(p) == len(rulesRoot)+1 && p.HasPrefix(rulesRoot) {
				return p.String(), true
			}
			return "", false
		}
	}
	return "", false
}

// readsChanged says which rule, outside the changed rule files, reads
// something of them other than what the decision library reads.
func readsChanged(c *ast.Compiler, changed func(*ast.Rule) bool) string {
	for _, name := range sortedModuleNames(c) {
		var why string
		ast.WalkRules(c.Modules[name], func(r *ast.Rule) bool {
			if changed(r) {
				return true
			}
			for dep := range c.Graph.Dependencies(r) {
				dr, ok := dep.(*ast.Rule)
				if !ok || !changed(dr) {
					continue
				}
				if head := dr.Head.Ref(); !readable[strings.Trim(head[0].String(), `"`)] {
					why = fmt.Sprintf("%s reads %s of changed %s", location(r), head, dr.Module.Package.Path)
					return true
				}
			}
			return false
		})
		if why != "" {
			return why
		}
	}
	return ""
}

// rewritesInput says which rule, reached by gate's decision outside the
// changed rule files, evaluates with a modifier that can change what those
// files see (anything but `with input.gate as "<gate>"`).
func rewritesInput(c *ast.Compiler, withs map[*ast.Rule][]*ast.With, gate string, changed func(*ast.Rule) bool) string {
	seen := map[*ast.Rule]bool{}
	var queue []*ast.Rule
	push := func(r *ast.Rule) {
		for ; r != nil; r = r.Else {
			if !seen[r] {
				seen[r] = true
				queue = append(queue, r)
			}
		}
	}
	for _, r := range c.GetRules(ast.MustParseRef("data.shipgate.gates." + gate + ".decision")) {
		push(r)
	}
	noop := ast.StringTerm(gate)
	gateRef := ast.MustParseRef("input.gate")
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		if changed(r) {
			continue
		}
		for _, w := range withs[r] {
			if ref, ok := w.Target.Value.(ast.Ref); !ok || !ref.Equal(gateRef) || !w.Value.Equal(noop) {
				return fmt.Sprintf("%s evaluates %s", location(r), w)
			}
		}
		for dep := range c.Graph.Dependencies(r) {
			if dr, ok := dep.(*ast.Rule); ok {
				push(dr)
			}
		}
	}
	return ""
}

// withModifiers maps each rule of the policy set that has `with`
// modifiers (its else clauses apart) to them, found once.
func (e *Engine) withModifiers() map[*ast.Rule][]*ast.With {
	e.withsOnce.Do(func() {
		e.withs = map[*ast.Rule][]*ast.With{}
		for _, name := range sortedModuleNames(e.compiler) {
			ast.WalkRules(e.compiler.Modules[name], func(r *ast.Rule) bool {
				own := *r
				own.Else = nil
				ast.WalkWiths(&own, func(w *ast.With) bool {
					e.withs[r] = append(e.withs[r], w)
					return false
				})
				return false
			})
		}
	})
	return e.withs
}

func location(r *ast.Rule) string {
	if r.Location != nil {
		return fmt.Sprintf("%s:%d", r.Location.File, r.Location.Row)
	}
	return r.Head.Ref().String()
}

// engineReads are the data the engine reads itself (parseSettings), as
// paths under data, "*" for any key. The freeze calendar is not among
// them: the windows it gives are part of the input, so a changed calendar
// changes the digest of the inputs it changes, and those are evaluated.
var engineReads = [][]string{
	{"shipgate", "config", "freshness"},
	{"shipgate", "config", "gates"},
	{"shipgate", "config", "postmortem"},
	{"shipgate", "config", "clock_skew"},
	{"shipgate", "config", "services", "*", "deploy_commands"},
}

// overlaps says whether one path is a prefix of the other.
func overlaps(a, b []string) bool {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] && a[i] != "*" && b[i] != "*" {
			return false
		}
	}
	return true
}

// dataChanges lists the paths under data where a and b differ: the
// deepest object key at which they part (an array or a value that differs
// is one change).
func dataChanges(a, b map[string]any) ([][]string, error) {
	var out [][]string
	var walk func(x, y any, at []string) error
	walk = func(x, y any, at []string) error {
		mx, okx := x.(map[string]any)
		my, oky := y.(map[string]any)
		if okx && oky {
			for _, k := range slices.Sorted(maps.Keys(packageUnionAny(mx, my))) {
				if err := walk(mx[k], my[k], append(slices.Clip(at), k)); err != nil {
					return err
				}
			}
			return nil
		}
		cx, err := canonical(x)
		if err != nil {
			return err
		}
		cy, err := canonical(y)
		if err != nil {
			return err
		}
		if !bytes.Equal(cx, cy) {
			out = append(out, at)
		}
		return nil
	}
	return out, walk(a, b, nil)
}

func packageUnionAny(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// dataReaders lists the rule files with a rule that reads data at one of
// the changed paths; a reader outside the rule files (the library or a
// gate) is the reason every decision is evaluated in full.
func (e *Engine) dataReaders(changed [][]string) (files []string, full string) {
	for _, rr := range e.ruleReads() {
		for _, read := range rr.paths {
			if !slices.ContainsFunc(changed, func(p []string) bool { return overlaps(read, p) }) {
				continue
			}
			file, ok := ruleFile([]*ast.Module{rr.rule.Module})
			if !ok {
				return nil, fmt.Sprintf("%s reads data.%s, which changed", location(rr.rule), strings.Join(read, "."))
			}
			if !slices.Contains(files, file) {
				files = append(files, file)
			}
			break
		}
	}
	return files, ""
}

// ruleRead is a rule and the data paths it reads.
type ruleRead struct {
	rule  *ast.Rule
	paths [][]string
}

// ruleReads lists what each rule of the policy set reads of the data,
// found once. A rule that only names data (config := data.shipgate.config)
// is an alias: its readers are judged by what they read through it, and it
// is not listed. object.get with a constant path reads that path only.
func (e *Engine) ruleReads() []ruleRead {
	e.readsOnce.Do(func() {
		c := e.compiler
		aliases := map[string]ast.Ref{}
		for _, name := range sortedModuleNames(c) {
			ast.WalkRules(c.Modules[name], func(r *ast.Rule) bool {
				if target, ok := alias(c, r); ok {
					aliases[r.Ref().String()] = target
				}
				return false
			})
		}
		resolve := func(ref ast.Ref) ast.Ref {
			for i := len(ref); i > 1; i-- {
				if target, ok := aliases[ref[:i].String()]; ok {
					return target.Concat(ref[i:])
				}
			}
			return ref
		}
		for _, name := range sortedModuleNames(c) {
			ast.WalkRules(c.Modules[name], func(r *ast.Rule) bool {
				if _, ok := alias(c, r); !ok {
					if paths := dataRead(r, resolve); len(paths) > 0 {
						e.reads = append(e.reads, ruleRead{rule: r, paths: paths})
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

// dataRead lists the data paths (under data) that r reads: the constant
// prefix of each data ref, through aliases, and of object.get's path.
func dataRead(r *ast.Rule, resolve func(ast.Ref) ast.Ref) [][]string {
	var out [][]string
	add := func(ref ast.Ref, more ...*ast.Term) {
		ref = resolve(ref)
		if !ref.HasPrefix(ast.DefaultRootRef) {
			return
		}
		var p []string
		for _, t := range append(ref[1:].Copy(), more...) {
			s, ok := t.Value.(ast.String)
			if !ok {
				break
			}
			p = append(p, string(s))
		}
		out = append(out, p)
	}
	// The compiler moves a call's ref arguments into generated variables
	// (__local1__ = data.x; object.get(__local1__, ...)): a ref bound so
	// is read where its variable is used.
	bound := map[ast.Var]ast.Ref{}
	ast.WalkExprs(r, func(e *ast.Expr) bool {
		if e.IsEquality() && len(e.With) == 0 {
			ts := e.Terms.([]*ast.Term)
			v, ok := ts[1].Value.(ast.Var)
			ref, isRef := ts[2].Value.(ast.Ref)
			if ok && isRef && v.IsGenerated() {
				bound[v] = ref
			}
		}
		return false
	})
	var vis *ast.GenericVisitor
	// get reads object.get(x, path, default) as a read of x's path.
	get := func(op *ast.Term, args []*ast.Term) bool {
		ref, ok := op.Value.(ast.Ref)
		if !ok || !ref.Equal(objectGet) || len(args) < 3 {
			return false
		}
		var x ast.Ref
		switch a := args[0].Value.(type) {
		case ast.Ref:
			x = a
		case ast.Var:
			if x, ok = bound[a]; !ok {
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
		add(x, path...)
		for _, a := range args[1:] {
			vis.Walk(a)
		}
		return true
	}
	vis = ast.NewGenericVisitor(func(x any) bool {
		switch x := x.(type) {
		case *ast.Expr:
			if x.IsEquality() && len(x.With) == 0 {
				if v, ok := x.Terms.([]*ast.Term)[1].Value.(ast.Var); ok && bound[v] != nil {
					return true // read where v is used
				}
			}
			if x.IsCall() {
				ts := x.Terms.([]*ast.Term)
				if get(ts[0], ts[1:]) {
					for _, w := range x.With {
						vis.Walk(w)
					}
					return true
				}
			}
		case ast.Call:
			return get(x[0], x[1:])
		case ast.Var:
			if ref, ok := bound[x]; ok {
				add(ref)
			}
		case ast.Ref:
			add(x)
		}
		return false
	})
	vis.Walk(r)
	return out
}

func canonical(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("policy data: %w", err)
	}
	c, err := jcs.Transform(b)
	if err != nil {
		return nil, fmt.Errorf("policy data: %w", err)
	}
	return c, nil
}
