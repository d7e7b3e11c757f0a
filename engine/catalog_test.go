package engine_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/internal/policytest"
)

// withFile is the default policy set plus one more file.
func withFile(t *testing.T, name, src string) fstest.MapFS {
	t.Helper()
	return policytest.Edited(t, map[string]func(string) string{name: policytest.Add(src)})
}

// A decision looks up only the rules it reports; the whole catalog is
// checked when the policies load, so two rule files that declare the same
// id differently are refused even if that rule never fires.
func TestLoadRefusesConflictingRuleIDs(t *testing.T) {
	const conflicting = `package shipgate.rules.copy

rules["change.size"] := {"title": "Another meaning", "enforcement": "hard", "gates": {"flag"}, "remediation": "none"}
`
	_, err := engine.Load(context.Background(), engine.Options{Policies: withFile(t, "rules/copy.rego", conflicting)})
	var pe *engine.PolicyError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "rule catalog") || !strings.Contains(err.Error(), "conflict") {
		t.Fatalf("Load(conflicting rule ids) = %v; want a PolicyError naming the rule catalog conflict", err)
	}
}

func TestLoadAcceptsIdenticalRuleDeclarations(t *testing.T) {
	const same = `package shipgate.rules.copy

rules["x.same"] := {"title": "Same", "enforcement": "advisory", "gates": {"flag"}, "remediation": "r"}
`
	const again = `package shipgate.rules.again

rules := {"x.same": {"title": "Same", "enforcement": "advisory", "gates": {"flag"}, "remediation": "r"}}
`
	fsys := withFile(t, "rules/copy.rego", same)
	fsys["rules/again.rego"] = &fstest.MapFile{Data: []byte(again)}
	e, err := engine.Load(context.Background(), engine.Options{Policies: fsys})
	if err != nil {
		t.Fatalf("Load(identical declarations) = %v", err)
	}
	d, err := e.Evaluate(context.Background(), engine.Input{Gate: "flag", Release: release, Now: deployAt})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range d.Rules {
		if r == "x.same" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("Rules = %v; want x.same once", d.Rules)
	}
}

// A decision object of the wrong shape is never read as allow.
func TestEvaluateRefusesMalformedDecisions(t *testing.T) {
	tests := []struct{ name, decision string }{
		{"violation not an object", `{"allow": false, "violations": ["r"], "rules": ["r"]}`},
		{"violation without rule", `{"allow": false, "violations": [{"message": "m"}], "rules": ["r"]}`},
		{"message not a string", `{"allow": false, "violations": [{"rule": "r", "message": 1}], "rules": ["r"]}`},
		{"violations null", `{"allow": true, "violations": null, "rules": ["r"]}`},
		{"violations not a list", `{"allow": true, "violations": {}, "rules": ["r"]}`},
		{"evidence not strings", `{"allow": false, "violations": [{"rule": "r", "message": "m", "evidence": [1]}], "rules": ["r"]}`},
		{"warnings not objects", `{"allow": true, "violations": [], "warnings": [1], "rules": ["r"]}`},
		{"obligation field not a string", `{"allow": true, "violations": [], "obligations": [{"kind": 1}], "rules": ["r"]}`},
		{"rules not strings", `{"allow": true, "violations": [], "rules": [1]}`},
		{"rules not a list", `{"allow": true, "violations": [], "rules": "r"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := customEngine(t, "package shipgate.gates.deploy\n\ndecision := "+tt.decision+"\n", time.Second)
			d, err := e.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: deployEvidence(t)})
			if d.Allow || d.Reason != engine.ReasonMalformed || err == nil {
				t.Errorf("Evaluate(%s) = allow %t, reason %s, err %v; want deny %s", tt.decision, d.Allow, d.Reason, err, engine.ReasonMalformed)
			}
		})
	}
}

// The decision is read from the policy's answer as it was: lists in order,
// absent members empty, unknown members ignored.
func TestEvaluateReadsTheDecision(t *testing.T) {
	const decision = `{
	"allow": false,
	"violations": [{"rule": "b", "message": "second", "title": "B", "enforcement": "soft", "evidence": ["sha256:1", "sha256:0"], "remediation": "fix", "extra": true}, {"rule": "a", "message": "first"}],
	"overridden": [{"rule": "c", "message": "m", "override": "sha256:2", "approver": "carol"}],
	"obligations": [{"kind": "postmortem", "rule": "b", "message": "write it", "due": "2026-12-01T00:00:00Z"}],
	"rules": ["b", "a", "c"]
}`
	e := customEngine(t, "package shipgate.gates.deploy\n\ndecision := "+decision+"\n", time.Second)
	d, err := e.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: deployEvidence(t)})
	if err != nil {
		t.Fatal(err)
	}
	want := engine.Decision{
		Violations: []engine.Finding{
			{Rule: "b", Title: "B", Enforcement: "soft", Message: "second", Evidence: []string{"sha256:1", "sha256:0"}, Remediation: "fix"},
			{Rule: "a", Message: "first", Evidence: []string{}},
		},
		Overridden:  []engine.Finding{{Rule: "c", Message: "m", Evidence: []string{}, Override: "sha256:2", Approver: "carol"}},
		Warnings:    []engine.Finding{},
		Obligations: []engine.Obligation{{Kind: "postmortem", Rule: "b", Message: "write it", Due: "2026-12-01T00:00:00Z"}},
		Rules:       []string{"b", "a", "c"},
	}
	if diff := cmp.Diff(want, *d, cmpopts.IgnoreFields(engine.Decision{}, "Gate", "Release", "Reason", "Ignored", "Evidence", "Policy", "Input", "EvaluatedAt")); diff != "" || d.Allow || d.Reason != engine.ReasonDeny {
		t.Errorf("Evaluate() allow %t reason %s; (-want +got):\n%s", d.Allow, d.Reason, diff)
	}
}

// Every rule of the shipped policies is declared in a METADATA annotation
// with its title, description, enforcement, gates and remediation, and the
// catalog the engine reads at load has them all.
func TestShippedRulesAreAnnotated(t *testing.T) {
	cat := defaultEngine(t).Catalog()
	if len(cat) < 29 {
		t.Fatalf("Catalog() has %d rules (%v); want every rule of the shipped policies", len(cat), cat.IDs())
	}
	levels := []string{"hard", "soft", "advisory"}
	for _, id := range cat.IDs() {
		r := cat[id]
		if r.ID != id || r.Title == "" || r.Description == "" || r.Remediation == "" || !slices.Contains(levels, r.Enforcement) {
			t.Errorf("%s: %+v; want its id, a title, a description, a remediation and an enforcement of %v", id, r, levels)
		}
		if r.File == "" || r.Row == 0 || r.Package == "" {
			t.Errorf("%s: declared at %q:%d in %q; want its METADATA annotation in a rule file", id, r.File, r.Row, r.Package)
		}
		area, _, _ := strings.Cut(id, ".")
		if want := "shipgate/rules/" + area + "/" + area + ".rego"; r.File != want || r.Package != "data.shipgate.rules."+area {
			t.Errorf("%s: in %s, package %s; want %s, package data.shipgate.rules.%s", id, r.File, r.Package, want, area)
		}
		if len(r.Gates) == 0 {
			t.Errorf("%s: no gates", id)
		}
		for _, g := range r.Gates {
			if !slices.Contains(engine.Gates, g) {
				t.Errorf("%s: gate %q is none of %v", id, g, engine.Gates)
			}
		}
	}
}

// Every rule a decision names is in the catalog, with the title and
// remediation the decision carries.
func TestCatalogMatchesDecisions(t *testing.T) {
	e := defaultEngine(t)
	cat := e.Catalog()
	for _, gate := range engine.Gates {
		d, err := e.Evaluate(context.Background(), engine.Input{Gate: gate, Release: release, Now: deployAt})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range d.Rules {
			if _, ok := cat[id]; !ok {
				t.Errorf("%s gate: rule %s is not in the catalog", gate, id)
			}
		}
		for _, f := range d.Violations {
			if r := cat[f.Rule]; !strings.HasPrefix(f.Rule, "evidence.") && !strings.HasPrefix(f.Rule, "engine.") && (r.Title != f.Title || r.Remediation != f.Remediation || !slices.Contains(r.Gates, gate)) {
				t.Errorf("%s gate: violation %s (%q, %q); catalog %+v", gate, f.Rule, f.Title, f.Remediation, r)
			}
		}
	}
}

// A rule declared by its annotation in a policy set that is not the
// shipped one is in the catalog with its custom keys.
func TestCatalogReadsAnnotations(t *testing.T) {
	const annotated = `package shipgate.rules.extra

import data.shipgate.lib

# METADATA
# title: Extra rule
# description: An extra rule.
# custom:
#   enforcement: advisory
#   gates: [flag, deploy]
#   remediation: do the extra thing
#   owner: release-team
rule["extra.one"] := lib.metadata(rego.metadata.rule())

rules := rule
`
	e, err := engine.Load(context.Background(), engine.Options{Policies: withFile(t, "shipgate/rules/extra/extra.rego", annotated)})
	if err != nil {
		t.Fatal(err)
	}
	want := engine.Rule{ID: "extra.one", Title: "Extra rule", Description: "An extra rule.", Enforcement: "advisory", Gates: []string{"deploy", "flag"},
		Remediation: "do the extra thing", Custom: map[string]any{"owner": "release-team"}, Package: "data.shipgate.rules.extra",
		File: "shipgate/rules/extra/extra.rego", Row: 13}
	if diff := cmp.Diff(want, e.Catalog()["extra.one"]); diff != "" {
		t.Errorf("Catalog()[extra.one] (-want +got):\n%s", diff)
	}
}

// A rule annotated without what every rule needs is refused at load, at
// its declaration, rather than reported as an undeclared rule when it fires.
func TestLoadRefusesIncompleteAnnotations(t *testing.T) {
	const incomplete = `package shipgate.rules.extra

import data.shipgate.lib

# METADATA
# title: Extra rule
# custom:
#   enforcement: sometimes
#   gates: [deploy]
rule["extra.one"] := lib.metadata(rego.metadata.rule())

rules := rule
`
	_, err := engine.Load(context.Background(), engine.Options{Policies: withFile(t, "shipgate/rules/extra/extra.rego", incomplete)})
	var pe *engine.PolicyError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "shipgate/rules/extra/extra.rego:10") ||
		!strings.Contains(err.Error(), "rule extra.one: its METADATA annotation lacks custom.enforcement, custom.remediation") {
		t.Fatalf("Load(incomplete annotation) = %v; want a PolicyError at the declaration naming what it lacks", err)
	}
}
