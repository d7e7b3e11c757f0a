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
		for _, f := range []struct {
			key string
			dst *string
		}{{"kind", &ob.Kind}, {"rule", &ob.Rule}, {"message", &ob.Message}, {"due", &ob.Due}} {
			if err := stringField(o, f.key, f.dst); err != nil {
				return fmt.Errorf("obligations[%d].%w", i, err)
			}
		}
		obligations = append(obligations, ob)
		return nil
	})
	if err != nil {
		return false, err
	}
	var rules []string
	err = each("rules", field(obj, "rules"), func(i int, v ast.Value) error {
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
	d.Violations = append(d.Violations, nonNil(violations)...)
	d.Overridden = append(d.Overridden, nonNil(overridden)...)
	d.Warnings = append(d.Warnings, nonNil(warnings)...)
	d.Obligations = append(d.Obligations, obligations...)
	d.Rules = append(d.Rules, rules...)
	return bool(allow), nil
}

// field is obj[key]'s value; nil when absent.
func field(obj ast.Object, key string) ast.Value {
	if t := obj.Get(ast.InternedTerm(key)); t != nil {
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
	out := []Finding{}
	err := each(name, v, func(i int, v ast.Value) error {
		o, ok := v.(ast.Object)
		if !ok {
			return fmt.Errorf("%s[%d]: want an object, got %s", name, i, valueName(v))
		}
		var f Finding
		for _, s := range []struct {
			key string
			dst *string
		}{
			{"rule", &f.Rule}, {"title", &f.Title}, {"enforcement", &f.Enforcement}, {"message", &f.Message},
			{"remediation", &f.Remediation}, {"override", &f.Override}, {"approver", &f.Approver},
		} {
			if err := stringField(o, s.key, s.dst); err != nil {
				return fmt.Errorf("%s[%d].%w", name, i, err)
			}
		}
		err := each("evidence", field(o, "evidence"), func(j int, v ast.Value) error {
			s, ok := v.(ast.String)
			if !ok {
				return fmt.Errorf("%s[%d].evidence[%d]: want a string, got %s", name, i, j, valueName(v))
			}
			f.Evidence = append(f.Evidence, string(s))
			return nil
		})
		if err != nil {
			return err
		}
		out = append(out, f)
		return nil
	})
	return out, err
}
