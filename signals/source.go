package signals

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/localizevideos/shipgate/collect/prom"
)

// ErrNoData is prom.ErrNoData: a reading that says nothing. It never counts
// as healthy.
var ErrNoData = prom.ErrNoData

func noData(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrNoData}, args...)...)
}

// Reading is one value of a signal.
type Reading struct {
	Value float64
	// Count is the traffic behind the value (requests in the rate's range,
	// or between two scrapes); HasCount is false for a gauge.
	Count    float64
	HasCount bool
}

// Sources holds what readings are taken with; the zero value uses the
// default HTTP transport and runs pm2 with an empty environment apart from
// PM2_HOME.
type Sources struct {
	// Transport sends Prometheus queries and /metrics scrapes.
	Transport http.RoundTripper
	// Environ is the environment pm2 runs with (PATH, HOME, ...); PM2_HOME
	// from the signals file is added to it.
	Environ []string

	mu      sync.Mutex
	clients map[string]*prom.Client
}

func (s *Sources) client(address string) (*prom.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[address]; ok {
		return c, nil
	}
	c, err := prom.NewClient(address, s.Transport)
	if err != nil {
		return nil, err
	}
	if s.clients == nil {
		s.clients = map[string]*prom.Client{}
	}
	s.clients[address] = c
	return c, nil
}

type reader interface {
	read(ctx context.Context, src *Sources, at time.Time) (Reading, error)
}

// Read takes one reading of the signal at at (Prometheus evaluates the
// query at that time; the other sources read now). A reading without data,
// or with less traffic than MinCount, wraps ErrNoData.
func (s *Signal) Read(ctx context.Context, src *Sources, at time.Time) (Reading, error) {
	r, err := s.reader.read(ctx, src, at)
	if err != nil {
		return r, err
	}
	if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
		return r, noData("value %v", r.Value)
	}
	if s.MinCount > 0 && (!r.HasCount || r.Count < s.MinCount) {
		return r, noData("%g requests, fewer than minCount %g", r.Count, s.MinCount)
	}
	return r, nil
}

// Baseline is the signal's value before the deploy: the stored baseline of
// the file, else baselineQuery, else the signal's own query, evaluated at
// at (the watch's start less the baseline offset). Signals whose condition
// does not read baseline need none and get 0.
func (s *Signal) Baseline(ctx context.Context, src *Sources, at time.Time) (float64, error) {
	if s.FixedBaseline != nil {
		return *s.FixedBaseline, nil
	}
	if !s.NeedsBaseline {
		return 0, nil
	}
	if s.baselineProm == nil {
		return 0, noData("signal %s has no baseline source", s.Name)
	}
	c, err := src.client(s.baselineProm.url)
	if err != nil {
		return 0, err
	}
	q := s.baseQuery
	if q == "" {
		q = s.baselineProm.query
	}
	v, err := c.Value(ctx, q, at)
	if err != nil {
		return 0, fmt.Errorf("baseline at %s: %w", at.UTC().Format(time.RFC3339), err)
	}
	return v, nil
}

// promSource is a PromQL instant query, with an optional traffic count.
type promSource struct {
	url, query, count string
}

func (p *promSource) read(ctx context.Context, src *Sources, at time.Time) (Reading, error) {
	c, err := src.client(p.url)
	if err != nil {
		return Reading{}, noData("%v", err)
	}
	v, err := c.Value(ctx, p.query, at)
	if err != nil {
		return Reading{}, err
	}
	r := Reading{Value: v}
	if p.count != "" {
		n, err := c.Value(ctx, p.count, at)
		if err != nil {
			return r, fmt.Errorf("count: %w", err)
		}
		r.Count, r.HasCount = n, true
	}
	return r, nil
}

// metricsSource reads one metric of a /metrics endpoint. Rates, ratios and
// quantiles are computed between this scrape and the one before.
type metricsSource struct {
	url, kind, metric string
	match, total      map[string]*regexp.Regexp
	quantile          float64

	mu   sync.Mutex
	prev *scrape
}

type scrape struct {
	at          time.Time
	num, den    float64
	buckets     map[float64]float64
	sampleCount float64
}

func (m *metricsSource) read(ctx context.Context, src *Sources, at time.Time) (Reading, error) {
	fams, err := prom.Scraper{Client: &http.Client{Transport: src.Transport}}.Scrape(ctx, m.url)
	if err != nil {
		return Reading{}, err
	}
	f, ok := fams[m.metric]
	if !ok {
		return Reading{}, noData("no metric %s at %s", m.metric, m.url)
	}
	if m.kind == "gauge" {
		v, n := sum(f, m.match, gaugeValue)
		if n == 0 {
			return Reading{}, noData("no series of %s matches %v", m.metric, labels(m.match))
		}
		return Reading{Value: v}, nil
	}
	cur := &scrape{at: at}
	switch m.kind {
	case "rate":
		if t := f.GetType(); t != dto.MetricType_COUNTER && t != dto.MetricType_UNTYPED {
			return Reading{}, fmt.Errorf("metric %s is a %s, want a counter", m.metric, t)
		}
		cur.num, _ = sum(f, m.match, counterValue)
	case "ratio":
		if t := f.GetType(); t != dto.MetricType_COUNTER && t != dto.MetricType_UNTYPED {
			return Reading{}, fmt.Errorf("metric %s is a %s, want a counter", m.metric, t)
		}
		cur.num, _ = sum(f, m.match, counterValue)
		cur.den, _ = sum(f, m.total, counterValue)
	case "quantile":
		if f.GetType() != dto.MetricType_HISTOGRAM {
			return Reading{}, fmt.Errorf("metric %s is a %s, want a histogram", m.metric, f.GetType())
		}
		cur.buckets, cur.sampleCount = histogram(f, m.match)
	}
	m.mu.Lock()
	prev := m.prev
	m.prev = cur
	m.mu.Unlock()
	if prev == nil {
		return Reading{}, noData("first scrape of %s: a %s needs two", m.url, m.kind)
	}
	secs := cur.at.Sub(prev.at).Seconds()
	switch m.kind {
	case "rate":
		d := cur.num - prev.num
		if d < 0 {
			return Reading{}, noData("%s went down between two scrapes (reset by a restart?)", m.metric)
		}
		if secs <= 0 {
			return Reading{}, noData("two scrapes at the same time")
		}
		return Reading{Value: d / secs, Count: d, HasCount: true}, nil
	case "ratio":
		dn, dd := cur.num-prev.num, cur.den-prev.den
		if dn < 0 || dd < 0 {
			return Reading{}, noData("%s went down between two scrapes (reset by a restart?)", m.metric)
		}
		if dd == 0 {
			return Reading{Count: 0, HasCount: true}, noData("no %s counted between two scrapes", m.metric)
		}
		return Reading{Value: dn / dd, Count: dd, HasCount: true}, nil
	default:
		n := cur.sampleCount - prev.sampleCount
		if n < 0 {
			return Reading{}, noData("%s went down between two scrapes (reset by a restart?)", m.metric)
		}
		if n == 0 {
			return Reading{HasCount: true}, noData("no %s observed between two scrapes", m.metric)
		}
		delta := map[float64]float64{}
		for le, c := range cur.buckets {
			d := c - prev.buckets[le]
			if d < 0 {
				return Reading{}, noData("%s went down between two scrapes (reset by a restart?)", m.metric)
			}
			delta[le] = d
		}
		v, err := bucketQuantile(m.quantile, delta)
		if err != nil {
			return Reading{}, err
		}
		return Reading{Value: v, Count: n, HasCount: true}, nil
	}
}

func gaugeValue(m *dto.Metric) float64 {
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	}
	return m.GetUntyped().GetValue()
}

func counterValue(m *dto.Metric) float64 {
	if m.GetCounter() != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetUntyped().GetValue()
}

func matches(m *dto.Metric, match map[string]*regexp.Regexp) bool {
	for name, re := range match {
		v := ""
		for _, l := range m.GetLabel() {
			if l.GetName() == name {
				v = l.GetValue()
			}
		}
		if !re.MatchString(v) {
			return false
		}
	}
	return true
}

// sum adds the values of the series matching match; n is how many matched.
func sum(f *dto.MetricFamily, match map[string]*regexp.Regexp, value func(*dto.Metric) float64) (v float64, n int) {
	for _, m := range f.GetMetric() {
		if matches(m, match) {
			v += value(m)
			n++
		}
	}
	return v, n
}

// histogram adds the cumulative buckets of the matching series.
func histogram(f *dto.MetricFamily, match map[string]*regexp.Regexp) (map[float64]float64, float64) {
	buckets := map[float64]float64{}
	var count float64
	for _, m := range f.GetMetric() {
		if !matches(m, match) || m.GetHistogram() == nil {
			continue
		}
		h := m.GetHistogram()
		count += float64(h.GetSampleCount())
		inf := false
		for _, b := range h.GetBucket() {
			buckets[b.GetUpperBound()] += float64(b.GetCumulativeCount())
			inf = inf || math.IsInf(b.GetUpperBound(), 1)
		}
		// The text format lists the +Inf bucket; other sources may not.
		if !inf {
			buckets[math.Inf(1)] += float64(h.GetSampleCount())
		}
	}
	return buckets, count
}

// bucketQuantile estimates the q-quantile from cumulative bucket counts by
// linear interpolation within the bucket, as PromQL's histogram_quantile
// does; a quantile in the +Inf bucket is the highest finite bound.
func bucketQuantile(q float64, buckets map[float64]float64) (float64, error) {
	les := make([]float64, 0, len(buckets))
	for le := range buckets {
		les = append(les, le)
	}
	sort.Float64s(les)
	if len(les) < 2 || !math.IsInf(les[len(les)-1], 1) {
		return 0, noData("histogram has no finite buckets")
	}
	total := buckets[les[len(les)-1]]
	if total == 0 {
		return 0, noData("histogram observed nothing")
	}
	rank := q * total
	lower, prevCount := 0.0, 0.0
	for i, le := range les {
		c := buckets[le]
		if c >= rank {
			if math.IsInf(le, 1) {
				return les[i-1], nil
			}
			if c == prevCount {
				return le, nil
			}
			return lower + (le-lower)*(rank-prevCount)/(c-prevCount), nil
		}
		lower, prevCount = le, c
	}
	return les[len(les)-2], nil
}

func labels(m map[string]*regexp.Regexp) string {
	var b bytes.Buffer
	b.WriteString("{")
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%s=~%q", k, m[k].String())
	}
	b.WriteString("}")
	return b.String()
}

// pm2Source reads monit.cpu or monit.memory of an app from `pm2 jlist`.
// Only the fields below are decoded: jlist carries the app's whole
// environment, secrets included, and none of it is kept.
type pm2Source struct {
	field, app, bin, home string
}

type pm2Process struct {
	Name string `json:"name"`
	PM2  struct {
		Status string `json:"status"`
	} `json:"pm2_env"`
	Monit struct {
		Memory *float64 `json:"memory"`
		CPU    *float64 `json:"cpu"`
	} `json:"monit"`
}

// MaxPM2Output bounds what `pm2 jlist` may print.
const MaxPM2Output = 32 << 20

func (p *pm2Source) read(ctx context.Context, src *Sources, _ time.Time) (Reading, error) {
	bin := p.bin
	if bin == "" {
		bin = "pm2"
	}
	cmd := exec.CommandContext(ctx, bin, "jlist")
	cmd.Env = append([]string(nil), src.Environ...)
	if p.home != "" {
		cmd.Env = append(cmd.Env, "PM2_HOME="+p.home)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &limited{w: &out, n: MaxPM2Output}, &limited{w: &errb, n: 4096}
	if err := cmd.Run(); err != nil {
		return Reading{}, noData("%s jlist: %v: %s", bin, err, bytes.TrimSpace(errb.Bytes()))
	}
	b := out.Bytes()
	// The first call of a pm2 prints a banner before the JSON.
	if i := bytes.Index(b, []byte("\n[")); !bytes.HasPrefix(b, []byte("[")) && i >= 0 {
		b = b[i+1:]
	}
	var procs []pm2Process
	if err := json.Unmarshal(b, &procs); err != nil {
		return Reading{}, noData("%s jlist: not a JSON list of processes: %v", bin, err)
	}
	var v float64
	n := 0
	for _, pr := range procs {
		if pr.Name != p.app {
			continue
		}
		if pr.PM2.Status != "online" {
			return Reading{}, noData("pm2 process %s is %s, not online", p.app, strconv.Quote(pr.PM2.Status))
		}
		f := pr.Monit.CPU
		if p.field == "memory" {
			f = pr.Monit.Memory
		}
		if f == nil {
			return Reading{}, noData("pm2 process %s has no monit.%s", p.app, p.field)
		}
		v += *f
		n++
	}
	if n == 0 {
		return Reading{}, noData("pm2 has no process %s", p.app)
	}
	return Reading{Value: v}, nil
}

// limited fails a write past n bytes, so a runaway command cannot fill
// memory.
type limited struct {
	w interface{ Write([]byte) (int, error) }
	n int
}

var errTooLong = errors.New("output too long")

func (l *limited) Write(b []byte) (int, error) {
	if len(b) > l.n {
		return 0, errTooLong
	}
	l.n -= len(b)
	return l.w.Write(b)
}
