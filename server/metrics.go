package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/localizevideos/shipgate/engine"
)

// metrics are the server's Prometheus series.
type metrics struct {
	decisions        *prometheus.CounterVec
	decisionDuration *prometheus.HistogramVec
	storeErrors      *prometheus.CounterVec
	requests         *prometheus.CounterVec
	requestDuration  *prometheus.HistogramVec
}

// Decision results as the metrics count them: allow, deny (a denial
// recorded and answered) and error (no trustworthy answer: a fault, a
// store that could not record, bad input).
const (
	resultAllow = "allow"
	resultDeny  = "deny"
	resultError = "error"
)

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shipgate_decisions_total", Help: "Gate decisions answered, by gate and result (allow, deny, error).",
		}, []string{"gate", "result"}),
		decisionDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shipgate_decision_duration_seconds", Help: "Time to decide and record a gate decision, by gate.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"gate"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shipgate_store_errors_total", Help: "Store reads and writes that failed, by operation (route).",
		}, []string{"op"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shipgate_http_requests_total", Help: "HTTP requests answered, by route, method and status code.",
		}, []string{"route", "method", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shipgate_http_request_duration_seconds", Help: "HTTP request latency, by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	for _, c := range []prometheus.Collector{m.decisions, m.decisionDuration, m.storeErrors, m.requests, m.requestDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Every gate's series exist from the start, at zero.
	for _, g := range engine.Gates {
		for _, r := range []string{resultAllow, resultDeny, resultError} {
			m.decisions.WithLabelValues(g, r)
		}
		m.decisionDuration.WithLabelValues(g)
	}
	return m, nil
}

func (m *metrics) handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

func (m *metrics) decision(gate, result string, d time.Duration) {
	m.decisions.WithLabelValues(gate, result).Inc()
	m.decisionDuration.WithLabelValues(gate).Observe(d.Seconds())
}

func (m *metrics) storeError(op string) { m.storeErrors.WithLabelValues(op).Inc() }

func (m *metrics) request(route, method string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.requestDuration.WithLabelValues(route).Observe(d.Seconds())
}
