package engine

import (
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/localizevideos/shipgate/evidence"
)

// Values holds evidence documents in the form the policies read them,
// converted once per document. An engine keeps a bounded cache of its own;
// a replay, which evaluates the same documents again and again through two
// policy sets, converts every document once into a Values and gives it to
// both engines through Input.Values. The form of a document does not depend
// on the policy set, so one Values serves any number of engines. It is safe
// for concurrent use and is never emptied.
type Values struct {
	c docCache
}

// NewValues returns an empty Values.
func NewValues() *Values {
	return &Values{c: docCache{unbounded: true}}
}

// Add converts doc, unless it is already held.
func (v *Values) Add(doc *evidence.Document) error {
	_, err := v.c.value(doc)
	return err
}

// Len is the number of documents held.
func (v *Values) Len() int {
	v.c.mu.Lock()
	defer v.c.mu.Unlock()
	return len(v.c.m)
}

// value is doc's policy form, from vs when given, else from the engine's
// own cache.
func (e *Engine) value(vs *Values, doc *evidence.Document) (ast.Object, error) {
	if vs != nil {
		return vs.c.value(doc)
	}
	return e.docs.value(doc)
}

// keepAST makes a prepared query return its result as the AST term the
// evaluation produced: the decision is read from it directly, without a
// round trip through Go maps and JSON.
var keepAST = rego.EvalGenerateJSON(func(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil })

// fillTerm copies the policy's decision object into d, checking its shape:
// a malformed answer must not be read as allow. Absent or null lists are
// empty, except violations, which must be there.
func (d *Decision) fillTerm(t *ast.Term) (bool, error) {
	obj, ok := t.Value.(ast.Object)
	if !ok {
		return false, fmt.Errorf("want an object, got %s", ast.ValueName(t.Value))
	}
	allow, ok := field(obj, "allow").(ast.Boolean)
	if !ok {
		return false, fmt.Errorf("allow: want a boolean, got %s", valueName(field(obj, "allow")))
	}
	vv := field(obj, "violations")
	if _, null := vv.(ast.Null); vv == nil || null {
		return false, errors.New("violations: missing")
	}
	violations, err := findings("violations", vv)
	if err != nil {
		return false, err
	}
	for _, f := range violations {
		if f.Rule == "" || f.Message == "" {
			return false, errors.New("violations: each needs a rule and a message")
		}
	}
	overridden, err := findings("overridden", field(obj, "overridden"))
	if err != nil {
		return false, err
	}
	warnings, err := findings("warnings", field(obj, "warnings"))
	if err != nil {
		return false, err
	}
	var obligations []Obligation
	err = each("obligations", field(obj, "obligations"), func(i int, v ast.Value) error {
		o, ok := v.(ast.Object)
		if !ok {
			return fmt.Errorf("obligations[%d]: want an object, got %s", i, valueName(v))
		}
		var ob Obligation
		dsts := [...]*string{&ob.Kind, &ob.Rule, &ob.Message, &ob.Due}
		for k, key := range [...]string{"kind", "rule", "message", "due"} {
			if err := stringField(o, key, dsts[k]); err != nil {
				return fmt.Errorf("obligations[%d].%w", i, err)
			}
		}
		obligations = append(obligations, ob)
		return nil
	})
	if err != nil {
		return false, err
	}
	rv := field(obj, "rules")
	rules := make([]string, 0, length(rv))
	err = each("rules", rv, func(i int, v ast.Value) error {
		s, ok := v.(ast.String)
		if !ok {
			return fmt.Errorf("rules[%d]: want a string, got %s", i, valueName(v))
		}
		rules = append(rules, string(s))
		return nil
	})
	if err != nil {
		return false, err
	}
	if len(d.Violations) == 0 {
		d.Violations = nonNil(violations) // not nil: findings makes it
	} else {
		d.Violations = append(d.Violations, nonNil(violations)...)
	}
	d.Overridden = append(d.Overridden, nonNil(overridden)...)
	d.Warnings = append(d.Warnings, nonNil(warnings)...)
	d.Obligations = append(d.Obligations, obligations...)
	if len(d.Rules) == 0 {
		d.Rules = rules // not nil: an empty list is written as []
	} else {
		d.Rules = append(d.Rules, rules...)
	}
	return bool(allow), nil
}

// length is the number of elements of an array or set; 0 for anything
// else.
func length(v ast.Value) int {
	switch x := v.(type) {
	case *ast.Array:
		return x.Len()
	case ast.Set:
		return x.Len()
	}
	return 0
}

// fieldKeys are the keys field and stringField read, as terms made once.
var fieldKeys = func() map[string]*ast.Term {
	m := map[string]*ast.Term{}
	for _, k := range []string{"allow", "violations", "overridden", "warnings", "obligations", "rules", "evidence",
		"rule", "title", "enforcement", "message", "remediation", "override", "approver", "kind", "due"} {
		m[k] = ast.StringTerm(k)
	}
	return m
}()

// field is obj[key]'s value; nil when absent.
func field(obj ast.Object, key string) ast.Value {
	k, ok := fieldKeys[key]
	if !ok {
		k = ast.InternedTerm(key)
	}
	if t := obj.Get(k); t != nil {
		return t.Value
	}
	return nil
}

func valueName(v ast.Value) string {
	if v == nil {
		return "nothing"
	}
	return ast.ValueName(v)
}

// each calls fn on every element of the array (or set) v; absent and null
// are empty, anything else is an error.
func each(name string, v ast.Value, fn func(i int, v ast.Value) error) error {
	var elems []*ast.Term
	switch x := v.(type) {
	case nil, ast.Null:
		return nil
	case *ast.Array:
		elems = make([]*ast.Term, 0, x.Len())
		for i := range x.Len() {
			elems = append(elems, x.Elem(i))
		}
	case ast.Set:
		elems = x.Slice()
	default:
		return fmt.Errorf("%s: want an array, got %s", name, ast.ValueName(v))
	}
	for i, t := range elems {
		if err := fn(i, t.Value); err != nil {
			return err
		}
	}
	return nil
}

// stringField sets *dst to the string obj[key]; absent and null leave it
// empty.
func stringField(obj ast.Object, key string, dst *string) error {
	switch v := field(obj, key).(type) {
	case nil, ast.Null:
		return nil
	case ast.String:
		*dst = string(v)
		return nil
	default:
		return fmt.Errorf("%s: want a string, got %s", key, ast.ValueName(v))
	}
}

// findings reads an array of finding objects.
func findings(name string, v ast.Value) ([]Finding, error) {
	out := make([]Finding, 0, length(v))
	err := each(name, v, func(i int, v ast.Value) error {
		o, ok := v.(ast.Object)
		if !ok {
			return fmt.Errorf("%s[%d]: want an object, got %s", name, i, valueName(v))
		}
		// The keys and where they go are two arrays, not one of pairs:
		// an error message holds on to a key, and f stays on the stack.
		var f Finding
		dsts := [...]*string{&f.Rule, &f.Title, &f.Enforcement, &f.Message, &f.Remediation, &f.Override, &f.Approver}
		for k, key := range [...]string{"rule", "title", "enforcement", "message", "remediation", "override", "approver"} {
			if err := stringField(o, key, dsts[k]); err != nil {
				return fmt.Errorf("%s[%d].%w", name, i, err)
			}
		}
		var err error
		if f.Evidence, err = findingEvidence(name, i, field(o, "evidence")); err != nil {
			return err
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

// findingEvidence reads the evidence list of finding i of the list name.
func findingEvidence(name string, i int, v ast.Value) ([]string, error) {
	var out []string
	err := each("evidence", v, func(j int, v ast.Value) error {
		s, ok := v.(ast.String)
		if !ok {
			return fmt.Errorf("%s[%d].evidence[%d]: want a string, got %s", name, i, j, valueName(v))
		}
		out = append(out, string(s))
		return nil
	})
	return out, err
}
