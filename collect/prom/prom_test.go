package prom_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/collect/prom"
)

var requests = prom.Counter{Name: "http_requests_total", Label: "code", Errors: regexp.MustCompile(`^(?:5..)$`)}

func serve(t *testing.T, code int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestScrapeCount(t *testing.T) {
	tests := []struct {
		name   string
		code   int
		body   string
		want   prom.Counts
		err    string
		noData bool
	}{
		{"counter", 200, `# TYPE http_requests_total counter
http_requests_total{code="200",route="/"} 90
http_requests_total{code="503",route="/"} 4
http_requests_total{code="500",route="/api"} 6
http_requests_total{route="/other"} 10
`, prom.Counts{Errors: 10, Total: 110}, "", false},
		{"untyped", 200, "http_requests_total{code=\"500\"} 1\nhttp_requests_total{code=\"200\"} 3\n", prom.Counts{Errors: 1, Total: 4}, "", false},
		{"gauge", 200, "# TYPE http_requests_total gauge\nhttp_requests_total 1\n", prom.Counts{}, "is a gauge, want a counter", false},
		{"missing", 200, "# TYPE up gauge\nup 1\n", prom.Counts{}, "no data: no metric http_requests_total", true},
		{"NaN", 200, "# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} NaN\n", prom.Counts{}, "has the value NaN", true},
		{"HTTP 500", 500, "oops", prom.Counts{}, "HTTP 500", true},
		{"not the text format", 200, "{\"json\": true}\n", prom.Counts{}, "no data: metrics", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := serve(t, tt.code, tt.body)
			fams, err := prom.Scraper{}.Scrape(context.Background(), url)
			var got prom.Counts
			if err == nil {
				got, err = requests.Count(fams)
			}
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("Count = %v; want %+v", err, tt.want)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("Count error = %v; want %q", err, tt.err)
			case err != nil && errors.Is(err, prom.ErrNoData) != tt.noData:
				t.Errorf("errors.Is(%v, ErrNoData) = %v; want %v", err, !tt.noData, tt.noData)
			case got != tt.want:
				t.Errorf("Count = %+v; want %+v", got, tt.want)
			}
		})
	}
}

func TestDeltaRatio(t *testing.T) {
	d, err := prom.Delta(prom.Counts{Errors: 1, Total: 100}, prom.Counts{Errors: 3, Total: 300})
	if err != nil || d != (prom.Counts{Errors: 2, Total: 200}) {
		t.Fatalf("Delta = %+v, %v; want {2 200}", d, err)
	}
	if r, err := d.Ratio(); err != nil || r != 0.01 {
		t.Errorf("Ratio = %v, %v; want 0.01", r, err)
	}
	if _, err := prom.Delta(prom.Counts{Total: 100}, prom.Counts{Total: 5}); !errors.Is(err, prom.ErrNoData) {
		t.Errorf("Delta after a reset = %v; want no data", err)
	}
	if _, err := (prom.Counts{}).Ratio(); !errors.Is(err, prom.ErrNoData) {
		t.Errorf("Ratio without requests = %v; want no data", err)
	}
}
