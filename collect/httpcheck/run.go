package httpcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/google/cel-go/common/types"

	"github.com/localizevideos/shipgate/collect/prom"
)

// Check statuses, as the Verification evidence names them.
const (
	Passed = "passed"
	Failed = "failed"
	// Error is a check that could not be judged: an assertion that is not a
	// bool, the cost limit, an interruption. It does not pass either.
	Error = "error"
)

// Runner runs suites.
type Runner struct {
	// Transport sends every request (steps, scrapes, queries); nil is
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Now is the clock (required); it stamps the result and times the steps.
	Now func() time.Time
}

// Result is what one run found: the Verification evidence's data.
type Result struct {
	Target                string
	StartedAt, FinishedAt time.Time
	Checks                []Check
}

// Check is the outcome of one named check, in the order the file first
// names it.
type Check struct {
	Name   string
	Status string
	// Message names the failing step and assertion and what was observed,
	// or sums up what passed.
	Message  string
	Duration time.Duration
	// URL is the failing step's URL, else the first step's.
	URL string
}

// Passed reports whether every check passed.
func (r *Result) Passed() bool {
	for _, c := range r.Checks {
		if c.Status != Passed {
			return false
		}
	}
	return len(r.Checks) > 0
}

// outcome is one step's or one error rate's contribution to its check.
type outcome struct {
	check, status, message, url string
	duration                    time.Duration
}

// Run runs s: the first scrape of each /metrics error rate, then the steps
// in order with one cookie jar (each step's captures kept for the steps
// after it), then the error rates. It never fails as a whole: what goes
// wrong fails the check it belongs to. Run does not wait for the app: call
// Ready first.
func (r *Runner) Run(ctx context.Context, s *Suite) *Result {
	res := &Result{Target: s.base, StartedAt: r.Now()}
	scraper := prom.Scraper{Client: &http.Client{Transport: r.Transport}}
	firsts := make([]scrape, len(s.rates))
	for i, rt := range s.rates {
		if rt.metrics != nil {
			firsts[i] = r.scrape(ctx, scraper, rt)
		}
	}
	jar, _ := cookiejar.New(nil)
	var outs []outcome
	caps := map[string]string{}
	for _, st := range s.steps {
		outs = append(outs, r.step(ctx, st, jar, s, caps))
	}
	for i, rt := range s.rates {
		outs = append(outs, r.rate(ctx, scraper, rt, firsts[i], s.vars))
	}
	res.Checks = aggregate(outs)
	res.FinishedAt = r.Now()
	return res
}

// aggregate folds outcomes into checks by name: a check takes its worst
// status and the message of its first step with that status.
func aggregate(outs []outcome) []Check {
	var checks []Check
	index := map[string]int{}
	var passedMsgs [][]string
	for _, o := range outs {
		i, ok := index[o.check]
		if !ok {
			i = len(checks)
			index[o.check] = i
			checks = append(checks, Check{Name: o.check, Status: Passed, URL: o.url})
			passedMsgs = append(passedMsgs, nil)
		}
		c := &checks[i]
		c.Duration += o.duration
		if o.status == Passed {
			passedMsgs[i] = append(passedMsgs[i], o.message)
			continue
		}
		if rank(o.status) > rank(c.Status) {
			c.Status, c.Message, c.URL = o.status, o.message, o.url
		}
	}
	for i := range checks {
		if checks[i].Status == Passed {
			checks[i].Message = strings.Join(passedMsgs[i], "; ")
		}
	}
	return checks
}

func rank(status string) int {
	switch status {
	case Passed:
		return 0
	case Failed:
		return 1
	}
	return 2
}

func (r *Runner) step(ctx context.Context, st *step, jar http.CookieJar, s *Suite, caps map[string]string) outcome {
	shownURL := st.url.String()
	o := outcome{check: st.check, url: shownURL}
	req, missing, err := st.request(ctx, caps)
	switch {
	case missing != "":
		o.status, o.message = Failed, notCaptured(st, missing, s.capturedBy)
		return o
	case err != nil:
		o.status, o.message = Error, fmt.Sprintf("step %q: %v", st.name, err)
		return o
	}
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	req = req.WithContext(ctx)
	client := &http.Client{Transport: r.Transport, Jar: jar}
	if st.noJar {
		client.Jar = nil
	}
	if !st.followRedirects {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	what := fmt.Sprintf("%s %s", st.method, shownURL)
	start := r.Now()
	resp, err := client.Do(req)
	if err != nil {
		o.duration = r.Now().Sub(start)
		o.status, o.message = Failed, fmt.Sprintf("step %q: %s: %s", st.name, what, requestError(ctx, err, st.timeout))
		return o
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes))
	resp.Body.Close()
	o.duration = r.Now().Sub(start)
	what = fmt.Sprintf("%s → %d", what, resp.StatusCode)
	if err != nil {
		o.status, o.message = Failed, fmt.Sprintf("step %q: %s: reading the body: %s", st.name, what, requestError(ctx, err, st.timeout))
		return o
	}
	act := activation(resp, b, o.duration, s.vars)
	for _, p := range st.asserts {
		status, detail := p.verdict(ctx, act)
		if status != Passed {
			o.status, o.message = status, fmt.Sprintf("step %q: %s: assertion %s %s", st.name, what, p.text, detail)
			return o
		}
	}
	for _, c := range st.captures {
		v, status, detail := c.expr.value(ctx, act)
		if status != Passed {
			o.status, o.message = status, fmt.Sprintf("step %q: %s: capture %s = %s %s", st.name, what, c.name, c.expr.text, detail)
			return o
		}
		caps[c.name] = v
	}
	o.status = Passed
	o.message = fmt.Sprintf("%s in %dms", what, o.duration.Milliseconds())
	return o
}

// request is the step's request with the captured values put in; missing
// names a value it needs that was not captured.
func (st *step) request(ctx context.Context, caps map[string]string) (req *http.Request, missing string, err error) {
	u, missing := st.url.fill(caps)
	if missing != "" {
		return nil, missing, nil
	}
	var body io.Reader
	if st.body != nil {
		b, missing, err := st.body.fill(caps)
		if missing != "" || err != nil {
			return nil, missing, err
		}
		body = bytes.NewReader(b)
	}
	req, err = http.NewRequestWithContext(ctx, st.method, u, body)
	if err != nil {
		// The URL may hold a captured value: name it as written.
		return nil, "", fmt.Errorf("%s %s: invalid request", st.method, st.url)
	}
	for k, t := range st.headers {
		v, missing := t.fill(caps)
		if missing != "" {
			return nil, missing, nil
		}
		req.Header.Set(k, v)
	}
	return req, "", nil
}

// activation is what assertions and captures see of a response.
func activation(resp *http.Response, b []byte, d time.Duration, vars map[string]string) map[string]any {
	return map[string]any{
		"status":      int64(resp.StatusCode),
		"headers":     firstValues(resp.Header),
		"cookies":     cookies(resp),
		"json":        jsonValue(b),
		"body":        string(b),
		"duration_ms": float64(d.Microseconds()) / 1000,
		"vars":        vars,
	}
}

func requestError(ctx context.Context, err error, timeout time.Duration) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("timed out after %s", timeout)
	}
	// The message already names the method and URL.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

func firstValues(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if len(v) > 0 {
			out[strings.ToLower(k)] = v[0]
		}
	}
	return out
}

// cookies are the cookies the response sets, by name.
func cookies(resp *http.Response) map[string]string {
	out := map[string]string{}
	for _, c := range resp.Cookies() {
		out[c.Name] = c.Value
	}
	return out
}

// jsonValue is the body decoded as JSON, or null when it is not JSON.
func jsonValue(b []byte) any {
	if !json.Valid(b) {
		return types.NullValue
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil || v == nil {
		return types.NullValue
	}
	return v
}

// scrape is the first scrape of a /metrics error rate.
type scrape struct {
	at     time.Time
	counts prom.Counts
	err    error
}

func (r *Runner) scrape(ctx context.Context, sc prom.Scraper, rt *rate) scrape {
	ctx, cancel := context.WithTimeout(ctx, rt.timeout)
	defer cancel()
	at := r.Now()
	n, err := r.count(ctx, sc, rt)
	return scrape{at: at, counts: n, err: err}
}

func (r *Runner) count(ctx context.Context, sc prom.Scraper, rt *rate) (prom.Counts, error) {
	fams, err := sc.Scrape(ctx, rt.metrics.url)
	if err != nil {
		return prom.Counts{}, err
	}
	return rt.metrics.counter.Count(fams)
}

func (r *Runner) rate(ctx context.Context, sc prom.Scraper, rt *rate, first scrape, vars map[string]string) outcome {
	start := r.Now()
	var (
		obs, base float64
		desc      string
		err       error
	)
	if rt.metrics != nil {
		obs, base, desc, err = r.metricsRate(ctx, sc, rt, first)
	} else {
		obs, base, desc, err = r.queryRate(ctx, rt)
	}
	o := outcome{check: rt.check, url: rt.metrics.urlOr(rt.promURL)}
	o.duration = r.Now().Sub(start)
	if rt.metrics != nil && !first.at.IsZero() {
		o.duration = r.Now().Sub(first.at)
	}
	if err != nil {
		o.status = Failed
		if ctx.Err() != nil {
			o.status = Error
		}
		o.message = fmt.Sprintf("%v: a check without data fails", err)
		return o
	}
	status, detail := rt.condition.verdict(ctx, map[string]any{"observed": obs, "baseline": base, "vars": vars})
	o.status = status
	if status == Passed {
		o.message = fmt.Sprintf("%s: %s holds", desc, rt.condition.text)
	} else {
		o.message = fmt.Sprintf("%s: condition %s %s", desc, rt.condition.text, detail)
	}
	return o
}

func (m *metricsSource) urlOr(alt string) string {
	if m == nil {
		return alt
	}
	return m.url
}

// metricsRate waits until the interval since the first scrape has passed,
// scrapes again, and compares the error ratio between the scrapes with the
// baseline: the file's, or the ratio of everything counted at the first
// scrape.
func (r *Runner) metricsRate(ctx context.Context, sc prom.Scraper, rt *rate, first scrape) (obs, base float64, desc string, err error) {
	m := rt.metrics
	if first.err != nil {
		return 0, 0, "", fmt.Errorf("first scrape: %w", first.err)
	}
	if wait := m.interval - r.Now().Sub(first.at); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, 0, "", fmt.Errorf("%w: interrupted before the second scrape: %v", prom.ErrNoData, context.Cause(ctx))
		case <-t.C:
		}
	}
	sctx, cancel := context.WithTimeout(ctx, rt.timeout)
	defer cancel()
	second, err := r.count(sctx, sc, rt)
	if err != nil {
		return 0, 0, "", fmt.Errorf("second scrape: %w", err)
	}
	delta, err := prom.Delta(first.counts, second)
	if err != nil {
		return 0, 0, "", err
	}
	if obs, err = delta.Ratio(); err != nil {
		return 0, 0, "", fmt.Errorf("%w between the scrapes %s apart", err, m.interval)
	}
	baseFrom := "baseline"
	if rt.baseline != nil {
		base = *rt.baseline
	} else {
		if base, err = first.counts.Ratio(); err != nil {
			return 0, 0, "", fmt.Errorf("baseline at the first scrape: %w", err)
		}
		baseFrom = fmt.Sprintf("baseline (%s of %s requests before)", num(first.counts.Errors), num(first.counts.Total))
	}
	desc = fmt.Sprintf("%s error rate %s (%s of %s requests over %s) vs %s %s",
		m.counter.Name, percent(obs), num(delta.Errors), num(delta.Total), m.interval, baseFrom, percent(base))
	return obs, base, desc, nil
}

func (r *Runner) queryRate(ctx context.Context, rt *rate) (obs, base float64, desc string, err error) {
	c, err := prom.NewClient(rt.promURL, r.Transport)
	if err != nil {
		return 0, 0, "", fmt.Errorf("%w: %v", prom.ErrNoData, err)
	}
	at := r.Now()
	qctx, cancel := context.WithTimeout(ctx, rt.timeout)
	defer cancel()
	if obs, err = c.Value(qctx, rt.query, at); err != nil {
		return 0, 0, "", requestTimeout(qctx, err, rt.timeout)
	}
	if rt.baseline != nil {
		base = *rt.baseline
	} else if base, err = c.Value(qctx, rt.baseQuery, at); err != nil {
		return 0, 0, "", fmt.Errorf("baseline: %w", requestTimeout(qctx, err, rt.timeout))
	}
	return obs, base, fmt.Sprintf("observed %s vs baseline %s", fmtFloat(obs), fmtFloat(base)), nil
}

func requestTimeout(ctx context.Context, err error, timeout time.Duration) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: timed out after %s", prom.ErrNoData, timeout)
	}
	return err
}

func percent(f float64) string { return fmt.Sprintf("%.2f%%", f*100) }

func num(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%g", f)
}

func fmtFloat(f float64) string { return fmt.Sprintf("%.6g", f) }

// MarshalJSON writes r as the data of a Verification evidence document.
func (r *Result) MarshalJSON() ([]byte, error) {
	type check struct {
		Name       string  `json:"name"`
		Status     string  `json:"status"`
		Message    string  `json:"message,omitempty"`
		DurationMs float64 `json:"durationMs"`
		URL        string  `json:"url,omitempty"`
	}
	checks := make([]check, 0, len(r.Checks))
	for _, c := range r.Checks {
		checks = append(checks, check{Name: c.Name, Status: c.Status, Message: c.Message,
			DurationMs: math.Max(0, math.Round(float64(c.Duration.Microseconds())/100)/10), URL: c.URL})
	}
	return json.Marshal(struct {
		Checks     []check `json:"checks"`
		StartedAt  string  `json:"startedAt"`
		FinishedAt string  `json:"finishedAt"`
		Target     string  `json:"target,omitempty"`
	}{checks, timestamp(r.StartedAt), timestamp(r.FinishedAt), r.Target})
}

// timestamp is RFC 3339 in UTC to the millisecond.
func timestamp(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
}
