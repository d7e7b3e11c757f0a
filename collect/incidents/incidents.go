// Package incidents reads an incident list, from a status-page-like HTTP
// API or a file, and maps it to the incidents of an IncidentStatus evidence
// document with CEL expressions written in a mapping file.
//
// A mapping file is YAML (strict: unknown keys are errors):
//
//	items: json.incidents            # CEL over json (the response) and vars: a list
//	where: item.service == vars.service   # optional: which items count
//	fields:                          # CEL over item and vars, each a string
//	  id: item.id
//	  severity: '"SEV-" + string(item.sev)'
//	  status: 'item.resolved_at == null ? "open" : "resolved"'
//	  title: item.name               # optional, like openedAt and resolvedAt
//	  openedAt: item.created_at
//	vars:
//	  service: localizevideos-app
//
// Every expression is compiled when the file is loaded, and an error names
// the file, line and column and the position inside the expression. Nothing
// is ever read as "no incidents" by default: an unreachable source, a
// non-2xx answer, a body that is not JSON, an expression that fails, and a
// field that is missing or not one of the values IncidentStatus allows are
// all errors.
package incidents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"

	"github.com/localizevideos/shipgate/internal/celyaml"
)

// Limits of a collection.
const (
	// CostLimit bounds the evaluation cost of one CEL expression.
	CostLimit = 1_000_000
	// MaxBytes bounds the incident list read from a source.
	MaxBytes = 10 << 20
	// DefaultTimeout bounds reading an HTTP source.
	DefaultTimeout = 10 * time.Second
)

// Severities and Statuses are the values IncidentStatus allows.
var (
	Severities = []string{"SEV-1", "SEV-2", "SEV-3", "SEV-4"}
	Statuses   = []string{"open", "mitigated", "resolved"}
)

// Incident is one incident of IncidentStatus data.incidents.
type Incident struct {
	ID         string `json:"id"`
	Severity   string `json:"severity"`
	Status     string `json:"status"`
	Title      string `json:"title,omitempty"`
	OpenedAt   string `json:"openedAt,omitempty"`
	ResolvedAt string `json:"resolvedAt,omitempty"`
}

// field names, in the order they are reported.
var (
	required = []string{"id", "severity", "status"}
	optional = []string{"title", "openedAt", "resolvedAt"}
)

// file is the mapping file as written.
type file struct {
	Items  celyaml.Expr            `yaml:"items"`
	Where  *celyaml.Expr           `yaml:"where"`
	Fields map[string]celyaml.Expr `yaml:"fields"`
	Vars   map[string]string       `yaml:"vars"`
}

// Problem is one thing wrong in a mapping file; its Where names the key:
// items, where, fields.<name>.
type Problem = celyaml.Problem

// LoadError lists everything wrong in a mapping file.
type LoadError = celyaml.LoadError

// Mapping is a loaded mapping file, ready to apply to any number of lists.
type Mapping struct {
	file   string
	items  *program
	where  *program
	fields map[string]*program
	vars   map[string]string
}

type program struct {
	where string // "fields.severity", for errors
	text  string
	line  int
	col   int
	prg   cel.Program
}

// Load parses and compiles the mapping file b, read from path.
func Load(path string, b []byte) (*Mapping, error) {
	var f file
	if err := celyaml.DecodeTerse(path, b, &f); err != nil {
		return nil, err
	}
	le := &LoadError{File: path}
	m := &Mapping{file: path, fields: map[string]*program{}, vars: f.Vars}
	if m.vars == nil {
		m.vars = map[string]string{}
	}
	env, err := cel.NewEnv(ext.Strings(),
		cel.Variable("json", cel.DynType),
		cel.Variable("item", cel.DynType),
		cel.Variable("vars", cel.MapType(cel.StringType, cel.StringType)),
	)
	if err != nil {
		return nil, fmt.Errorf("%s: CEL environment: %w", path, err)
	}
	compile := func(where string, e celyaml.Expr) *program {
		a, prg := le.Compile(env, where, e, celyaml.Want{}, cel.CostLimit(CostLimit), cel.InterruptCheckFrequency(100))
		if a == nil {
			return nil
		}
		return &program{where: where, text: e.Text, line: e.Line, col: e.Column, prg: prg}
	}
	if f.Items.Text == "" && f.Items.Line == 0 {
		le.Errorf("items", "missing: a CEL expression over json giving the list of incidents, e.g. json.incidents")
	} else {
		m.items = compile("items", f.Items)
	}
	if f.Where != nil {
		m.where = compile("where", *f.Where)
	}
	for _, name := range required {
		if _, ok := f.Fields[name]; !ok {
			le.Errorf("fields."+name, "missing: id, severity and status are required")
		}
	}
	names := make([]string, 0, len(f.Fields))
	for name := range f.Fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		e := f.Fields[name]
		if !slices.Contains(required, name) && !slices.Contains(optional, name) {
			le.Problems = append(le.Problems, Problem{Line: e.Line, Column: e.Column, Where: "fields." + name,
				Message: fmt.Sprintf("unknown field (want %s)", strings.Join(append(slices.Clone(required), optional...), ", "))})
			continue
		}
		if p := compile("fields."+name, e); p != nil {
			m.fields[name] = p
		}
	}
	if len(le.Problems) > 0 {
		return nil, le
	}
	return m, nil
}

// MappingError is a mapping that could not be applied to a list: an
// expression that failed or a field it produced that IncidentStatus does
// not allow.
type MappingError struct {
	File string
	// Item is the index of the item in the list items produced; -1 for the
	// items expression itself.
	Item int
	// ID is the item's id, when the id field could be mapped.
	ID string
	// Where, Line, Column and Expr name the expression.
	Where        string
	Line, Column int
	Expr         string
	Message      string
}

func (e *MappingError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: %s %q: ", e.File, e.Line, e.Column, e.Where, e.Expr)
	if e.Item >= 0 {
		fmt.Fprintf(&b, "item %d", e.Item)
		if e.ID != "" {
			fmt.Fprintf(&b, " (id %s)", e.ID)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

func (m *Mapping) fail(p *program, item int, id, format string, args ...any) error {
	return &MappingError{File: m.file, Item: item, ID: id, Where: p.where, Line: p.line, Column: p.col, Expr: p.text,
		Message: fmt.Sprintf(format, args...)}
}

// Apply maps the JSON incident list body to incidents.
func (m *Mapping) Apply(ctx context.Context, body []byte) ([]Incident, error) {
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("the incident list is not JSON: %w", err)
	}
	out, _, err := m.items.prg.ContextEval(ctx, map[string]any{"json": doc, "item": nil, "vars": m.vars})
	if err != nil {
		return nil, m.fail(m.items, -1, "", "%v", err)
	}
	list, ok := out.(traits.Lister)
	if !ok {
		return nil, m.fail(m.items, -1, "", "gave a %s, want a list of incidents", out.Type().TypeName())
	}
	n, ok := list.Size().(types.Int)
	if !ok {
		return nil, m.fail(m.items, -1, "", "gave a list of unknown size")
	}
	incidents := []Incident{}
	for i := range int(n) {
		item := list.Get(types.Int(i))
		act := map[string]any{"json": doc, "item": item, "vars": m.vars}
		if m.where != nil {
			keep, _, err := m.where.prg.ContextEval(ctx, act)
			if err != nil {
				return nil, m.fail(m.where, i, "", "%v", err)
			}
			b, ok := keep.(types.Bool)
			if !ok {
				return nil, m.fail(m.where, i, "", "gave a %s, want a bool", keep.Type().TypeName())
			}
			if !b {
				continue
			}
		}
		inc, err := m.incident(ctx, i, act)
		if err != nil {
			return nil, err
		}
		incidents = append(incidents, inc)
	}
	return incidents, nil
}

// incident maps one item; each field must be a string, and a required one
// non-empty; an optional one may be null or "" to leave it out.
func (m *Mapping) incident(ctx context.Context, i int, act map[string]any) (Incident, error) {
	vals := map[string]string{}
	id := ""
	for _, name := range append(slices.Clone(required), optional...) {
		p, ok := m.fields[name]
		if !ok {
			continue
		}
		v, _, err := p.prg.ContextEval(ctx, act)
		if err != nil {
			return Incident{}, m.fail(p, i, id, "%v", err)
		}
		s, err := str(v)
		if err != nil {
			return Incident{}, m.fail(p, i, id, "%v", err)
		}
		if s == "" && slices.Contains(required, name) {
			return Incident{}, m.fail(p, i, id, "%s is empty or null; it is required", name)
		}
		if name == "id" {
			id = s
		}
		vals[name] = s
	}
	inc := Incident{ID: vals["id"], Severity: vals["severity"], Status: vals["status"], Title: vals["title"],
		OpenedAt: vals["openedAt"], ResolvedAt: vals["resolvedAt"]}
	switch {
	case !slices.Contains(Severities, inc.Severity):
		return Incident{}, m.fail(m.fields["severity"], i, id, "severity %q is not one of %s", inc.Severity, strings.Join(Severities, ", "))
	case !slices.Contains(Statuses, inc.Status):
		return Incident{}, m.fail(m.fields["status"], i, id, "status %q is not one of %s", inc.Status, strings.Join(Statuses, ", "))
	}
	for _, f := range []struct{ name, v string }{{"openedAt", inc.OpenedAt}, {"resolvedAt", inc.ResolvedAt}} {
		if f.v == "" {
			continue
		}
		if _, err := time.Parse(time.RFC3339, f.v); err != nil {
			return Incident{}, m.fail(m.fields[f.name], i, id, "%s %q is not an RFC 3339 date-time with a zone", f.name, f.v)
		}
	}
	return inc, nil
}

// str reads a field's value: a string, or null as "".
func str(v ref.Val) (string, error) {
	switch t := v.(type) {
	case types.String:
		return string(t), nil
	case types.Null:
		return "", nil
	}
	return "", fmt.Errorf("gave a %s, want a string", v.Type().TypeName())
}

// Fetch reads the incident list from src: an http:// or https:// URL (GET,
// with client; a non-2xx status is an error) or a file path. It reads at
// most MaxBytes; a longer list is an error, not a truncated one.
func Fetch(ctx context.Context, client *http.Client, src string) ([]byte, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		f, err := os.Open(src)
		if err != nil {
			return nil, fmt.Errorf("read incidents: %w", err)
		}
		defer f.Close()
		return readAll(f, src)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, fmt.Errorf("incidents source %s: %w", src, err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("incidents source unreachable: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		snippet, _ := io.ReadAll(io.LimitReader(res.Body, 200))
		return nil, fmt.Errorf("incidents source %s answered %s: %q", src, res.Status, strings.TrimSpace(string(snippet)))
	}
	return readAll(res.Body, src)
}

var errTooLarge = errors.New("the incident list is larger than the limit")

func readAll(r io.Reader, src string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read incidents from %s: %w", src, err)
	}
	if len(b) > MaxBytes {
		return nil, fmt.Errorf("%s: %w of %d bytes", src, errTooLarge, MaxBytes)
	}
	return b, nil
}
