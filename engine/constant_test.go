package engine

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/open-policy-agent/opa/v1/ast"
)

const foldModule = `package t

const := {"a": 1, "b": {"x"}}

from_data := data.shipgate.config.enforcement["change.size"]

reads_input := input.release.id

reads_gate := sprintf("at %s", [input.gate])

reads_gate_and_input := [input.gate, input.now]

uses_now := time.now_ns()

uses_with := x if x := const with input as {}

via_dynamic := [reads_input]

via_folded := const.a + 1

sub.a.val := 1

sub.b.val := input.release.service

sub2.a.val := 1

sub2.b.val := 2

via_var contains v if {
	some k
	v := sub[k].val
}

via_var_const contains v if {
	some k
	v := sub2[k].val
}

prints if print("folding")

fails := 1 / 0

never if false

inc(x) := x + 1

calls_fn := inc(1)

dyn(x) := x + count(input.violations)

calls_dyn := dyn(1)
`

// Only rules that cannot depend on the input are folded, and those that
// read input.gate alone are folded for each gate; whatever is undefined or
// fails at load is left to the evaluations.
func TestFoldKeepsDynamicRules(t *testing.T) {
	fsys := fstest.MapFS{
		"gates/deploy.rego": {Data: []byte("package shipgate.gates.deploy\n\ndecision := {\"allow\": true, \"violations\": [], \"rules\": [\"r\"]}\n")},
		"t/t.rego":          {Data: []byte(foldModule)},
	}
	data := minimalData(t)
	data["enforcement"] = map[string]any{"change.size": "soft"}
	e, err := Load(context.Background(), Options{Policies: fsys, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	ref := func(name string) ast.Ref { return ast.MustParseRef("data.t." + name) }
	folded := map[string]string{
		"const":         `{"a": 1, "b": {"x"}}`,
		"from_data":     `"soft"`,
		"via_folded":    `2`,
		"sub.a.val":     `1`,
		"sub2.a.val":    `1`,
		"via_var_const": `{1, 2}`,
		"calls_fn":      `2`,
		// The engine does not enable print: the compiler erases the call,
		// so the rule is plain true at load and at every evaluation.
		"prints": `true`,
	}
	for name, want := range folded {
		got := e.consts.all.lookup(ref(name))
		if got == nil || !got.Equal(ast.MustParseTerm(want)) {
			t.Errorf("folded %s = %v; want %s", name, got, want)
		}
	}
	for _, name := range []string{"reads_input", "reads_gate", "reads_gate_and_input", "uses_now", "uses_with",
		"via_dynamic", "sub.b.val", "via_var", "fails", "never", "calls_dyn"} {
		if got := e.consts.all.lookup(ref(name)); got != nil {
			t.Errorf("%s folded to %v; it must be evaluated each time", name, got)
		}
	}
	for _, gate := range Gates {
		c := e.consts.forGate(gate)
		if got := c.get(ref("reads_gate")); got == nil || !got.Equal(ast.StringTerm("at "+gate)) {
			t.Errorf("reads_gate at %s folded to %v; want %q", gate, got, "at "+gate)
		}
		if got := c.get(ref("reads_gate_and_input")); got != nil {
			t.Errorf("reads_gate_and_input folded at %s to %v", gate, got)
		}
		if got := c.get(ref("const")); got == nil {
			t.Errorf("const not seen from gate %s", gate)
		}
	}
}

// Inside a with, where data or input may be replaced, the folded values
// are not answered.
func TestFoldedCacheStepsAsideInsideWith(t *testing.T) {
	c := &constants{}
	c.put(ast.MustParseRef("data.t.const"), ast.IntNumberTerm(1))
	vc := c.cache()
	if v, _ := vc.Get(ast.MustParseRef("data.t.const")); v == nil {
		t.Fatal("Get(folded) = nil outside a with")
	}
	vc.Push()
	if v, _ := vc.Get(ast.MustParseRef("data.t.const")); v != nil {
		t.Errorf("Get(folded) = %v inside a with; want nothing", v)
	}
	vc.Put(ast.MustParseRef("data.t.other"), nil)
	if v, undefined := vc.Get(ast.MustParseRef("data.t.other")); v != nil || !undefined {
		t.Errorf("Get(undefined) = %v, %t; want nil, true", v, undefined)
	}
	vc.Pop()
	if v, undefined := vc.Get(ast.MustParseRef("data.t.other")); v != nil || undefined {
		t.Errorf("Get after Pop = %v, %t; want nothing cached", v, undefined)
	}
}

// A gate's rules are folded once, when it is first asked for, however
// many evaluations ask at the same time.
func TestGateFoldedOnceConcurrently(t *testing.T) {
	fsys := fstest.MapFS{
		"gates/deploy.rego": {Data: []byte("package shipgate.gates.deploy\n\ndecision := {\"allow\": true, \"violations\": [], \"rules\": [\"r\"]}\n")},
		"t/t.rego":          {Data: []byte(foldModule)},
	}
	e, err := Load(context.Background(), Options{Policies: fsys, Data: minimalData(t)})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan map[string]*constants, 8)
	for range 8 {
		go func() {
			m := map[string]*constants{}
			for _, gate := range Gates {
				m[gate] = e.consts.forGate(gate)
			}
			got <- m
		}()
	}
	first := <-got
	for range 7 {
		for gate, c := range <-got {
			if c != first[gate] {
				t.Errorf("forGate(%q) folded twice", gate)
			}
		}
	}
	for _, gate := range Gates {
		if v := first[gate].get(ast.MustParseRef("data.t.reads_gate")); v == nil || !v.Equal(ast.StringTerm("at "+gate)) {
			t.Errorf("reads_gate at %s = %v; want %q", gate, v, "at "+gate)
		}
	}
}
