package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/auth"
)

// Every route that takes a body refuses one with a key given twice: 400
// naming the key and where it is, and nothing recorded. encoding/json
// alone would keep the last value, so "dryRun": true, "dryRun": false would
// record a real decision.
func TestDuplicateKeysRefused(t *testing.T) {
	e := newEnv(t)
	pipe, appr, admin := e.tokens[auth.RolePipeline], e.tokens[auth.RoleApprover], e.tokens[auth.RoleAdmin]
	if code, _, b := e.call("POST", "/v1/evidence", pipe, docs(t, "plan.json", "incidents.json", "build.json", "deploy-requested.json")); code != http.StatusOK {
		t.Fatalf("add evidence = %d %s", code, b)
	}
	plan := string(example(t, "plan.json"))
	pm := `{"apiVersion":"shipgate.dev/v1","kind":"Postmortem"}`
	rel := "/v1/releases/" + releaseID
	cases := []struct {
		method, path, token, body, want string
	}{
		// Evidence bodies are refused as evidence.
		{"POST", "/v1/evidence", pipe, `{"documents":[` + plan + `],"sources":["a.json"],"sources":["b.json"]}`, `(body): /sources: duplicate-key: duplicate key "sources"`},
		{"POST", "/v1/evidence", pipe, strings.Replace(plan, `"kind"`, `"kind":"Build","kind"`, 1), `(body): /kind: duplicate-key: duplicate key "kind"`},
		{"POST", "/v1/evidence", pipe, `[` + plan + `,` + strings.Replace(plan, `"kind"`, `"kind":"Build","kind"`, 1) + `]`, `(body): /1/kind: duplicate-key: duplicate key "kind"`},
		{"POST", "/v1/gates/deploy", pipe, `{"release":{"id":"` + releaseID + `"},"dryRun":true,"dryRun":false}`, `/dryRun: duplicate key "dryRun"`},
		{"POST", "/v1/gates/deploy", pipe, `{"release":{"id":"` + releaseID + `","id":"lv-other"},"dryRun":true}`, `/release/id: duplicate key "id"`},
		{"POST", rel + "/approvals", appr, `{"note":"ok","gate":"deploy","gate":"verify"}`, `/gate: duplicate key "gate"`},
		{"POST", rel + "/overrides", appr, `{"rule":"freeze.window","reason":"hotfix for the outage INC-42","expiresAt":"2026-11-26T12:00:00Z","rule":"approval.required"}`, `/rule: duplicate key "rule"`},
		{"POST", rel + "/holds", appr, `{"action":"place","reason":"investigating INC-42","action":"lift"}`, `/action: duplicate key "action"`},
		{"POST", "/v1/postmortems", pipe, `{"document":` + pm + `,"violations":[],"violations":["v"]}`, `/violations: duplicate key "violations"`},
		{"POST", "/v1/tokens", admin, `{"name":"ci","role":"pipeline","role":"admin"}`, `/role: duplicate key "role"`},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		t.Run(c.method+" "+c.path+" "+c.want, func(t *testing.T) {
			before := e.head()
			code, _, b := e.call(c.method, c.path, c.token, []byte(c.body))
			ae := decode[apiError](t, b)
			want := apiError{}
			want.Error.Code, want.Error.Message = "bad_request", "request body: "+c.want
			if c.path == "/v1/evidence" {
				want.Error.Code, want.Error.Message = "invalid_evidence", "1 validation errors; nothing was recorded: "+c.want
			}
			if code != http.StatusBadRequest || ae.Error.Code != want.Error.Code || ae.Error.Message != want.Error.Message {
				t.Errorf("%s %s with a key twice = %d %s; want 400 %s %q", c.method, c.path, code, b, want.Error.Code, want.Error.Message)
			}
			if after := e.head(); after != before {
				t.Errorf("%s %s with a key twice changed the ledger or the tokens", c.method, c.path)
			}
		})
		covered[c.method+" "+c.path] = true
	}
	// Every route with a body is here.
	for _, rt := range e.srv.Routes() {
		if rt.Method != "POST" {
			continue
		}
		p := strings.Replace(strings.Replace(rt.Path, "{gate}", "deploy", 1), "{id}", releaseID, 1)
		if !covered[rt.Method+" "+p] {
			t.Errorf("%s %s takes a body and is not tested with a key twice", rt.Method, rt.Path)
		}
	}
}

// Trailing data and unknown members are refused on every closed body.
func TestStrictBodies(t *testing.T) {
	e := newEnv(t)
	pipe := e.tokens[auth.RolePipeline]
	for body, want := range map[string]string{
		`{"release":{"id":"r"}} {}`:                 "unexpected data after the top-level value",
		`{"release":{"id":"r"}}x`:                   "unexpected data after the top-level value",
		`{"release":{"id":"r","colour":"x"}}`:       "unknown field",
		`{"release":{"id":"r"},"evidence":[1e999]}`: "number",
	} {
		before := e.head()
		code, _, b := e.call("POST", "/v1/gates/deploy", pipe, []byte(body))
		if code != http.StatusBadRequest || !strings.Contains(string(b), want) {
			t.Errorf("POST /v1/gates/deploy %s = %d %s; want 400 saying %q", body, code, b, want)
		}
		if e.head() != before {
			t.Errorf("POST /v1/gates/deploy %s recorded something", body)
		}
	}
}
