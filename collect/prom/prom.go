// Package prom reads error rates the Prometheus way: from an app's /metrics
// endpoint in the text exposition format, and from instant queries against
// a Prometheus server. "No data" (no traffic, NaN, an empty result, a
// server that does not answer, a timeout) is reported as an error that
// wraps ErrNoData, never as a healthy zero.
package prom

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	neturl "net/url"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ErrNoData means there was no value to judge. Callers must treat it as a
// failure.
var ErrNoData = errors.New("no data")

func noData(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrNoData}, args...)...)
}

// DefaultMaxBytes bounds a scraped /metrics body.
const DefaultMaxBytes = 16 << 20

// Scraper reads /metrics endpoints.
type Scraper struct {
	// Client sends the requests; nil is http.DefaultClient.
	Client *http.Client
	// MaxBytes bounds the body; 0 is DefaultMaxBytes.
	MaxBytes int64
}

// Scrape fetches url and parses it as the Prometheus text format. Every
// failure, an unreachable endpoint included, wraps ErrNoData.
func (s Scraper) Scrape(ctx context.Context, url string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, noData("metrics %s: %v", url, err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, noData("metrics %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, noData("metrics %s: HTTP %d", url, resp.StatusCode)
	}
	limit := s.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, noData("metrics %s: %v", url, err)
	}
	if int64(len(b)) > limit {
		return nil, noData("metrics %s: larger than %d bytes", url, limit)
	}
	// The zero TextParser panics: it needs a name validation scheme.
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(b)))
	if err != nil {
		return nil, noData("metrics %s: %v", url, err)
	}
	return fams, nil
}

// Counter selects a requests counter and which values of one of its labels
// count as errors: http_requests_total, code, 5.. by default.
type Counter struct {
	Name  string
	Label string
	// Errors matches the whole label value of an error.
	Errors *regexp.Regexp
}

// Counts are a counter's totals at one scrape.
type Counts struct {
	Errors, Total float64
}

// Count sums the counter's series in fams. Series without the label count
// as requests that are not errors. A counter that is not there is no data.
func (c Counter) Count(fams map[string]*dto.MetricFamily) (Counts, error) {
	f, ok := fams[c.Name]
	if !ok {
		return Counts{}, noData("no metric %s", c.Name)
	}
	if t := f.GetType(); t != dto.MetricType_COUNTER && t != dto.MetricType_UNTYPED {
		return Counts{}, fmt.Errorf("metric %s is a %s, want a counter", c.Name, strings.ToLower(t.String()))
	}
	var n Counts
	for _, m := range f.GetMetric() {
		v := m.GetUntyped().GetValue()
		if m.GetCounter() != nil {
			v = m.GetCounter().GetValue()
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return Counts{}, noData("metric %s has the value %v", c.Name, v)
		}
		n.Total += v
		for _, l := range m.GetLabel() {
			if l.GetName() == c.Label && c.Errors != nil && c.Errors.MatchString(l.GetValue()) {
				n.Errors += v
			}
		}
	}
	return n, nil
}

// Ratio is the error ratio of everything the counts have seen.
func (n Counts) Ratio() (float64, error) {
	if n.Total <= 0 {
		return 0, noData("no requests counted")
	}
	return n.Errors / n.Total, nil
}

// Delta is what was counted between two scrapes. A counter that went down
// was reset (the app restarted) and says nothing about the interval.
func Delta(before, after Counts) (Counts, error) {
	if after.Total < before.Total || after.Errors < before.Errors {
		return Counts{}, noData("the counter went down between the scrapes (reset by a restart?)")
	}
	return Counts{Errors: after.Errors - before.Errors, Total: after.Total - before.Total}, nil
}

// Client runs instant queries against a Prometheus server.
type Client struct {
	api v1.API
}

// NewClient returns a client of the Prometheus HTTP API at address; rt
// sends the requests (nil is the default transport).
func NewClient(address string, rt http.RoundTripper) (*Client, error) {
	cfg := api.Config{Address: address}
	if rt != nil {
		cfg.RoundTripper = rt
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", address, err)
	}
	return &Client{api: v1.NewAPI(c)}, nil
}

// Value runs query as an instant query at t and returns its single value.
// An error, a timeout, an empty vector, NaN or an infinity wraps ErrNoData;
// so does a result of several series, which cannot be judged as one value.
func (c *Client) Value(ctx context.Context, query string, at time.Time) (float64, error) {
	val, _, _, err := c.api.Query(ctx, query, at)
	if err != nil {
		return 0, noData("query %s: %v", query, err)
	}
	var v model.SampleValue
	switch r := val.(type) {
	case model.Vector:
		switch len(r) {
		case 0:
			return 0, noData("query %s: empty result", query)
		case 1:
			v = r[0].Value
		default:
			return 0, noData("query %s: %d series, want one (aggregate it, e.g. with sum)", query, len(r))
		}
	case *model.Scalar:
		v = r.Value
	default:
		return 0, noData("query %s: a %s result, want a vector or a scalar", query, val.Type())
	}
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, noData("query %s: value %v", query, f)
	}
	return f, nil
}
