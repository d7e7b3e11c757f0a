package signals

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/localizevideos/shipgate/internal/celyaml"
)

// sloFile is an SLO file as written.
type sloFile struct {
	Name       string  `yaml:"name"`
	Prometheus string  `yaml:"prometheus"`
	Objective  float64 `yaml:"objective"`
	Window     string  `yaml:"window"`
	ErrorRatio string  `yaml:"errorRatio"`
	Count      string  `yaml:"count"`
	MinCount   float64 `yaml:"minCount"`
}

// SLO is a service level objective whose error budget can be measured.
type SLO struct {
	Name string
	// Objective is the target fraction of good events, e.g. 0.999.
	Objective float64
	// Window is the SLO's period as PromQL writes it, e.g. 30d.
	Window string
	// ErrorRatio and Count are the queries, with ${window} replaced.
	ErrorRatio, Count string
	MinCount          float64
	prometheus        string
}

// LoadSLO parses the SLO file b, read from path.
func LoadSLO(path string, b []byte) (*SLO, error) {
	var f sloFile
	if err := celyaml.Decode(path, b, &f); err != nil {
		return nil, err
	}
	le := &LoadError{File: path}
	bad := func(field, format string, args ...any) {
		le.Problems = append(le.Problems, Problem{Where: field, Message: fmt.Sprintf(format, args...)})
	}
	if f.Name == "" {
		bad("name", "no name: e.g. availability-30d")
	}
	if f.Prometheus == "" {
		bad("prometheus", "no Prometheus server URL")
	} else if err := checkURL(f.Prometheus); err != nil {
		bad("prometheus", "%v", err)
	}
	if f.Objective <= 0 || f.Objective >= 1 {
		bad("objective", "%v: want the target fraction of good events, above 0 and below 1 (e.g. 0.999)", f.Objective)
	}
	if _, err := model.ParseDuration(f.Window); err != nil {
		bad("window", "%q: want a PromQL duration, e.g. 30d (%v)", f.Window, err)
	}
	if strings.TrimSpace(f.ErrorRatio) == "" {
		bad("errorRatio", "no query: the fraction of bad events over ${window}, e.g. sum(rate(http_requests_total{code=~\"5..\"}[${window}])) / sum(rate(http_requests_total[${window}]))")
	}
	if f.MinCount < 0 {
		bad("minCount", "must not be negative")
	}
	if f.MinCount > 0 && f.Count == "" {
		bad("minCount", "needs count, a query of the events over ${window}")
	}
	if len(le.Problems) > 0 {
		return nil, le
	}
	w := func(q string) string { return strings.ReplaceAll(q, "${window}", f.Window) }
	return &SLO{Name: f.Name, Objective: f.Objective, Window: f.Window, ErrorRatio: w(f.ErrorRatio), Count: w(f.Count),
		MinCount: f.MinCount, prometheus: f.Prometheus}, nil
}

// Budget is a measured error budget.
type Budget struct {
	SLO        string  `json:"slo"`
	Objective  float64 `json:"objective"`
	Window     string  `json:"window"`
	ErrorRatio float64 `json:"errorRatio"`
	// Remaining is the fraction of the budget left: 1 untouched, 0 spent,
	// negative overspent.
	Remaining float64 `json:"remaining"`
	// Events is the count query's value, when the SLO has one.
	Events     *float64  `json:"events,omitempty"`
	Query      string    `json:"query"`
	Prometheus string    `json:"prometheus"`
	MeasuredAt time.Time `json:"measuredAt"`
}

// Measure queries the error ratio at at and computes the remaining budget.
// No data (an unreachable server, NaN, an empty result, fewer events than
// minCount) is an error wrapping ErrNoData: an unmeasured budget is not an
// available one.
func (s *SLO) Measure(ctx context.Context, src *Sources, at time.Time) (*Budget, error) {
	c, err := src.client(s.prometheus)
	if err != nil {
		return nil, noData("%v", err)
	}
	b := &Budget{SLO: s.Name, Objective: s.Objective, Window: s.Window, Query: s.ErrorRatio, Prometheus: s.prometheus, MeasuredAt: at.UTC()}
	if s.Count != "" {
		n, err := c.Value(ctx, s.Count, at)
		if err != nil {
			return nil, fmt.Errorf("SLO %s count: %w", s.Name, err)
		}
		if n < s.MinCount {
			return nil, noData("SLO %s: %g events over %s, fewer than minCount %g", s.Name, n, s.Window, s.MinCount)
		}
		b.Events = &n
	}
	ratio, err := c.Value(ctx, s.ErrorRatio, at)
	if err != nil {
		return nil, fmt.Errorf("SLO %s: %w", s.Name, err)
	}
	if ratio < 0 || ratio > 1 {
		return nil, fmt.Errorf("SLO %s: error ratio %v is not a fraction between 0 and 1: check errorRatio", s.Name, ratio)
	}
	b.ErrorRatio = ratio
	b.Remaining = 1 - ratio/(1-s.Objective)
	return b, nil
}
