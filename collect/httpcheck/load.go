// Package httpcheck runs the smoke checks `shipgate verify` records: HTTP
// steps sharing a cookie jar, each judged by CEL assertions over the
// response, and error-rate comparisons against a baseline, read from a
// /metrics endpoint or a Prometheus query. A step can capture a value of
// its response (a cookie, a header, a JSON field) for later steps to send,
// and leave the jar out, so a check can replay a session after logout. A
// readiness probe, polled before anything runs, waits for the app to
// listen. A checks file is loaded once: strict YAML, every CEL expression
// compiled against its declared variables, every ${name} resolved; a
// Suite then runs any number of times.
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
	// DefaultReadyTimeout bounds the wait for the ready probe to pass.
	DefaultReadyTimeout = 30 * time.Second
	// DefaultReadyInterval is the pause between two ready probes.
	DefaultReadyInterval = 500 * time.Millisecond
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
	Ready      *fileReady        `yaml:"ready"`
	Steps      []fileStep        `yaml:"steps"`
	ErrorRates []fileRate        `yaml:"errorRates"`
}

type fileStep struct {
	Name            string                    `yaml:"name"`
	Check           string                    `yaml:"check"`
	Method          string                    `yaml:"method"`
	URL             celyaml.String            `yaml:"url"`
	Headers         map[string]celyaml.String `yaml:"headers"`
	Body            celyaml.Value             `yaml:"body"`
	Cookies         string                    `yaml:"cookies"`
	Timeout         time.Duration             `yaml:"timeout"`
	FollowRedirects bool                      `yaml:"followRedirects"`
	Assert          []celyaml.Expr            `yaml:"assert"`
	Capture         map[string]celyaml.Expr   `yaml:"capture"`
}

type fileReady struct {
	URL             celyaml.String            `yaml:"url"`
	Headers         map[string]celyaml.String `yaml:"headers"`
	FollowRedirects bool                      `yaml:"followRedirects"`
	Assert          []celyaml.Expr            `yaml:"assert"`
	Timeout         time.Duration             `yaml:"timeout"`
	Interval        time.Duration             `yaml:"interval"`
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
	ready *readyProbe
	steps []*step
	rates []*rate
	// capturedBy names the step that captures each value.
	capturedBy map[string]string
}

// Base is the base URL the steps are relative to: the target checked.
func (s *Suite) Base() string { return s.base }

type step struct {
	name, check     string
	method          string
	url             text
	headers         map[string]text
	body            *payload
	timeout         time.Duration
	followRedirects bool
	// noJar leaves the shared cookie jar out: the step sends only the
	// headers it states, and what its response sets is not kept.
	noJar    bool
	asserts  []*program
	captures []capture
}

// capture is one value a step keeps from its response for later steps.
type capture struct {
	name string
	expr *program
}

// readyProbe is the request polled until the app answers as expected.
type readyProbe struct {
	url               string
	headers           map[string]string
	followRedirects   bool
	asserts           []*program
	timeout, interval time.Duration
	// request bounds one probe.
	request time.Duration
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
	// captures maps each captured name to the index of its step.
	captures map[string]int
	steps    []fileStep
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
	l.steps = f.Steps
	l.captures = map[string]int{}
	s.capturedBy = map[string]string{}
	for i := range f.Steps {
		l.declareCaptures(i, &f.Steps[i])
	}
	if f.Ready != nil {
		s.ready = l.ready(f.Ready, f.Timeout, s.base)
	}
	for i := range f.Steps {
		if st := l.step(i, &f.Steps[i], f.Timeout, s.base); st != nil {
			s.steps = append(s.steps, st)
			for _, c := range st.captures {
				s.capturedBy[c.name] = st.name
			}
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

var (
	varRef      = regexp.MustCompile(`\$\{([^}]*)\}`)
	captureName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// stepWhere names step i in a problem.
func stepWhere(i int, fs *fileStep) string {
	if fs.Name != "" {
		return fmt.Sprintf("steps[%d] %q", i, fs.Name)
	}
	return fmt.Sprintf("steps[%d]", i)
}

// declareCaptures checks the names step i captures: identifiers, not a
// var's name, each captured by one step only.
func (l *loader) declareCaptures(i int, fs *fileStep) {
	for _, name := range slices.Sorted(maps.Keys(fs.Capture)) {
		e := fs.Capture[name]
		where := stepWhere(i, fs) + " capture." + name
		switch prev, dup := l.captures[name]; {
		case !captureName.MatchString(name):
			l.le.ErrorAt(e.Line, e.Column, where, "want a name of letters, digits and _, not starting with a digit")
		case dup:
			l.le.ErrorAt(e.Line, e.Column, where, "already captured by %s: capture each name once", stepWhere(prev, &l.steps[prev]))
		default:
			if _, ok := l.vars[name]; ok {
				l.le.ErrorAt(e.Line, e.Column, where, "a var has this name: ${%s} would mean either", name)
			}
			l.captures[name] = i
		}
	}
}

// template resolves every ${name} in s, found at where (line:col in the
// file): a var's value now, a value captured by a step before step (-1:
// none) when the step runs. Any other name is a problem.
func (l *loader) template(where string, line, col int, s string, step int) text {
	var t text
	lit := func(x string) {
		if n := len(t.parts); n > 0 && t.parts[n-1].capture == "" {
			t.parts[n-1].lit += x
			return
		}
		t.parts = append(t.parts, textPart{lit: x})
	}
	pos := 0
	for _, m := range varRef.FindAllStringSubmatchIndex(s, -1) {
		lit(s[pos:m[0]])
		pos = m[1]
		name := s[m[2]:m[3]]
		if v, ok := l.vars[name]; ok {
			lit(v)
			continue
		}
		by, captured := l.captures[name]
		switch {
		case captured && by < step:
			t.parts = append(t.parts, textPart{capture: name})
			continue
		case captured && step < 0:
			l.le.ErrorAt(line, col, where, "${%s} is a captured value: only steps after %s can send it", name, stepWhere(by, &l.steps[by]))
		case captured && by == step:
			l.le.ErrorAt(line, col, where, "${%s} is used before it is captured: this step captures it from its own response", name)
		case captured:
			l.le.ErrorAt(line, col, where, "${%s} is used before it is captured: %s, later, captures it", name, stepWhere(by, &l.steps[by]))
		default:
			known := "vars: " + strings.Join(sortedKeys(l.vars), ", ")
			if len(l.captures) > 0 {
				known += "; captured: " + strings.Join(slices.Sorted(maps.Keys(l.captures)), ", ")
			}
			l.le.ErrorAt(line, col, where, "unknown var ${%s} (%s)", name, known)
		}
	}
	lit(s[pos:])
	return t
}

// expand is template for a place where only vars can be used.
func (l *loader) expand(where, s string) string {
	return l.template(where, 0, 0, s, -1).String()
}

// tree resolves every string in a body mapping or list.
func (l *loader) tree(where string, line, col int, v any, step int) any {
	switch t := v.(type) {
	case string:
		return l.template(where, line, col, t, step)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = l.tree(where, line, col, e, step)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = l.tree(where, line, col, e, step)
		}
		return out
	}
	return v
}

// shownTree is a resolved body for a check at load: captures as ${name}.
func shownTree(v any) any {
	switch t := v.(type) {
	case text:
		return t.String()
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = shownTree(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = shownTree(e)
		}
		return out
	}
	return v
}

var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

func (l *loader) step(i int, fs *fileStep, timeout time.Duration, base string) *step {
	where := stepWhere(i, fs)
	st := &step{name: fs.Name, check: fs.Check, method: strings.ToUpper(fs.Method), timeout: fs.Timeout,
		followRedirects: fs.FollowRedirects, headers: map[string]text{}}
	if st.name == "" {
		st.name = strings.TrimSpace(strings.ToUpper(fs.Method) + " " + fs.URL.Text)
		if fs.Method == "" {
			st.name = "GET " + fs.URL.Text
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
	if fs.URL.Text == "" {
		l.le.Errorf(where, "no url")
	}
	st.url = joinText(base, l.template(where+" url", fs.URL.Line, fs.URL.Column, fs.URL.Text, i))
	if _, err := url.Parse(st.url.String()); err != nil {
		l.le.ErrorAt(fs.URL.Line, fs.URL.Column, where+" url", "%v", err)
	}
	switch fs.Cookies {
	case "", "jar":
	case "none":
		st.noJar = true
	default:
		l.le.Errorf(where+" cookies", "%q: want jar (the default: the run's cookie jar) or none (only the headers stated)", fs.Cookies)
	}
	if st.timeout < 0 {
		l.le.Errorf(where+" timeout", "must not be negative")
	}
	if st.timeout <= 0 {
		st.timeout = timeout
	}
	for k, v := range fs.Headers {
		st.headers[k] = l.template(where+" headers."+k, v.Line, v.Column, v.Text, i)
	}
	b := fs.Body
	switch v := l.tree(where+" body", b.Line, b.Column, b.V, i).(type) {
	case nil:
	case text:
		st.body = &payload{raw: &v}
	case map[string]any, []any:
		if _, err := json.Marshal(shownTree(v)); err != nil {
			l.le.ErrorAt(b.Line, b.Column, where+" body", "%v", err)
		}
		st.body = &payload{tree: v}
		if !hasHeader(st.headers, "Content-Type") {
			st.headers["Content-Type"] = literal("application/json")
		}
	default:
		l.le.ErrorAt(b.Line, b.Column, where+" body", "want a string, or a mapping or list sent as JSON")
	}
	if len(fs.Assert) == 0 {
		l.le.Errorf(where, "no assert: a step without assertions proves nothing")
	}
	for j, e := range fs.Assert {
		if p := l.compile(l.stepEnv, fmt.Sprintf("%s assert[%d]", where, j), e, wantBool); p != nil {
			st.asserts = append(st.asserts, p)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(fs.Capture)) {
		if p := l.compile(l.stepEnv, fmt.Sprintf("%s capture.%s", where, name), fs.Capture[name], wantString); p != nil {
			st.captures = append(st.captures, capture{name: name, expr: p})
		}
	}
	return st
}

// ready loads the readiness probe: a GET polled until its assertions hold
// (status == 200 when it has none).
func (l *loader) ready(fr *fileReady, timeout time.Duration, base string) *readyProbe {
	const where = "ready"
	r := &readyProbe{followRedirects: fr.FollowRedirects, timeout: fr.Timeout, interval: fr.Interval,
		request: timeout, headers: map[string]string{}}
	u := fr.URL.Text
	if u == "" {
		u = "/"
	}
	r.url = join(base, l.template(where+" url", fr.URL.Line, fr.URL.Column, u, -1).String())
	if _, err := url.Parse(r.url); err != nil {
		l.le.ErrorAt(fr.URL.Line, fr.URL.Column, where+" url", "%v", err)
	}
	for k, v := range fr.Headers {
		r.headers[k] = l.template(where+" headers."+k, v.Line, v.Column, v.Text, -1).String()
	}
	if r.timeout < 0 {
		l.le.Errorf(where+" timeout", "must not be negative")
	}
	if r.timeout == 0 {
		r.timeout = DefaultReadyTimeout
	}
	if r.interval < 0 {
		l.le.Errorf(where+" interval", "must not be negative")
	}
	if r.interval == 0 {
		r.interval = DefaultReadyInterval
	}
	r.request = min(r.request, r.timeout)
	asserts := fr.Assert
	if len(asserts) == 0 {
		asserts = []celyaml.Expr{{Text: "status == 200"}}
	}
	for j, e := range asserts {
		if p := l.compile(l.stepEnv, fmt.Sprintf("%s assert[%d]", where, j), e, wantBool); p != nil {
			r.asserts = append(r.asserts, p)
		}
	}
	return r
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
	r.condition = l.compile(l.rateEnv, where+" condition", fr.Condition, wantBool)
	return r
}

// joinText is join for a step's url: vars are in it already; a captured
// value goes after the base.
func joinText(base string, t text) text {
	s := t.String()
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return t
	}
	prefix := base
	if !strings.HasPrefix(s, "/") {
		prefix += "/"
	}
	return text{parts: append([]textPart{{lit: prefix}}, t.parts...)}
}

func hasHeader[V any](h map[string]V, name string) bool {
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

// What an assertion or condition and a capture evaluate to; dyn is
// checked when it runs.
var (
	wantBool   = celyaml.Want{Types: []*cel.Type{cel.BoolType, cel.DynType}, Name: "a bool"}
	wantString = celyaml.Want{Types: []*cel.Type{cel.StringType, cel.DynType}, Name: "a string"}
)

// compile checks e against env: it must compile and be of the type want.
func (l *loader) compile(env *cel.Env, where string, e celyaml.Expr, want celyaml.Want) *program {
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
