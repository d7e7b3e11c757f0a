package policyset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
)

// Record is a policy set as the ledger records it once per revision:
// every module's source and the whole data tree, in canonical form.
// Revision is the digest of exactly these modules and data (Set.Revision,
// the engine's Revision), so the set can be checked against it without
// compiling anything.
type Record struct {
	Revision string
	// Modules are sorted by path (slash-separated, relative to the set).
	Modules []Module
	// Data is the canonical JSON (RFC 8785) of the data tree, with
	// data.shipgate.config mounted.
	Data []byte
}

// Module is one Rego module of a Record.
type Module struct {
	Path   string `json:"path"`
	Source string `json:"source"`
}

// Record builds the Record of the set, whose revision is rev.
func (s *Set) Record(rev string) (*Record, error) {
	p := &Record{Revision: rev, Modules: make([]Module, 0, len(s.files))}
	for _, f := range s.files {
		p.Modules = append(p.Modules, Module{Path: path.Clean(f.name), Source: string(f.raw)})
	}
	slices.SortFunc(p.Modules, func(a, b Module) int { return strings.Compare(a.Path, b.Path) })
	c, err := s.canonical()
	if err != nil {
		return nil, fmt.Errorf("policy set: %w", err)
	}
	p.Data = bytes.Clone(c)
	return p, nil
}

// Bundle returns p as an unsigned OPA bundle whose manifest revision is
// name (a decision's policy.bundle; empty for a set loaded from a
// directory), ready for WriteBundle. Loading it computes p.Revision again
// only if the modules and data are p's unchanged.
func (p *Record) Bundle(name string) (*bundle.Bundle, error) {
	dec := json.NewDecoder(bytes.NewReader(p.Data))
	dec.UseNumber()
	var docs map[string]any
	if err := dec.Decode(&docs); err != nil {
		return nil, fmt.Errorf("policy set %s: data: %w", p.Revision, err)
	}
	b := &bundle.Bundle{Manifest: bundle.Manifest{Revision: name}, Data: docs}
	b.Manifest.SetRegoVersion(ast.RegoV1)
	for _, m := range p.Modules {
		if m.Path == "" || path.Clean("/"+m.Path) != "/"+m.Path {
			return nil, fmt.Errorf("policy set %s: module path %q is not clean", p.Revision, m.Path)
		}
		u := "/" + m.Path
		b.Modules = append(b.Modules, bundle.ModuleFile{URL: u, Path: u, RelativePath: m.Path, Raw: []byte(m.Source)})
	}
	return b, nil
}
