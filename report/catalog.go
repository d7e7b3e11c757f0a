package report

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// Rule is a rule's metadata, as its rule file declares it in
// rules[id] := {title, enforcement, gates, remediation}.
type Rule struct {
	Title       string   `json:"title"`
	Enforcement string   `json:"enforcement"`
	Gates       []string `json:"gates"`
	Remediation string   `json:"remediation"`
}

// catalogQuery gathers the rules metadata of every rule package.
const catalogQuery = "catalog := {id: meta | meta := data.shipgate.rules[_].rules[id]}"

// RuleCatalog reads the rules metadata of the policy set in fsys (a
// policy directory, as the engine loads it). Decisions carry the titles of
// the rules that fired only; an allowed decision's explanation needs the
// others.
func RuleCatalog(ctx context.Context, fsys fs.FS) (map[string]Rule, error) {
	res, err := loader.NewFileLoader().WithFS(fsys).WithRegoVersion(ast.RegoV1).
		Filtered([]string{"."}, func(_ string, info fs.FileInfo, _ int) bool {
			return !info.IsDir() && strings.HasSuffix(info.Name(), "_test.rego")
		})
	if err != nil {
		return nil, fmt.Errorf("rule catalog: %w", err)
	}
	return catalog(ctx, res.ParsedModules(), res.Documents)
}

// BundleRuleCatalog reads the rules metadata of the policy set in an OPA
// bundle (engine.ReadBundle), as RuleCatalog does for a directory.
func BundleRuleCatalog(ctx context.Context, b *bundle.Bundle) (map[string]Rule, error) {
	mods := map[string]*ast.Module{}
	for _, m := range b.Modules {
		if m.Parsed != nil && !strings.HasSuffix(m.Path, "_test.rego") {
			mods[m.Path] = m.Parsed
		}
	}
	return catalog(ctx, mods, b.Data)
}

func catalog(ctx context.Context, modules map[string]*ast.Module, docs map[string]any) (map[string]Rule, error) {
	opts := []func(*rego.Rego){rego.Query(catalogQuery), rego.Store(inmem.NewFromObject(docs))}
	for _, m := range modules {
		opts = append(opts, rego.ParsedModule(m))
	}
	rs, err := rego.New(opts...).Eval(ctx)
	if err != nil {
		return nil, fmt.Errorf("rule catalog: %w", err)
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("rule catalog: %d results", len(rs))
	}
	b, err := json.Marshal(rs[0].Bindings["catalog"])
	if err != nil {
		return nil, fmt.Errorf("rule catalog: %w", err)
	}
	var out map[string]Rule
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("rule catalog: %w", err)
	}
	return out, nil
}
