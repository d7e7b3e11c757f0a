// Package httpcheck runs the smoke checks `shipgate verify` records: HTTP
// steps sharing a cookie jar, each judged by CEL assertions over the
// response, and error-rate comparisons against a baseline, read from a
// /metrics endpoint or a Prometheus query. A checks file is loaded once:
// strict YAML, every CEL expression compiled against its declared
// variables; a Suite then runs any number of times.
//
// A check passes only when every assertion of every step that names it is
// true. A request that fails, an assertion that cannot be evaluated and an
// error rate without data all fail their check: nothing passes by default.
package httpcheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/ext"

	"github.com/localizevideos/shipgate/collect/prom"
	"github.com/localizevideos/shipgate/internal/celyaml"
)

// Defaults of a checks file.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultInterval = 30 * time.Second
	// CostLimit bounds the evaluation cost of one CEL expression.
	CostLimit = 1_000_000
	// MaxBodyBytes bounds the response body the assertions see.
	MaxBodyBytes = 1 << 20
)

// file is the checks file as written.
type file struct {
	Base       string            `yaml:"base"`
	Timeout    time.Duration     `yaml:"timeout"`
	Vars       map[string]string `yaml:"vars"`
	Steps      []fileStep        `yaml:"steps"`
	ErrorRates []fileRate        `yaml:"errorRates"`
}

type fileStep struct {
	Name            string            `yaml:"name"`
	Check           string            `yaml:"check"`
	Method          string            `yaml:"method"`
	URL             string            `yaml:"url"`
	Headers         map[string]string `yaml:"headers"`
	Body            any               `yaml:"body"`
	Timeout         time.Duration     `yaml:"timeout"`
	FollowRedirects bool              `yaml:"followRedirects"`
	Assert          []celyaml.Expr    `yaml:"assert"`
}

type fileRate struct {
	Check         string        `yaml:"check"`
	Metrics       *fileMetrics  `yaml:"metrics"`
	Prometheus    *filePromQL   `yaml:"prometheus"`
	Baseline      *float64      `yaml:"baseline"`
	BaselineQuery string        `yaml:"baselineQuery"`
	Condition     celyaml.Expr  `yaml:"condition"`
	Timeout       time.Duration `yaml:"timeout"`
}

type fileMetrics struct {
	URL      string        `yaml:"url"`
	Counter  string        `yaml:"counter"`
	Label    string        `yaml:"label"`
	Errors   string        `yaml:"errors"`
	Interval time.Duration `yaml:"interval"`
}

type filePromQL struct {
	URL   string `yaml:"url"`
	Query string `yaml:"query"`
}

// Options complete a checks file from the command line.
type Options struct {
	// Base replaces the file's base URL.
	Base string
	// Vars add to and override the file's vars.
	Vars map[string]string
}

// Problem is one thing wrong in a checks file; its Where names the step
// or error rate, and the field.
type Problem = celyaml.Problem

// LoadError lists everything wrong in a checks file.
type LoadError = celyaml.LoadError

// Suite is a loaded checks file, ready to run.
type Suite struct {
	base  string
	vars  map[string]string
	steps []*step
	rates []*rate
}

// Base is the base URL the steps are relative to: the target checked.
func (s *Suite) Base() string { return s.base }

type step struct {
	name, check     string
	method, url     string
	headers         map[string]string
	body            []byte
	timeout         time.Duration
	followRedirects bool
	asserts         []*program
}

type rate struct {
	check     string
	metrics   *metricsSource
	promURL   string
	query     string
	baseline  *float64
	baseQuery string
	condition *program
	timeout   time.Duration
}

type metricsSource struct {
	url      string
	counter  prom.Counter
	interval time.Duration
}

// Load parses and compiles the checks file b, read from path.
func Load(path string, b []byte, o Options) (*Suite, error) {
	var f file
	if err := celyaml.Decode(path, b, &f); err != nil {
		return nil, err
	}
	l := &loader{le: &LoadError{File: path}}
	s := l.suite(&f, o)
	if len(l.le.Problems) > 0 {
		return nil, l.le
	}
	return s, nil
}

type loader struct {
	le      *LoadError
	vars    map[string]string
	stepEnv *cel.Env
	rateEnv *cel.Env
}

func (l *loader) suite(f *file, o Options) *Suite {
	l.vars = map[string]string{}
	for k, v := range f.Vars {
		l.vars[k] = v
	}
	for k, v := range o.Vars {
		l.vars[k] = v
	}
	s := &Suite{base: strings.TrimRight(f.Base, "/"), vars: l.vars}
	if o.Base != "" {
		s.base = strings.TrimRight(o.Base, "/")
	}
	if err := checkBase(s.base); err != nil {
		l.le.Errorf("base", "%v", err)
	}
	if f.Timeout < 0 {
		l.le.Errorf("timeout", "must not be negative")
	}
	if f.Timeout <= 0 {
		f.Timeout = DefaultTimeout
	}
	if len(f.Steps) == 0 && len(f.ErrorRates) == 0 {
		l.le.Errorf("", "no steps and no errorRates: nothing to check")
	}
	var err error
	if l.stepEnv, err = stepEnv(); err != nil {
		l.le.Errorf("", "CEL environment: %v", err)
		return s
	}
	if l.rateEnv, err = rateEnv(); err != nil {
		l.le.Errorf("", "CEL environment: %v", err)
		return s
	}
	for i := range f.Steps {
		if st := l.step(i, &f.Steps[i], f.Timeout, s.base); st != nil {
			s.steps = append(s.steps, st)
		}
	}
	for i := range f.ErrorRates {
		if r := l.rate(i, &f.ErrorRates[i], f.Timeout, s.base); r != nil {
			s.rates = append(s.rates, r)
		}
	}
	return s
}

func checkBase(base string) error {
	if base == "" {
		return errors.New("no base URL: set base in the file or give --base")
	}
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want an http or https URL with a host", base)
	}
	return nil
}

// join resolves u against base: an absolute URL stays as it is, a path is
// appended to the base (its path included).
func join(base, u string) string {
	if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		return u
	}
	if !strings.HasPrefix(u, "/") {
		u = "/" + u
	}
	return base + u
}

var varRef = regexp.MustCompile(`\$\{([^}]*)\}`)

// expand replaces ${name} with the var's value; an unknown name is a
// problem.
func (l *loader) expand(where, s string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := l.vars[name]
		if !ok {
			l.le.Errorf(where, "unknown var ${%s} (vars: %s)", name, strings.Join(sortedKeys(l.vars), ", "))
		}
		return v
	})
}

func (l *loader) expandAny(where string, v any) any {
	switch t := v.(type) {
	case string:
		return l.expand(where, t)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = l.expandAny(where, e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = l.expandAny(where, e)
		}
		return out
	}
	return v
}

var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

func (l *loader) step(i int, fs *fileStep, timeout time.Duration, base string) *step {
	where := fmt.Sprintf("steps[%d]", i)
	if fs.Name != "" {
		where = fmt.Sprintf("steps[%d] %q", i, fs.Name)
	}
	st := &step{name: fs.Name, check: fs.Check, method: strings.ToUpper(fs.Method), timeout: fs.Timeout,
		followRedirects: fs.FollowRedirects, headers: map[string]string{}}
	if st.name == "" {
		st.name = strings.TrimSpace(strings.ToUpper(fs.Method) + " " + fs.URL)
		if fs.Method == "" {
			st.name = "GET " + fs.URL
		}
	}
	if st.check == "" {
		l.le.Errorf(where, "no check: name the check this step belongs to (home, login, logout, api-me, ...)")
	}
	if st.method == "" {
		st.method = "GET"
	}
	if !slices.Contains(methods, st.method) {
		l.le.Errorf(where+" method", "%q: want one of %s", fs.Method, strings.Join(methods, ", "))
	}
	if fs.URL == "" {
		l.le.Errorf(where, "no url")
	}
	st.url = join(base, l.expand(where+" url", fs.URL))
	if _, err := url.Parse(st.url); err != nil {
		l.le.Errorf(where+" url", "%v", err)
	}
	if st.timeout < 0 {
		l.le.Errorf(where+" timeout", "must not be negative")
	}
	if st.timeout <= 0 {
		st.timeout = timeout
	}
	for k, v := range fs.Headers {
		st.headers[k] = l.expand(where+" headers."+k, v)
	}
	switch b := l.expandAny(where+" body", fs.Body).(type) {
	case nil:
	case string:
		st.body = []byte(b)
	case map[string]any, []any:
		j, err := json.Marshal(b)
		if err != nil {
			l.le.Errorf(where+" body", "%v", err)
		}
		st.body = j
		if !hasHeader(st.headers, "Content-Type") {
			st.headers["Content-Type"] = "application/json"
		}
	default:
		l.le.Errorf(where+" body", "want a string, or a mapping or list sent as JSON")
	}
	if len(fs.Assert) == 0 {
		l.le.Errorf(where, "no assert: a step without assertions proves nothing")
	}
	for j, e := range fs.Assert {
		if p := l.compile(l.stepEnv, fmt.Sprintf("%s assert[%d]", where, j), e); p != nil {
			st.asserts = append(st.asserts, p)
		}
	}
	return st
}

func (l *loader) rate(i int, fr *fileRate, timeout time.Duration, base string) *rate {
	r := &rate{check: fr.Check, baseline: fr.Baseline, timeout: fr.Timeout}
	if r.check == "" {
		r.check = "error-spike"
	}
	where := fmt.Sprintf("errorRates[%d] (check %s)", i, r.check)
	if r.timeout <= 0 {
		r.timeout = timeout
	}
	switch {
	case fr.Metrics == nil && fr.Prometheus == nil:
		l.le.Errorf(where, "give metrics (a /metrics endpoint) or prometheus (a query)")
	case fr.Metrics != nil && fr.Prometheus != nil:
		l.le.Errorf(where, "give metrics or prometheus, not both")
	case fr.Metrics != nil:
		m := fr.Metrics
		ms := &metricsSource{url: join(base, l.expand(where+" metrics.url", m.URL)), interval: m.Interval,
			counter: prom.Counter{Name: m.Counter, Label: m.Label}}
		if m.URL == "" {
			ms.url = join(base, "/metrics")
		}
		if ms.counter.Name == "" {
			ms.counter.Name = "http_requests_total"
		}
		if ms.counter.Label == "" {
			ms.counter.Label = "code"
		}
		pattern := m.Errors
		if pattern == "" {
			pattern = "5.."
		}
		re, err := regexp.Compile("^(?:" + pattern + ")$")
		if err != nil {
			l.le.Errorf(where+" metrics.errors", "%v", err)
		}
		ms.counter.Errors = re
		if ms.interval < 0 {
			l.le.Errorf(where+" metrics.interval", "must not be negative")
		}
		if ms.interval <= 0 {
			ms.interval = DefaultInterval
		}
		if fr.BaselineQuery != "" {
			l.le.Errorf(where+" baselineQuery", "only with prometheus; with metrics give baseline, or none to use the ratio at the first scrape")
		}
		r.metrics = ms
	default:
		p := fr.Prometheus
		r.promURL = p.URL
		r.query = l.expand(where+" prometheus.query", p.Query)
		r.baseQuery = l.expand(where+" baselineQuery", fr.BaselineQuery)
		if err := checkBase(p.URL); err != nil {
			l.le.Errorf(where+" prometheus.url", "%v", err)
		}
		if p.Query == "" {
			l.le.Errorf(where+" prometheus.query", "no query")
		}
		if (fr.Baseline == nil) == (fr.BaselineQuery == "") {
			l.le.Errorf(where, "give baseline (a value) or baselineQuery, one of them")
		}
	}
	if fr.Condition.Text == "" {
		l.le.Errorf(where, "no condition: e.g. observed <= baseline * 1.5 + 0.01")
		return r
	}
	r.condition = l.compile(l.rateEnv, where+" condition", fr.Condition)
	return r
}

func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// stepEnv declares what an assertion sees of a response.
func stepEnv() (*cel.Env, error) {
	return cel.NewEnv(ext.Strings(),
		cel.Variable("status", cel.IntType),
		cel.Variable("headers", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("cookies", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("json", cel.DynType),
		cel.Variable("body", cel.StringType),
		cel.Variable("duration_ms", cel.DoubleType),
		cel.Variable("vars", cel.MapType(cel.StringType, cel.StringType)),
	)
}

// rateEnv declares what an error-rate condition sees.
func rateEnv() (*cel.Env, error) {
	return cel.NewEnv(ext.Strings(),
		cel.Variable("observed", cel.DoubleType),
		cel.Variable("baseline", cel.DoubleType),
		cel.Variable("vars", cel.MapType(cel.StringType, cel.StringType)),
	)
}

// program is one compiled assertion or condition.
type program struct {
	text string
	ast  *cel.Ast
	prg  cel.Program
	// traced records every subexpression's value, to say what a false
	// assertion observed. It runs only after prg finished within the cost
	// limit on the same input (cel-go v0.31 stops counting the cost when
	// state tracking is on, so the two cannot be one program).
	traced cel.Program
}

// compile checks e against env: it must compile and be a bool (or dyn,
// checked when it runs).
func (l *loader) compile(env *cel.Env, where string, e celyaml.Expr) *program {
	want := celyaml.Want{Types: []*cel.Type{cel.BoolType, cel.DynType}, Name: "a bool"}
	a, prg := l.le.Compile(env, where, e, want, cel.CostLimit(CostLimit), cel.InterruptCheckFrequency(100))
	if a == nil {
		return nil
	}
	traced := l.le.Plan(env, where, e, a, cel.InterruptCheckFrequency(100), cel.EvalOptions(cel.OptTrackState))
	if traced == nil {
		return nil
	}
	return &program{text: e.Text, ast: a, prg: prg, traced: traced}
}
