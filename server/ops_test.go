package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/localizevideos/shipgate/auth"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Every request is one JSON log line with its id, route, status, duration
// and principal, and never the token.
func TestRequestLog(t *testing.T) {
	var buf syncBuffer
	e := newEnv(t, func(o *envOptions) { o.logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	pipe := e.tokens[auth.RolePipeline]
	req, _ := http.NewRequest("GET", e.http.URL+"/v1/releases/x/status", nil)
	req.Header.Set("Authorization", "Bearer "+pipe)
	req.Header.Set("X-Request-Id", "ci-run-7.step-3")
	resp, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Request-Id") != "ci-run-7.step-3" {
		t.Errorf("X-Request-Id = %q; want the client's", resp.Header.Get("X-Request-Id"))
	}
	e.call("GET", "/v1/violations", pipe, nil) // 403
	logs := buf.String()
	if strings.Contains(logs, pipe) || strings.Contains(logs, pipe[4:20]) {
		t.Fatalf("the token is in the log:\n%s", logs)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("%d log lines; want 2:\n%s", len(lines), logs)
	}
	first, second := lines[0], lines[1]
	if first["request_id"] != "ci-run-7.step-3" || first["route"] != "/v1/releases/{id}/status" || first["status"] != float64(200) ||
		first["principal"] != "pipeline-1" || first["duration_ms"] == nil {
		t.Errorf("log line %v", first)
	}
	if second["status"] != float64(403) || second["principal"] != "pipeline-1" || !strings.Contains(second["error"].(string), "forbidden") || second["request_id"] == "" {
		t.Errorf("log line %v", second)
	}
}

// /metrics counts decisions by gate and result, their latency, and
// requests by route and status.
func TestMetrics(t *testing.T) {
	e := newEnv(t)
	pipe := e.tokens[auth.RolePipeline]
	e.call("POST", "/v1/gates/deploy", pipe, gateBody("", docs(t, "plan.json", "incidents.json", "build.json", "deploy-requested.json")))
	e.approve()
	e.call("POST", "/v1/gates/deploy", pipe, gateBody("", nil))
	e.call("GET", "/v1/violations", "", nil)
	code, _, b := e.call("GET", "/metrics", "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", code)
	}
	for _, want := range []string{
		`shipgate_decisions_total{gate="deploy",result="allow"} 1`,
		`shipgate_decisions_total{gate="deploy",result="deny"} 1`,
		`shipgate_decisions_total{gate="verify",result="allow"} 0`,
		`shipgate_decision_duration_seconds_count{gate="deploy"} 2`,
		`shipgate_http_requests_total{code="200",method="POST",route="/v1/gates/{gate}"} 2`,
		`shipgate_http_requests_total{code="401",method="GET",route="/v1/violations"} 1`,
		`shipgate_http_request_duration_seconds_count{route="/v1/gates/{gate}"} 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(string(b), "shipgate_"))
		}
	}
}
