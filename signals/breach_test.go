package signals_test

import (
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/signals"
)

func TestLoadBreachAfterAndNoDataAfter(t *testing.T) {
	const head = "prometheus: http://127.0.0.1:9090\n"
	set, err := signals.Load("signals.yaml", []byte(head+`noDataAfter: 2m
signals:
  - {name: cpu, prometheus: {query: up}, breach: observed > 1}
  - {name: memory, prometheus: {query: up}, breach: observed > 1, breachAfter: 3, noDataAfter: 45s}
`))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		after  int
		noData time.Duration
	}{{1, 2 * time.Minute}, {3, 45 * time.Second}} {
		s := set.Signals[i]
		if s.BreachAfter != want.after || s.NoDataAfter != want.noData {
			t.Errorf("signal %s: breachAfter %d, noDataAfter %s; want %d, %s", s.Name, s.BreachAfter, s.NoDataAfter, want.after, want.noData)
		}
	}
	set, err = signals.Load("signals.yaml", []byte(head+"signals:\n  - {name: cpu, prometheus: {query: up}, breach: observed > 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s := set.Signals[0]; s.BreachAfter != 1 || s.NoDataAfter != 0 {
		t.Errorf("defaults: breachAfter %d, noDataAfter %s; want 1 and 0 (the watch decides)", s.BreachAfter, s.NoDataAfter)
	}

	for _, tt := range []struct {
		name, file string
		want       []string
	}{
		{
			name: "breachAfter zero and negative",
			file: head + `signals:
  - {name: cpu, prometheus: {query: up}, breach: observed > 1, breachAfter: 0}
  - {name: memory, prometheus: {query: up}, breach: observed > 1, breachAfter: -2}
`,
			want: []string{`signals.yaml: signals[0] "cpu" breachAfter: 0: want 1 or more readings in a row`,
				`signals.yaml: signals[1] "memory" breachAfter: -2: want 1 or more readings in a row`},
		},
		{
			name: "breachAfter not an integer",
			file: head + "signals:\n  - {name: cpu, prometheus: {query: up}, breach: observed > 1, breachAfter: 1.5}\n",
			want: []string{"signals.yaml:3:77: 1.5: want a whole number"},
		},
		{
			name: "negative noDataAfter",
			file: head + "noDataAfter: -1s\nsignals:\n  - {name: cpu, prometheus: {query: up}, breach: observed > 1, noDataAfter: -5s}\n",
			want: []string{"signals.yaml: noDataAfter: must not be negative", `signals.yaml: signals[0] "cpu" noDataAfter: must not be negative`},
		},
		{
			name: "noDataAfter not a duration",
			file: head + "signals:\n  - {name: cpu, prometheus: {query: up}, breach: observed > 1, noDataAfter: soon}\n",
			want: []string{`signals.yaml:3:77: "soon": want a Go duration, e.g. 90s or 2m`},
		},
	} {
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
