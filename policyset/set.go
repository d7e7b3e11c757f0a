package policyset

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/gowebpki/jcs"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/loader"
)

// Source names a policy set and the data to mount in it, for Open.
type Source struct {
	// Policies holds .rego modules and OPA data files (data.json/data.yaml,
	// mounted by directory as OPA does). *_test.rego files are skipped
	// unless Tests is set.
	Policies fs.FS
	// Bundle, instead of Policies, is a policy set read from an OPA bundle
	// (ReadBundle verifies its signature); its modules and data are read
	// exactly as a directory's are, and the set names its revision.
	Bundle *bundle.Bundle
	// Data, when non-nil, replaces data.shipgate.config.
	Data map[string]any
	// DataFiles are the files Data was read from (ReadData, MergeData), in
	// the order they apply; when the first is an overlay, it applied over
	// the policy set's own data file. They only place errors: a problem in
	// the data is reported at the file and line that gave the value.
	DataFiles []DataFile
	// ServerKeys names the keys of shipgate servers (key id → a name for
	// people) and People binds people to the keys that sign for them
	// (person → key ids): both are added to the data's signing.servers and
	// signing.people, so the policy set a decision records names them.
	ServerKeys map[string]string
	People     map[string][]string
	// Tests keeps the *_test.rego modules of Policies, for OPA's tester; a
	// set read to decide gates never sets it.
	Tests bool
}

// Set is a policy set as read, from a directory or a bundle, before it is
// compiled: its modules and its data, with the given data mounted.
type Set struct {
	// files holds the modules by their path inside the set, without a
	// leading slash: the same for a directory and a bundle built from it.
	files map[string]file
	docs  map[string]any
	// bundle is the bundle manifest's revision; empty for a directory.
	bundle string
	// layers are the files the data comes from (dataLayers), to place an
	// error in them.
	layers []DataFile
	// canonical is docs as canonical JSON, made once: the revision
	// digests it and the Record keeps it.
	canonical func() ([]byte, error)
}

type file struct {
	name   string
	raw    []byte
	parsed *ast.Module
}

func isTestFile(name string) bool { return strings.HasSuffix(name, "_test.rego") }

// Open reads the policy set src names, from a directory or a bundle, and
// mounts its data. It neither checks the data nor compiles the modules:
// Config checks the one, the engine compiles the other.
func Open(src Source) (*Set, error) {
	var set *Set
	var own *DataFile
	var err error
	switch {
	case src.Bundle != nil && src.Policies != nil:
		return nil, errors.New("load policies: give a policy directory or a bundle, not both")
	case src.Bundle != nil:
		set, err = bundleSet(src.Bundle)
	case src.Policies == nil:
		return nil, errors.New("load policies: no policy source")
	default:
		set, own, err = dirSet(src.Policies, src.Tests)
	}
	if err != nil {
		return nil, err
	}
	set.docs = withData(set.docs, src.Data)
	set.layers = dataLayers(own, src.Data != nil, src.DataFiles)
	if set.docs, err = withIdentities(set.docs, src.ServerKeys, src.People); err != nil {
		return nil, err
	}
	docs := set.docs
	set.canonical = sync.OnceValues(func() ([]byte, error) { return Canonical(docs) })
	return set, nil
}

// dirSet reads the modules and data files of fsys, skipping tests unless
// tests is set, and the set's own data file.
func dirSet(fsys fs.FS, tests bool) (*Set, *DataFile, error) {
	l := loader.NewFileLoader().
		WithFS(fsys).
		WithRegoVersion(ast.RegoV1).
		WithCapabilities(parseCapabilities()).
		WithProcessAnnotation(true)
	var res *loader.Result
	var err error
	if tests {
		res, err = l.All([]string{"."})
	} else {
		res, err = l.Filtered([]string{"."}, func(_ string, info fs.FileInfo, _ int) bool {
			return !info.IsDir() && isTestFile(info.Name())
		})
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load policies: %w", err)
	}
	set := &Set{files: make(map[string]file, len(res.Modules)), docs: res.Documents}
	for key, f := range res.Modules {
		set.files[key] = file{name: f.Name, raw: f.Raw, parsed: f.Parsed}
	}
	own, err := ownData(fsys)
	if err != nil {
		return nil, nil, fmt.Errorf("load policies: %w", err)
	}
	return set, own, nil
}

// parseCapabilities are the capabilities the parser assumes for Rego v1
// when given none, made once for every module of every load instead of
// for each: the parser reads their features and keywords, and changes
// nothing.
var parseCapabilities = sync.OnceValue(func() *ast.Capabilities {
	return ast.CapabilitiesForThisVersion(ast.CapabilitiesRegoVersion(ast.RegoV1))
})

// bundleSet is a verified bundle's policy set, named as the directory it
// was built from, so both have the same revision.
func bundleSet(b *bundle.Bundle) (*Set, error) {
	if b.Type() != bundle.SnapshotBundleType || len(b.WasmModules) > 0 || len(b.PlanModules) > 0 || len(b.Wasm) > 0 {
		return nil, errors.New("load policies: want a snapshot bundle of Rego modules")
	}
	set := &Set{files: map[string]file{}, docs: b.Data, bundle: b.Manifest.Revision}
	if set.docs == nil {
		set.docs = map[string]any{}
	}
	for _, m := range b.Modules {
		name := strings.TrimPrefix(path.Clean("/"+m.Path), "/")
		if isTestFile(name) {
			continue
		}
		if m.Parsed == nil {
			return nil, fmt.Errorf("load policies: bundle module %s is not parsed", m.Path)
		}
		if _, dup := set.files[name]; dup {
			return nil, fmt.Errorf("load policies: bundle module %s appears twice", name)
		}
		set.files[name] = file{name: name, raw: m.Raw, parsed: m.Parsed}
	}
	return set, nil
}

// Modules returns the parsed modules by file name, for the compiler.
func (s *Set) Modules() map[string]*ast.Module {
	modules := make(map[string]*ast.Module, len(s.files))
	for _, f := range s.files {
		modules[f.name] = f.parsed
	}
	return modules
}

// Packages groups the modules by package, each group in a stable order
// that does not depend on file names.
func (s *Set) Packages() map[string][]*ast.Module {
	out := map[string][]*ast.Module{}
	for _, f := range s.files {
		name := f.parsed.Package.Path.String()
		out[name] = append(out[name], f.parsed)
	}
	for _, ms := range out {
		slices.SortFunc(ms, (*ast.Module).Compare)
	}
	return out
}

// Data returns the whole data tree, with data.shipgate.config mounted;
// callers must not change it.
func (s *Set) Data() map[string]any { return s.docs }

// BundleRevision is the manifest revision of the bundle the set was read
// from; empty when it was read from a directory.
func (s *Set) BundleRevision() string { return s.bundle }

// Config returns data.shipgate.config, checked against the data schema
// unless the set is a recorded one (loaded to replay or audit the
// decisions made under it, whose data an older schema may have accepted).
// A problem in the data is a *DataError placed in the files it came from.
func (s *Set) Config(recorded bool) (map[string]any, error) {
	sg, _ := s.docs["shipgate"].(map[string]any)
	cfg, ok := sg["config"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("load policies: %w at data.shipgate.config: give --data FILE or add a shipgate/config/data.yaml", ErrNoData)
	}
	if !recorded {
		if err := checkData(cfg, s.layers); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// Revision digests every module's source and the data, so a decision names
// exactly the rules it was made under.
func (s *Set) Revision() (string, error) {
	h := sha256.New()
	names := slices.Sorted(maps.Keys(s.files))
	for _, n := range names {
		f := s.files[n]
		fmt.Fprintf(h, "module %s %d\n", path.Clean(f.name), len(f.raw))
		h.Write(f.raw)
	}
	c, err := s.canonical()
	if err != nil {
		return "", fmt.Errorf("policy revision: %w", err)
	}
	fmt.Fprintf(h, "data %d\n", len(c))
	h.Write(c)
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// Canonical is v (policy data) as canonical JSON (RFC 8785), the form a
// revision digests.
func Canonical(v any) ([]byte, error) {
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
