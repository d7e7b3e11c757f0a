package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/auth"
)

// A release id (in a body, a path or a query), a service, an environment,
// a decision or violation id outside the grammar of schemas.NamePattern is
// 400 and nothing is recorded.
func TestBadNamesRefused(t *testing.T) {
	e := newEnv(t)
	pipe, appr, aud := e.tokens[auth.RolePipeline], e.tokens[auth.RoleApprover], e.tokens[auth.RoleAuditor]
	if code, _, b := e.call("POST", "/v1/evidence", pipe, docs(t, "plan.json", "incidents.json", "build.json", "deploy-requested.json")); code != http.StatusOK {
		t.Fatalf("add evidence = %d %s", code, b)
	}
	for name, v := range map[string]string{
		"a path": "../../etc/passwd", "a NUL": "lv\x00x", "a slash": "lv/x", "a newline": "lv\nx",
		"10 KiB": strings.Repeat("a", 10<<10), "a space": "lv x",
	} {
		before := e.head()
		body := func(member string) []byte {
			req := map[string]any{"release": map[string]any{"id": releaseID}, "dryRun": true}
			switch member {
			case "id":
				req["id"] = v
			default:
				req["release"].(map[string]any)[member] = v
			}
			b, _ := json.Marshal(req)
			return b
		}
		p := url.PathEscape(v)
		for _, c := range []struct {
			method, path, token string
			body                any
		}{
			{"POST", "/v1/gates/deploy", pipe, body("id")},
			{"POST", "/v1/gates/deploy", pipe, body("service")},
			{"POST", "/v1/gates/deploy", pipe, body("environment")},
			{"POST", "/v1/gates/deploy", pipe, body("id")},
			{"GET", "/v1/releases/" + p, aud, nil},
			{"GET", "/v1/releases/" + p + "/status", pipe, nil},
			{"GET", "/v1/releases/" + p + "/plans", pipe, nil},
			{"POST", "/v1/releases/" + p + "/approvals", appr, map[string]string{"note": "ok"}},
			{"POST", "/v1/releases/" + p + "/holds", appr, map[string]string{"action": "place", "reason": "investigating INC-42"}},
			{"GET", "/v1/decisions/" + p, aud, nil},
			{"GET", "/v1/violations/" + p, aud, nil},
			{"GET", "/v1/violations?release=" + url.QueryEscape(v), aud, nil},
			{"GET", "/v1/releases?service=" + url.QueryEscape(v), aud, nil},
			{"GET", "/v1/releases/" + releaseID + "/rollback-target?commit=" + url.QueryEscape(v), pipe, nil},
			{"POST", "/v1/gates/deploy", pipe, body("commit")},
			{"POST", "/v1/postmortems", pipe, map[string]any{"document": json.RawMessage(`{}`), "violations": []string{v}}},
		} {
			code, _, b := e.call(c.method, c.path, c.token, c.body)
			if code != http.StatusBadRequest || !strings.Contains(string(b), ": want ") {
				t.Errorf("%s %s (%s) = %d %.300s; want 400 naming the grammar", c.method, c.path, name, code, b)
			}
		}
		if e.head() != before {
			t.Errorf("requests with %s recorded something", name)
		}
	}
}
