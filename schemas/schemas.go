// Package schemas holds the JSON Schemas (draft 2020-12) of shipgate's
// evidence documents and of its policy data, embedded in the binary, and
// compiles them once into a Registry (evidence) or a schema (CompileData).
//
// envelope.json describes the fields every document shares and the common
// types in its $defs; each kind has its own file (plan.json, build.json, …)
// that extends the envelope and closes the kind's data object. docs/evidence.md
// is the contract these files implement. policydata.json (DataFile) is the
// shape of data.shipgate.config; docs/policies.md describes it.
package schemas

import (
	"bytes"
	"embed"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// FS holds envelope.json, one schema file per kind, and policydata.json.
//
//go:embed *.json
var FS embed.FS

// BaseURL is the common prefix of every schema's $id; relative $refs
// between the files resolve against it, so nothing is ever fetched.
const BaseURL = "https://shipgate.dev/schemas/v1/"

// Kinds lists the evidence kinds, in the order of docs/evidence.md.
var Kinds = []string{
	"Plan", "IncidentStatus", "Build", "Deploy", "Verification", "Monitoring",
	"Rollback", "FlagChange", "Approval", "Override", "Postmortem", "Hold", "ErrorBudget",
}

// File returns the name of the schema file for kind within FS. It does not
// check that kind is one of Kinds.
func File(kind string) string {
	return strings.ToLower(kind) + ".json"
}

// Registry maps each kind to its compiled schema. It is safe for concurrent
// use.
type Registry struct{}

// Compile reads the schemas of all Kinds from FS and returns their
// Registry. Each kind's schema is compiled the first time it is asked for
// (a gate reads a handful of kinds, not all of them), once per process:
// every Registry and CompileData share one compiler, so the envelope and
// the $defs the files share are compiled once too.
func Compile() (*Registry, error) {
	if _, err := shared(); err != nil {
		return nil, err
	}
	return &Registry{}, nil
}

// shared is the compiler of every file of FS, made once. A
// jsonschema.Compiler keeps what it compiled, by location, but is not safe
// for concurrent use: compileShared holds sharedMu while it compiles.
var (
	shared   = sync.OnceValues(compiler)
	sharedMu sync.Mutex
)

// compileShared compiles the schema at url on the shared compiler.
func compileShared(url string) (*jsonschema.Schema, error) {
	c, err := shared()
	if err != nil {
		return nil, err
	}
	sharedMu.Lock()
	defer sharedMu.Unlock()
	return c.Compile(url)
}

// kindSchemas compiles each kind's schema once, when first asked for.
var kindSchemas = func() map[string]func() (*jsonschema.Schema, error) {
	m := make(map[string]func() (*jsonschema.Schema, error), len(Kinds))
	for _, k := range Kinds {
		url := BaseURL + File(k)
		m[k] = sync.OnceValues(func() (*jsonschema.Schema, error) {
			s, err := compileShared(url)
			if err != nil {
				return nil, fmt.Errorf("compile schema %s: %w", File(k), err)
			}
			return s, nil
		})
	}
	return m
}()

// DataFile is the schema of the policy data, data.shipgate.config: the
// contract between a data file and the engine and rules that read it.
// It lives here, not with a policy set, because it shares the evidence
// schemas' enums (kinds, severities, strategies) through $ref, and
// because no policy set can replace it.
const DataFile = "policydata.json"

// CompileData compiles the policy data schema (DataFile). Compiling is
// costly: call it once and keep the schema, which is safe for concurrent
// use.
func CompileData() (*jsonschema.Schema, error) {
	s, err := compileShared(BaseURL + DataFile)
	if err != nil {
		return nil, fmt.Errorf("compile schema %s: %w", DataFile, err)
	}
	return s, nil
}

// compiler returns a compiler holding every file of FS, so that $refs
// between them resolve without fetching anything.
func compiler() (*jsonschema.Compiler, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Draft 2020-12 treats format as an annotation; the contract wants a
	// malformed timestamp rejected.
	c.AssertFormat()
	c.UseRegexpEngine(compilePattern)
	files, err := FS.ReadDir(".")
	if err != nil {
		return nil, fmt.Errorf("read embedded schemas: %w", err)
	}
	for _, f := range files {
		b, err := FS.ReadFile(f.Name())
		if err != nil {
			return nil, fmt.Errorf("read schema %s: %w", f.Name(), err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("parse schema %s: %w", f.Name(), err)
		}
		if err := c.AddResource(BaseURL+f.Name(), doc); err != nil {
			return nil, fmt.Errorf("add schema %s: %w", f.Name(), err)
		}
	}
	return c, nil
}

// patterns holds every regular expression the shared compiler compiled,
// by its source: the compiler compiles each pattern of a file once to
// check the file against the meta-schema and again to compile it, and the
// same pattern appears in several places. It starts with the three
// CheckName, CheckPerson and CheckCommit compiled already. A compiled
// regexp is safe for concurrent use, and only the embedded files'
// patterns are compiled.
var (
	patternsMu sync.Mutex
	patterns   = map[string]*regexp.Regexp{NamePattern: nameRE, PersonPattern: personRE, CommitPattern: commitRE}
)

// compilePattern is regexp.Compile (the compiler's default engine), once
// per pattern.
func compilePattern(s string) (jsonschema.Regexp, error) {
	patternsMu.Lock()
	defer patternsMu.Unlock()
	if re, ok := patterns[s]; ok {
		return re, nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, err
	}
	patterns[s] = re
	return re, nil
}

// Schema returns the compiled schema of kind, and false when kind is not one
// of Kinds. The embedded schemas compile (the tests compile each); should
// one not, its kind is refused as unknown: no document of it is accepted.
func (r *Registry) Schema(kind string) (*jsonschema.Schema, bool) {
	compile, ok := kindSchemas[kind]
	if !ok {
		return nil, false
	}
	s, err := compile()
	return s, err == nil
}
