package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
)

// Rule is one policy rule's metadata, as the policy set declares it: in
// the shipped policies, the METADATA annotation of rule[id] in its rule
// file (title, description, and under custom enforcement, gates and
// remediation), from which the file's rules object is made.
type Rule struct {
	// ID is the rule id findings name, such as approval.required.
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// Enforcement is as declared, before data enforcement overrides it.
	Enforcement string   `json:"enforcement"`
	Gates       []string `json:"gates"`
	Remediation string   `json:"remediation"`
	// Custom holds the annotation's other custom keys, if any.
	Custom map[string]any `json:"custom,omitempty"`
	// Package is the rule file's package (data.shipgate.rules.<area>);
	// File and Row place the annotated declaration in the policy set.
	// All three are empty for a rule declared without an annotation.
	Package string `json:"package,omitempty"`
	File    string `json:"file,omitempty"`
	Row     int    `json:"row,omitempty"`
}

// Catalog is every rule a policy set declares, by id. The engine reads it
// once, when the policies load; reports, SARIF output, the audit pack and
// the dashboard take their rule metadata from it.
type Catalog map[string]Rule

// IDs lists the catalog's rule ids in order.
func (c Catalog) IDs() []string { return slices.Sorted(maps.Keys(c)) }

// Catalog is the rule catalog of the loaded policy set.
func (e *Engine) Catalog() Catalog { return e.catalog }

// catalogRef is the decision library's map of every declared rule.
var catalogRef = ast.MustParseRef("data.shipgate.lib.decision.catalog")

// rulesRef is where rule files live; a rule's annotated declaration is
// data.shipgate.rules.<area>.rule[id] (or rules[id]).
var rulesRef = ast.MustParseRef("data.shipgate.rules")

// readCatalog reads the rule catalog once, at load. The decision library's
// catalog (the rules objects of every rule file, as decisions read them)
// is evaluated whole: two rule files declaring the same rule id
// differently is a conflict, and the policy set is refused; a decision
// looks up only the rules it reports, so it would otherwise see the
// conflict only when one of them fires. The METADATA annotations of the
// rule declarations (the compiler's annotation set) then add where each
// rule is declared, its description and its other custom keys, and the
// rules declared by annotation alone. The catalog is a constant rule:
// when folding gave its value (consts), that value is read; when the
// catalog could not be folded, it is evaluated here, so that its error
// is reported.
func readCatalog(ctx context.Context, compiler *ast.Compiler, store storage.Store, consts *constants) (Catalog, error) {
	cat := Catalog{}
	if t := consts.lookup(catalogRef); t != nil {
		v, err := ast.JSON(t.Value)
		if err != nil {
			return nil, &PolicyError{Err: fmt.Errorf("rule catalog: %w", err)}
		}
		if err := decodeCatalog(v, cat); err != nil {
			return nil, &PolicyError{Err: fmt.Errorf("rule catalog: %w", err)}
		}
	} else if len(compiler.GetRulesExact(catalogRef)) > 0 {
		rs, err := rego.New(
			rego.Query(catalogRef.String()),
			rego.Compiler(compiler),
			rego.Store(store),
			rego.StrictBuiltinErrors(true),
			rego.Capabilities(capabilities()),
		).Eval(ctx)
		if err != nil {
			return nil, &PolicyError{Err: fmt.Errorf("rule catalog: %w", err)}
		}
		if len(rs) == 1 && len(rs[0].Expressions) == 1 {
			if err := decodeCatalog(rs[0].Expressions[0].Value, cat); err != nil {
				return nil, &PolicyError{Err: fmt.Errorf("rule catalog: %w", err)}
			}
		}
	}
	as := compiler.GetAnnotationSet()
	if as == nil {
		return cat, nil
	}
	var errs ast.Errors
	for _, ar := range as.Flatten() {
		id, pkg, ok := declaredRule(ar)
		if !ok {
			continue
		}
		if missing := incomplete(ar.Annotations); len(missing) > 0 {
			errs = append(errs, ast.NewError(ast.CompileErr, ar.Location,
				"rule %s: its METADATA annotation lacks %s (title, and under custom: enforcement hard, soft or advisory, gates, remediation)", id, strings.Join(missing, ", ")))
			continue
		}
		r, found := cat[id]
		a := ar.Annotations
		if !found {
			r = Rule{ID: id, Title: a.Title, Enforcement: customString(a, "enforcement"), Remediation: customString(a, "remediation"), Gates: customStrings(a, "gates")}
		}
		if r.Description == "" {
			r.Description = a.Description
		}
		for k, v := range a.Custom {
			switch k {
			case "enforcement", "gates", "remediation":
			default:
				if r.Custom == nil {
					r.Custom = map[string]any{}
				}
				r.Custom[k] = v
			}
		}
		r.Package = pkg
		if loc := ar.Location; loc != nil {
			r.File, r.Row = loc.File, loc.Row
		}
		cat[id] = r
	}
	if len(errs) > 0 {
		return nil, &PolicyError{Errors: errs}
	}
	return cat, nil
}

// incomplete lists what a rule's annotation lacks of what every rule
// needs; a rule file's rules entry would otherwise be undefined, and its
// findings reported as of an undeclared rule.
func incomplete(a *ast.Annotations) []string {
	var missing []string
	if a.Title == "" {
		missing = append(missing, "title")
	}
	if e := customString(a, "enforcement"); e != Hard && e != Soft && e != Advisory {
		missing = append(missing, "custom.enforcement")
	}
	if len(customStrings(a, "gates")) == 0 {
		missing = append(missing, "custom.gates")
	}
	if customString(a, "remediation") == "" {
		missing = append(missing, "custom.remediation")
	}
	return missing
}

// decodeCatalog reads the decision library's catalog value into cat.
func decodeCatalog(v any, cat Catalog) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var m map[string]Rule
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for id, r := range m {
		r.ID = id
		slices.Sort(r.Gates)
		cat[id] = r
	}
	return nil
}

// declaredRule reports the rule id an annotation declares: one on a rule
// data.shipgate.rules.<area>.rule[id] or .rules[id], with its package.
func declaredRule(ar *ast.AnnotationsRef) (id, pkg string, ok bool) {
	p := ar.Path
	if ar.Annotations == nil || ar.Annotations.Scope != "rule" || len(p) != len(rulesRef)+3 || !p.HasPrefix(rulesRef) {
		return "", "", false
	}
	if head, _ := p[len(rulesRef)+1].Value.(ast.String); head != "rule" && head != "rules" {
		return "", "", false
	}
	s, ok := p[len(p)-1].Value.(ast.String)
	if !ok {
		return "", "", false
	}
	return string(s), p[:len(rulesRef)+1].String(), true
}

func customString(a *ast.Annotations, key string) string {
	s, _ := a.Custom[key].(string)
	return s
}

func customStrings(a *ast.Annotations, key string) []string {
	list, _ := a.Custom[key].([]any)
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}
