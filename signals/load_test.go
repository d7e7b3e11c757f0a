package signals_test

import (
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/signals"
)

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
	}{
		{
			name: "unknown field, with line and column",
			file: "signals:\n  - name: cpu\n    promql: up\n",
			want: []string{"signals.yaml:3:5: ", "unknown field \"promql\""},
		},
		{
			name: "no signals",
			file: "prometheus: http://127.0.0.1:9090\n",
			want: []string{"signals.yaml: signals: no signals: nothing to watch"},
		},
		{
			name: "no source, two sources",
			file: `signals:
  - name: cpu
    breach: observed > 1
  - name: memory
    prometheus: {url: "http://p:9090", query: up}
    pm2: {field: memory, app: a}
    breach: observed > 1
`,
			want: []string{
				`signals.yaml: signals[0] "cpu": give exactly one source`,
				`signals.yaml: signals[1] "memory": give exactly one source`,
			},
		},
		{
			name: "CEL error with its position in the file and in the expression",
			file: `prometheus: http://127.0.0.1:9090
signals:
  - name: error_rate
    prometheus: {query: up}
    breach: observed > baselin * 2.0
`,
			want: []string{`signals.yaml:5:13: signals[0] "error_rate" breach "observed > baselin * 2.0": 1:12: undeclared reference to 'baselin'`},
		},
		{
			name: "a condition that is not a bool",
			file: "prometheus: http://127.0.0.1:9090\nsignals:\n  - name: cpu\n    prometheus: {query: up}\n    breach: observed * 2.0\n",
			want: []string{`the expression is a double, want a bool (true means breach)`},
		},
		{
			name: "mixing int and double arithmetic is caught at load",
			file: "prometheus: http://127.0.0.1:9090\nsignals:\n  - name: cpu\n    prometheus: {query: up}\n    breach: observed > baseline * 2\n",
			want: []string{`1:21: found no matching overload for '_*_' applied to '(double, int)'`},
		},
		{
			name: "fields checked",
			file: `signals:
  - name: Error-Rate
    prometheus: {query: ""}
    breach: observed > 1
    minCount: 10
  - name: cpu
    metrics: {url: "ftp://x", type: histogram, metric: ""}
    breach: observed > 1
  - name: memory
    pm2: {field: rss}
    breach: observed > baseline
  - name: latency
    metrics: {url: "http://a/metrics", type: quantile, metric: d, quantile: 95}
    breach: observed > 1
`,
			want: []string{
				`signals[0] "Error-Rate" name: "Error-Rate": want lower_snake_case`,
				`signals[0] "Error-Rate" prometheus.url: no Prometheus server`,
				`signals[0] "Error-Rate" prometheus.query: no query`,
				`signals[0] "Error-Rate" minCount: needs prometheus.count`,
				`signals[1] "cpu" metrics.url: "ftp://x": want an http or https URL with a host`,
				`signals[1] "cpu" metrics.type: "histogram": want one of ratio, rate, gauge, quantile`,
				`signals[1] "cpu" metrics.metric: no metric name`,
				`signals[2] "memory" pm2.field: "rss": want cpu or memory`,
				`signals[2] "memory" pm2.app: no app`,
				`signals[2] "memory" breach: reads baseline, but pm2 has no history`,
				`signals[3] "latency" metrics.quantile: 95: want a quantile between 0 and 1`,
			},
		},
		{
			name: "a name used twice",
			file: "prometheus: http://p:9090\nsignals:\n  - {name: cpu, prometheus: {query: up}, breach: observed > 1}\n  - {name: cpu, prometheus: {query: up}, breach: observed > 1}\n",
			want: []string{`signals[1] name: "cpu" is named twice`},
		},
		{
			name: "baseline and baselineQuery",
			file: "prometheus: http://p:9090\nsignals:\n  - {name: cpu, prometheus: {query: up}, baseline: 1, baselineQuery: up, breach: observed > baseline}\n",
			want: []string{`give baseline (a stored value) or baselineQuery, not both`},
		},
		{
			name: "a /metrics signal cannot read a baseline from before the deploy",
			file: "signals:\n  - {name: cpu, metrics: {url: 'http://a/metrics', type: gauge, metric: c}, breach: observed > baseline}\n",
			want: []string{`reads baseline, but a /metrics endpoint has no history from before the deploy`},
		},
		{
			name: "bad label regexp",
			file: "signals:\n  - {name: e, metrics: {url: 'http://a/metrics', type: ratio, metric: c, match: {code: '5(('}}, breach: observed > 1.0}\n",
			want: []string{`signals[0] "e" metrics.match: code: error parsing regexp`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := signals.Load("signals.yaml", []byte(tt.file))
			if err == nil {
				t.Fatal("Load() error = nil; want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load() error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestLoad(t *testing.T) {
	set, err := signals.Load("signals.yaml", []byte(`prometheus: http://127.0.0.1:9090
metrics: http://127.0.0.1:3000/metrics
pm2: {app: localizevideos-app, home: /tmp/pm2}
alerts: {webhook: "https://hooks.example.com/T1"}
signals:
  - name: error_rate
    prometheus:
      query: sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))
      count: sum(increase(http_requests_total[1m]))
    minCount: 20
    breach: observed > baseline * 1.5 + 0.01
  - name: errors_from_app
    metrics: {type: ratio, metric: http_requests_total, match: {code: "5.."}}
    breach: observed > 0.05
  - name: cpu
    pm2: {field: cpu}
    breach: observed > 90
  - name: memory
    pm2: {field: memory}
    baseline: 150e6
    breach: observed > baseline * 3.0
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Signals) != 4 || set.Webhook != "https://hooks.example.com/T1" {
		t.Fatalf("Load() = %d signals, webhook %q", len(set.Signals), set.Webhook)
	}
	want := []struct {
		name          string
		needsBaseline bool
		source        string
	}{
		{"error_rate", true, "prometheus sum(rate("},
		{"errors_from_app", false, "metrics ratio http_requests_total http://127.0.0.1:3000/metrics"},
		{"cpu", false, "pm2 localizevideos-app monit.cpu"},
		{"memory", true, "pm2 localizevideos-app monit.memory"},
	}
	for i, w := range want {
		s := set.Signals[i]
		if s.Name != w.name || s.NeedsBaseline != w.needsBaseline || !strings.HasPrefix(s.Source, w.source) {
			t.Errorf("signal %d = %s, needs baseline %t, source %q; want %s, %t, %q", i, s.Name, s.NeedsBaseline, s.Source, w.name, w.needsBaseline, w.source)
		}
	}
}

func TestExampleSignalsFileLoads(t *testing.T) {
	for _, path := range []string{"../examples/localizevideos/signals.yaml", "../examples/localizevideos/signals-pm2.yaml"} {
		b, err := readFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := signals.Load(path, b); err != nil {
			t.Errorf("Load(%s) = %v", path, err)
		}
	}
}
