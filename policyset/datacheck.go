package policyset

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	yamlast "github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/localizevideos/shipgate/schemas"
)

// DataPaths are where a policy set keeps its own data, mounted at
// data.shipgate.config, in the order they are looked for.
var DataPaths = []string{"shipgate/config/data.yaml", "shipgate/config/data.yml", "shipgate/config/data.json"}

// ErrNoData is wrapped by the error of a policy set used without policy
// data: no shipgate/config/data.yaml and no data given. Every rule reads
// data, so such a set could only decide by accident.
var ErrNoData = errors.New("no policy data")

// DataFile is a policy data file as read, so that an error in the data it
// gives can name its file and line.
type DataFile struct {
	// Name is the file as its user named it; Raw its bytes (YAML or JSON).
	Name string
	Raw  []byte
	// Overlay says the file was merged over the data before it (--data
	// +FILE, MergeData) instead of replacing it.
	Overlay bool
}

// DataError reports policy data that the data schema
// (schemas/policydata.json) refuses, or that the engine cannot use (a
// freeze window that ends before it starts): every problem, with the file
// and line that gave the value, the key and what was expected.
type DataError struct {
	Problems []DataProblem
}

func (e *DataError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns each DataProblem, for errors.As.
func (e *DataError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// DataProblem is one reason policy data was refused.
type DataProblem struct {
	// File and Line are where the offending value was written or, for a
	// missing key, the object that lacks it; "" and 0 when the data came
	// from no file (data given as a value, a bundle's data).
	File string
	Line int
	// Pointer is the RFC 6901 JSON pointer of the key in
	// data.shipgate.config; Key the same as a dotted path, such as
	// freeze.calendar[0].start.
	Pointer string
	Key     string
	// Keyword is the JSON Schema keyword that failed ("required",
	// "additionalProperties", "enum", "type", "pattern", …), or "value"
	// for what the engine checks beyond the schema.
	Keyword string
	// Message says what was expected.
	Message string
}

// Error formats p as "file:line: key: message".
func (p DataProblem) Error() string {
	where := "policy data"
	switch {
	case p.File != "" && p.Line > 0:
		where = fmt.Sprintf("%s:%d", p.File, p.Line)
	case p.File != "":
		where = p.File
	}
	key := p.Key
	if key == "" {
		key = "(root)"
	}
	return fmt.Sprintf("%s: %s: %s", where, key, p.Message)
}

// dataSchema is the compiled data schema, compiled once: it is embedded,
// so every compilation gives the same schema.
var dataSchema = sync.OnceValues(schemas.CompileData)

// CompileDataSchema compiles the data schema that Config checks the data
// against, once per process; later calls wait for that one. Loading a
// policy set may call it ahead, in another goroutine, so that the schema
// is ready when Config needs it.
func CompileDataSchema() error {
	_, err := dataSchema()
	return err
}

// rawSchemas holds the embedded schema files as decoded JSON, keyed by
// their $id, to word a failure from the schema that failed (its
// description, the keys it allows).
var rawSchemas = sync.OnceValues(func() (map[string]any, error) {
	out := map[string]any{}
	entries, err := schemas.FS.ReadDir(".")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		b, err := schemas.FS.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("schema %s: %w", e.Name(), err)
		}
		out[schemas.BaseURL+e.Name()] = doc
	}
	return out, nil
})

// schemaAt returns the raw schema object at url (an absolute schema
// location, file#/json/pointer), nil when there is none.
func schemaAt(url string) map[string]any {
	docs, err := rawSchemas()
	if err != nil {
		return nil
	}
	file, frag, _ := strings.Cut(url, "#")
	cur := docs[file]
	for _, tok := range splitPointer(frag) {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[tok]
	}
	m, _ := cur.(map[string]any)
	return m
}

// checkData validates cfg, the data mounted at data.shipgate.config,
// against the data schema. layers are the files cfg was made from, in the
// order they apply, for the positions of errors; none is fine.
func checkData(cfg map[string]any, layers []DataFile) error {
	s, err := dataSchema()
	if err != nil {
		return fmt.Errorf("data schema: %w", err)
	}
	inst, err := jsonValue(cfg)
	if err != nil {
		return fmt.Errorf("policy data: %w", err)
	}
	verr := s.Validate(inst)
	if verr == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(verr, &ve) {
		return fmt.Errorf("policy data: %w", verr)
	}
	var probs []located
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			probs = append(probs, schemaProblems(e)...)
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return dataError(inst, probs, layers)
}

// jsonValue is v as decoded JSON with json.Number numbers, the form the
// validator takes; data built in Go ([]string, int) is converted.
func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// located is a problem before its file and line are known: the path of
// its key, and whether the key is missing (so the object that lacks it is
// what a user edits).
type located struct {
	path    []string
	missing bool
	keyword string
	message string
}

var printer = message.NewPrinter(language.English)

// schemaProblems words a failed keyword as what was expected. required
// and additionalProperties give one problem per key, located at the key.
func schemaProblems(e *jsonschema.ValidationError) []located {
	at := e.InstanceLocation
	under := func(name string) []string { return append(slices.Clip(at), name) }
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		var out []located
		for _, m := range k.Missing {
			out = append(out, located{under(m), true, "required", "required key is missing"})
		}
		return out
	case *kind.DependentRequired:
		var out []located
		for _, m := range k.Missing {
			out = append(out, located{under(m), true, "dependentRequired", fmt.Sprintf("required with %q, and missing", k.Prop)})
		}
		return out
	case *kind.AdditionalProperties:
		want := allowedKeys(schemaAt(e.SchemaURL))
		var out []located
		for _, p := range k.Properties {
			out = append(out, located{under(p), false, "additionalProperties", "unknown key" + want})
		}
		return out
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = display(w)
		}
		return []located{{at, false, "enum", fmt.Sprintf("want one of %s; got %s", strings.Join(want, ", "), display(k.Got))}}
	case *kind.Type:
		return []located{{at, false, "type", fmt.Sprintf("want %s; got %s", strings.Join(k.Want, " or "), k.Got)}}
	case *kind.Pattern:
		want := "a string matching " + k.Want
		if d, ok := schemaAt(e.SchemaURL)["description"].(string); ok {
			want = strings.TrimSuffix(d, ".")
			want = strings.ToLower(want[:1]) + want[1:]
		}
		return []located{{at, false, "pattern", fmt.Sprintf("want %s; got %s", want, display(k.Got))}}
	}
	keyword := strings.Join(e.ErrorKind.KeywordPath(), "/")
	return []located{{at, false, cmp.Or(keyword, "schema"), e.ErrorKind.LocalizedString(printer)}}
}

// allowedKeys is "; want one of a, b" for the keys the object schema s
// declares, or "; want a key matching RE" for its key patterns.
func allowedKeys(s map[string]any) string {
	if props, ok := s["properties"].(map[string]any); ok && len(props) > 0 {
		return "; want one of " + strings.Join(slices.Sorted(maps.Keys(props)), ", ")
	}
	if pp, ok := s["patternProperties"].(map[string]any); ok && len(pp) > 0 {
		return "; want a key matching " + strings.Join(slices.Sorted(maps.Keys(pp)), " or ")
	}
	return ""
}

// display renders a JSON value as a data file would spell it.
func display(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// dataError places each problem in the file and at the line that gave it.
func dataError(inst any, probs []located, layers []DataFile) *DataError {
	ls := make([]layer, len(layers))
	for i, f := range layers {
		ls[i] = parseLayer(f)
	}
	out := &DataError{}
	for _, p := range probs {
		dp := DataProblem{Pointer: pointer(p.path), Key: dottedKey(inst, p.path), Keyword: p.keyword, Message: p.message}
		dp.File, dp.Line = locate(ls, p.path, p.missing)
		out.Problems = append(out.Problems, dp)
	}
	slices.SortFunc(out.Problems, func(a, b DataProblem) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), strings.Compare(a.Pointer, b.Pointer), strings.Compare(a.Message, b.Message))
	})
	out.Problems = slices.Compact(out.Problems)
	return out
}

// layer is a data file parsed twice: as the value it gave, and as YAML
// nodes that know their lines.
type layer struct {
	name  string
	value any
	root  yamlast.Node
}

func parseLayer(f DataFile) layer {
	l := layer{name: f.Name}
	if v, err := ReadData(f.Name, f.Raw); err == nil {
		l.value = v
	}
	if file, err := parser.ParseBytes(f.Raw, 0); err == nil && len(file.Docs) > 0 {
		l.root = file.Docs[0].Body
	}
	return l
}

// locate finds the file and line of the key at path. A value comes from
// the last file that has it. A missing key was removed by the last file
// that set it to null or else, since objects merge, was never written
// where the object that lacks it was first written.
func locate(ls []layer, path []string, missing bool) (string, int) {
	if len(ls) == 0 {
		return "", 0
	}
	if missing {
		for i := len(ls) - 1; i >= 0; i-- {
			if v, ok := lookup(ls[i].value, path); ok && v == nil {
				return ls[i].name, line(ls[i].root, path)
			}
		}
		parent := path[:len(path)-1]
		for _, l := range ls {
			if _, ok := lookup(l.value, parent); ok {
				return l.name, line(l.root, parent)
			}
		}
	}
	for n := len(path); n >= 0; n-- {
		for i := len(ls) - 1; i >= 0; i-- {
			if _, ok := lookup(ls[i].value, path[:n]); ok {
				return ls[i].name, line(ls[i].root, path[:n])
			}
		}
	}
	return ls[len(ls)-1].name, 0
}

// lookup returns the value at path in v, and whether there is one.
func lookup(v any, path []string) (any, bool) {
	for _, tok := range path {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// line is the line of the key at path in the YAML (or JSON) nodes under
// n: the line of its key in a mapping, of its item in a sequence; for the
// whole document, the line of its first key. Where the path leaves the
// nodes, the line of the deepest node found; 0 without nodes.
func line(n yamlast.Node, path []string) int {
	if n == nil {
		return 0
	}
	at := nodeLine(n)
	for _, tok := range path {
		n = unwrap(n)
		var next yamlast.Node
		switch c := n.(type) {
		case *yamlast.MappingNode:
			for _, mv := range c.Values {
				if keyName(mv.Key) == tok {
					at, next = nodeLine(mv.Key), mv.Value
					break
				}
			}
		case *yamlast.MappingValueNode:
			if keyName(c.Key) == tok {
				at, next = nodeLine(c.Key), c.Value
			}
		case *yamlast.SequenceNode:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(c.Values) {
				next = c.Values[i]
				at = nodeLine(next)
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return at
}

// unwrap returns the node a tag or an anchor decorates.
func unwrap(n yamlast.Node) yamlast.Node {
	for {
		switch c := n.(type) {
		case *yamlast.TagNode:
			n = c.Value
		case *yamlast.AnchorNode:
			n = c.Value
		default:
			return n
		}
	}
}

func nodeLine(n yamlast.Node) int {
	n = unwrap(n)
	if m, ok := n.(*yamlast.MappingNode); ok && len(m.Values) > 0 && !m.IsFlowStyle {
		return nodeLine(m.Values[0].Key)
	}
	if mv, ok := n.(*yamlast.MappingValueNode); ok {
		return nodeLine(mv.Key)
	}
	if t := n.GetToken(); t != nil && t.Position != nil {
		return t.Position.Line
	}
	return 0
}

func keyName(k yamlast.MapKeyNode) string {
	switch n := unwrap(k).(type) {
	case *yamlast.StringNode:
		return n.Value
	case yamlast.Node:
		if t := n.GetToken(); t != nil {
			return t.Value
		}
	}
	return ""
}

// pointer is path as an RFC 6901 JSON pointer.
func pointer(path []string) string {
	var b strings.Builder
	for _, tok := range path {
		b.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(tok))
	}
	return b.String()
}

func splitPointer(p string) []string {
	if p == "" {
		return nil
	}
	toks := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, t := range toks {
		toks[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(t)
	}
	return toks
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// KeyPath is path, a path under data.shipgate.config, as a user reads
// it: freeze.calendar[0].start, and enforcement["change.size"] for a key
// that is not a plain name.
func KeyPath(path []string) string { return dottedKey(nil, path) }

// Admits reports whether the data schema s (in the type checker's form,
// schemas.DataSchema) lets the data have a value at path, a path under
// data.shipgate.config; when it does not, want lists the keys it allows
// where path leaves it.
func Admits(s map[string]any, path []string) (ok bool, want string) {
	for i, tok := range path {
		if t, _ := s["type"].(string); t != "" && t != "object" {
			return false, fmt.Sprintf("; %s is of type %s", dottedKey(nil, path[:i]), t)
		}
		if props, _ := s["properties"].(map[string]any); props[tok] != nil {
			s, _ = props[tok].(map[string]any)
			continue
		}
		switch ap := s["additionalProperties"].(type) {
		case map[string]any:
			s = ap
			continue
		case bool:
			if !ap {
				return false, allowedKeys(s)
			}
		}
		return true, "" // an open object: any key
	}
	return true, ""
}

// dottedKey is path as a user reads it: freeze.calendar[0].start, and
// enforcement["change.size"] for a key that is not a plain name.
func dottedKey(v any, path []string) string {
	var b strings.Builder
	for _, tok := range path {
		if _, err := strconv.Atoi(tok); err == nil && v == nil {
			b.WriteString("[" + tok + "]") // an index, in data not at hand
			continue
		}
		if arr, ok := v.([]any); ok {
			b.WriteString("[" + tok + "]")
			i, _ := strconv.Atoi(tok)
			if i >= 0 && i < len(arr) {
				v = arr[i]
			}
			continue
		}
		if identifier.MatchString(tok) {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tok)
		} else {
			b.WriteString("[" + strconv.Quote(tok) + "]")
		}
		m, _ := v.(map[string]any)
		v = m[tok]
	}
	return b.String()
}

// ownData reads the policy set's own data file from fsys: the first of
// DataPaths there, nil when there is none.
func ownData(fsys fs.FS) (*DataFile, error) {
	for _, name := range DataPaths {
		b, err := fs.ReadFile(fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read policy data: %w", err)
		}
		return &DataFile{Name: name, Raw: b}, nil
	}
	return nil, nil
}

// dataLayers are the files the data of a policy set comes from, in the
// order they apply: its own data file, unless data is given (replaced is
// true), then the given files; the first of those, if an overlay, applies
// over the set's own.
func dataLayers(own *DataFile, replaced bool, files []DataFile) []DataFile {
	if !replaced {
		if own == nil {
			return nil
		}
		return []DataFile{*own}
	}
	if own != nil && len(files) > 0 && files[0].Overlay {
		return append([]DataFile{*own}, files...)
	}
	return files
}

// Issue is a problem the engine finds in data that the schema accepts:
// what it reads beyond a value's shape. Set.Locate places it in the file
// that gave the value.
type Issue struct {
	// Path is the key's path in data.shipgate.config.
	Path []string
	// Message says what was expected.
	Message string
}

func (e *Issue) Error() string {
	return fmt.Sprintf("data shipgate.config.%s: %s", dottedKey(nil, e.Path), e.Message)
}

// Locate turns an *Issue in err, found in cfg (the set's Config), into a
// *DataError placed in its file; other errors are returned as they are.
func (s *Set) Locate(err error, cfg map[string]any) error {
	var di *Issue
	if !errors.As(err, &di) {
		return err
	}
	inst, jerr := jsonValue(cfg)
	if jerr != nil {
		return err
	}
	return dataError(inst, []located{{path: di.Path, keyword: "value", message: di.Message}}, s.layers)
}
