// Package signals reads a release's safety signals: what `shipgate watch`
// samples during the first minutes after a deploy. A signals file (YAML) names
// each signal, where its value comes from (a PromQL query against a
// Prometheus server, a metric read from an app's /metrics endpoint, or pm2's
// own cpu/memory readings), a CEL condition over observed, baseline and the
// window that decides a breach, and the least traffic below which a reading
// says nothing.
//
// A file is loaded once: strict YAML, every field checked and every CEL
// expression compiled, with every problem reported at once with its line and
// column. A reading that cannot be taken (an unreachable server, NaN, an
// empty result, too little traffic, a counter reset) wraps prom.ErrNoData:
// no data is never a healthy zero.
package signals

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/ext"

	"github.com/localizevideos/shipgate/internal/celyaml"
)

// CostLimit bounds the evaluation cost of one CEL condition.
const CostLimit = 100_000

// DefaultTimeout bounds one reading when the file sets none.
const DefaultTimeout = 10 * time.Second

// file is the signals file as written.
type file struct {
	Prometheus string      `yaml:"prometheus"`
	Metrics    string      `yaml:"metrics"`
	PM2        *filePM2    `yaml:"pm2"`
	Alerts     *fileAlerts `yaml:"alerts"`
	Timeout    duration    `yaml:"timeout"`
	// NoDataAfter is the default of the signals' noDataAfter.
	NoDataAfter duration     `yaml:"noDataAfter"`
	Signals     []fileSignal `yaml:"signals"`
}

type filePM2 struct {
	App  string `yaml:"app"`
	Bin  string `yaml:"bin"`
	Home string `yaml:"home"`
}

type fileAlerts struct {
	Webhook string `yaml:"webhook"`
}

type fileSignal struct {
	Name          string       `yaml:"name"`
	Prometheus    *filePromQL  `yaml:"prometheus"`
	Metrics       *fileMetrics `yaml:"metrics"`
	PM2           *fileSigPM2  `yaml:"pm2"`
	Baseline      *float64     `yaml:"baseline"`
	BaselineQuery string       `yaml:"baselineQuery"`
	Breach        celyaml.Expr `yaml:"breach"`
	MinCount      float64      `yaml:"minCount"`
	MinSamples    whole        `yaml:"minSamples"`
	// BreachAfter is how many readings in a row must breach (a nil value
	// is 1), like the for of a Prometheus alerting rule.
	BreachAfter *whole `yaml:"breachAfter"`
	// NoDataAfter is how long the signal may go without data before it is
	// alerted while the watch runs.
	NoDataAfter duration `yaml:"noDataAfter"`
	Unit        string   `yaml:"unit"`
}

type filePromQL struct {
	URL   string `yaml:"url"`
	Query string `yaml:"query"`
	// Count is a query of the traffic behind the value (requests in the
	// rate's range), compared with minCount.
	Count string `yaml:"count"`
}

type fileMetrics struct {
	URL      string            `yaml:"url"`
	Type     string            `yaml:"type"`
	Metric   string            `yaml:"metric"`
	Match    map[string]string `yaml:"match"`
	Total    map[string]string `yaml:"total"`
	Quantile float64           `yaml:"quantile"`
}

type fileSigPM2 struct {
	Field string `yaml:"field"`
	App   string `yaml:"app"`
}

// Problem is one thing wrong in a signals file; its Where names the signal
// and field, e.g. signals[0] "error_rate" breach.
type Problem = celyaml.Problem

// LoadError lists everything wrong in a signals (or SLO) file.
type LoadError = celyaml.LoadError

// Set is a loaded signals file.
type Set struct {
	// Signals in file order.
	Signals []*Signal
	// Webhook is where alerts go ("" when the file names none).
	Webhook string
	// Timeout bounds one reading.
	Timeout time.Duration
}

// Signal is one safety signal, ready to read and judge.
type Signal struct {
	Name string
	// Breach is the text of the CEL condition that decides a breach.
	Breach string
	// Source says where the value comes from, for people.
	Source string
	Unit   string
	// MinCount is the least traffic (the count query's value, or the
	// counter's increase between two scrapes) a reading needs.
	MinCount float64
	// MinSamples is the least number of readings with data the window
	// needs; 0 lets the watch decide from the window.
	MinSamples int
	// BreachAfter is how many readings with data in a row must breach
	// before the signal breaches (at least 1).
	BreachAfter int
	// NoDataAfter is how long the signal may go without data, while the
	// watch runs, before that is alerted; 0 lets the watch decide from the
	// interval.
	NoDataAfter time.Duration
	// FixedBaseline is the baseline given in the file, if any.
	FixedBaseline *float64
	// NeedsBaseline reports whether the condition reads baseline.
	NeedsBaseline bool

	reader       reader
	baseQuery    string
	baselineProm *promSource
	cond         *program
}

// Load parses and compiles the signals file b, read from path. Every
// problem is reported in one *LoadError.
func Load(path string, b []byte) (*Set, error) {
	var f file
	if err := celyaml.Decode(path, b, &f); err != nil {
		return nil, err
	}
	l := &loader{le: &LoadError{File: path}}
	s := l.set(&f)
	if len(l.le.Problems) > 0 {
		return nil, l.le
	}
	return s, nil
}

type loader struct {
	le  *LoadError
	env *cel.Env
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func (l *loader) set(f *file) *Set {
	s := &Set{Timeout: time.Duration(f.Timeout)}
	if f.Timeout < 0 {
		l.le.Errorf("timeout", "must not be negative")
	}
	if f.NoDataAfter < 0 {
		l.le.Errorf("noDataAfter", "must not be negative")
	}
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	if f.Prometheus != "" {
		if err := checkURL(f.Prometheus); err != nil {
			l.le.Errorf("prometheus", "%v", err)
		}
	}
	if f.Metrics != "" {
		if err := checkURL(f.Metrics); err != nil {
			l.le.Errorf("metrics", "%v", err)
		}
	}
	if f.Alerts != nil && f.Alerts.Webhook != "" {
		if err := checkURL(f.Alerts.Webhook); err != nil {
			l.le.Errorf("alerts.webhook", "%v", err)
		}
		s.Webhook = f.Alerts.Webhook
	}
	if f.PM2 != nil && f.PM2.App == "" {
		l.le.Errorf("pm2.app", "no app: name the pm2 process whose cpu and memory are read")
	}
	if len(f.Signals) == 0 {
		l.le.Errorf("signals", "no signals: nothing to watch")
	}
	var err error
	if l.env, err = conditionEnv(); err != nil {
		l.le.Errorf("", "CEL environment: %v", err)
		return s
	}
	seen := map[string]bool{}
	for i := range f.Signals {
		sig := l.signal(i, &f.Signals[i], f)
		if sig == nil {
			continue
		}
		if seen[sig.Name] {
			l.le.Errorf(fmt.Sprintf("signals[%d] name", i), "%q is named twice", sig.Name)
		}
		seen[sig.Name] = true
		s.Signals = append(s.Signals, sig)
	}
	return s
}

func (l *loader) signal(i int, fs *fileSignal, f *file) *Signal {
	where := fmt.Sprintf("signals[%d]", i)
	if fs.Name != "" {
		where = fmt.Sprintf("signals[%d] %q", i, fs.Name)
	}
	sig := &Signal{Name: fs.Name, Breach: fs.Breach.Text, Unit: fs.Unit, MinCount: fs.MinCount,
		MinSamples: int(fs.MinSamples), FixedBaseline: fs.Baseline, BreachAfter: 1, NoDataAfter: time.Duration(f.NoDataAfter)}
	if fs.BreachAfter != nil {
		sig.BreachAfter = int(*fs.BreachAfter)
		if *fs.BreachAfter < 1 {
			l.le.Errorf(where+" breachAfter", "%d: want 1 or more readings in a row (1 breaches on the first)", *fs.BreachAfter)
		}
	}
	if fs.NoDataAfter < 0 {
		l.le.Errorf(where+" noDataAfter", "must not be negative")
	}
	if fs.NoDataAfter > 0 {
		sig.NoDataAfter = time.Duration(fs.NoDataAfter)
	}
	if !namePattern.MatchString(fs.Name) {
		l.le.Errorf(where+" name", "%q: want lower_snake_case, e.g. error_rate", fs.Name)
	}
	if fs.MinCount < 0 {
		l.le.Errorf(where+" minCount", "must not be negative")
	}
	if fs.MinSamples < 0 {
		l.le.Errorf(where+" minSamples", "must not be negative")
	}
	n := 0
	for _, set := range []bool{fs.Prometheus != nil, fs.Metrics != nil, fs.PM2 != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		l.le.Errorf(where, "give exactly one source: prometheus (a PromQL query), metrics (a /metrics endpoint) or pm2 (cpu or memory)")
		return nil
	}
	switch {
	case fs.Prometheus != nil:
		l.promSignal(where, sig, fs, f)
	case fs.Metrics != nil:
		l.metricsSignal(where, sig, fs, f)
	default:
		l.pm2Signal(where, sig, fs, f)
	}
	if fs.Baseline != nil && fs.BaselineQuery != "" {
		l.le.Errorf(where, "give baseline (a stored value) or baselineQuery, not both")
	}
	if fs.Breach.Text == "" {
		l.le.Errorf(where+" breach", "no condition: e.g. observed > baseline * 1.5 + 0.01")
		return sig
	}
	sig.cond = l.compile(where+" breach", fs.Breach)
	if sig.cond != nil {
		sig.NeedsBaseline = sig.cond.reads("baseline")
		if sig.NeedsBaseline && fs.PM2 != nil && fs.Baseline == nil {
			l.le.Errorf(where+" breach", "reads baseline, but pm2 has no history: give baseline (a stored value) or compare observed with a constant")
		}
		if sig.NeedsBaseline && fs.Metrics != nil && fs.Baseline == nil {
			l.le.Errorf(where+" breach", "reads baseline, but a /metrics endpoint has no history from before the deploy: give baseline (a stored value), or read the signal through prometheus")
		}
	}
	return sig
}

func (l *loader) promSignal(where string, sig *Signal, fs *fileSignal, f *file) {
	p := fs.Prometheus
	u := p.URL
	if u == "" {
		u = f.Prometheus
	}
	if u == "" {
		l.le.Errorf(where+" prometheus.url", "no Prometheus server: set prometheus at the top of the file or prometheus.url here")
	} else if err := checkURL(u); err != nil {
		l.le.Errorf(where+" prometheus.url", "%v", err)
	}
	if strings.TrimSpace(p.Query) == "" {
		l.le.Errorf(where+" prometheus.query", "no query")
	}
	if fs.MinCount > 0 && p.Count == "" {
		l.le.Errorf(where+" minCount", "needs prometheus.count, a query of the traffic behind the value")
	}
	src := &promSource{url: u, query: p.Query, count: p.Count}
	sig.reader = src
	sig.baselineProm = src
	sig.baseQuery = fs.BaselineQuery
	sig.Source = "prometheus " + p.Query
}

var metricTypes = []string{"ratio", "rate", "gauge", "quantile"}

func (l *loader) metricsSignal(where string, sig *Signal, fs *fileSignal, f *file) {
	m := fs.Metrics
	u := m.URL
	if u == "" {
		u = f.Metrics
	}
	if u == "" {
		l.le.Errorf(where+" metrics.url", "no /metrics endpoint: set metrics at the top of the file or metrics.url here")
	} else if err := checkURL(u); err != nil {
		l.le.Errorf(where+" metrics.url", "%v", err)
	}
	if !slices.Contains(metricTypes, m.Type) {
		l.le.Errorf(where+" metrics.type", "%q: want one of %s", m.Type, strings.Join(metricTypes, ", "))
	}
	if m.Metric == "" {
		l.le.Errorf(where+" metrics.metric", "no metric name")
	}
	if fs.BaselineQuery != "" {
		l.le.Errorf(where+" baselineQuery", "only with prometheus")
	}
	match, err := matchers(m.Match)
	if err != nil {
		l.le.Errorf(where+" metrics.match", "%v", err)
	}
	total, err := matchers(m.Total)
	if err != nil {
		l.le.Errorf(where+" metrics.total", "%v", err)
	}
	switch m.Type {
	case "quantile":
		if m.Quantile <= 0 || m.Quantile >= 1 {
			l.le.Errorf(where+" metrics.quantile", "%v: want a quantile between 0 and 1, e.g. 0.95", m.Quantile)
		}
	default:
		if m.Quantile != 0 {
			l.le.Errorf(where+" metrics.quantile", "only with type quantile")
		}
	}
	if m.Type != "ratio" && len(m.Total) > 0 {
		l.le.Errorf(where+" metrics.total", "only with type ratio")
	}
	if m.Type == "ratio" && len(m.Match) == 0 {
		l.le.Errorf(where+" metrics.match", "a ratio needs the labels of its numerator, e.g. {code: \"5..\"}")
	}
	if m.Type == "gauge" && fs.MinCount > 0 {
		l.le.Errorf(where+" minCount", "a gauge counts no traffic; leave minCount out")
	}
	sig.reader = &metricsSource{url: u, kind: m.Type, metric: m.Metric, match: match, total: total, quantile: m.Quantile}
	sig.Source = fmt.Sprintf("metrics %s %s %s", m.Type, m.Metric, u)
}

func (l *loader) pm2Signal(where string, sig *Signal, fs *fileSignal, f *file) {
	p := fs.PM2
	if p.Field != "cpu" && p.Field != "memory" {
		l.le.Errorf(where+" pm2.field", "%q: want cpu or memory (monit.cpu in percent, monit.memory in bytes)", p.Field)
	}
	app := p.App
	src := &pm2Source{field: p.Field, app: app}
	if f.PM2 != nil {
		src.bin, src.home = f.PM2.Bin, f.PM2.Home
		if src.app == "" {
			src.app = f.PM2.App
		}
	}
	if src.app == "" {
		l.le.Errorf(where+" pm2.app", "no app: name the pm2 process here or in pm2.app at the top of the file")
	}
	if fs.BaselineQuery != "" {
		l.le.Errorf(where+" baselineQuery", "only with prometheus")
	}
	if fs.MinCount > 0 {
		l.le.Errorf(where+" minCount", "pm2 counts no traffic; leave minCount out")
	}
	sig.reader = src
	sig.Source = fmt.Sprintf("pm2 %s monit.%s", src.app, p.Field)
}

// matchers compiles label matchers: each value is a regular expression
// matching the whole label value.
func matchers(m map[string]string) (map[string]*regexp.Regexp, error) {
	out := map[string]*regexp.Regexp{}
	var errs []string
	for _, k := range sortedKeys(m) {
		re, err := regexp.Compile("^(?:" + m[k] + ")$")
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", k, err))
			continue
		}
		out[k] = re
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return out, nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want an http or https URL with a host", s)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// conditionEnv declares what a breach condition sees.
func conditionEnv() (*cel.Env, error) {
	return cel.NewEnv(ext.Strings(), ext.Math(), cel.CrossTypeNumericComparisons(true),
		cel.Variable("observed", cel.DoubleType),
		cel.Variable("baseline", cel.DoubleType),
		cel.Variable("count", cel.DoubleType),
		cel.Variable("window", cel.MapType(cel.StringType, cel.DoubleType)),
	)
}

// posError is a value error at a node of the file; celyaml.Decode reads
// its position.
type posError struct {
	tok *token.Token
	msg string
}

func (e *posError) Error() string          { return e.msg }
func (e *posError) GetToken() *token.Token { return e.tok }
func (e *posError) GetMessage() string     { return e.msg }

// duration is a Go duration ("90s", "1m"), an error at its position
// otherwise.
type duration time.Duration

// UnmarshalYAML parses a Go duration.
func (d *duration) UnmarshalYAML(n ast.Node) error {
	var s string
	if err := yaml.NodeToValue(n, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return &posError{tok: n.GetToken(), msg: fmt.Sprintf("%q: want a Go duration, e.g. 90s or 2m", s)}
	}
	*d = duration(v)
	return nil
}

// whole is a whole number, an error at its position otherwise (1.5 would
// otherwise be read as 1).
type whole int

// UnmarshalYAML reads an integer.
func (w *whole) UnmarshalYAML(n ast.Node) error {
	if n.Type() != ast.IntegerType {
		return &posError{tok: n.GetToken(), msg: fmt.Sprintf("%s: want a whole number", n.String())}
	}
	var v int
	if err := yaml.NodeToValue(n, &v); err != nil {
		return err
	}
	*w = whole(v)
	return nil
}
