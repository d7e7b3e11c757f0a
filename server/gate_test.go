package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	_ "modernc.org/sqlite"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/internal/policytest"
	"github.com/localizevideos/shipgate/store"
)

const releaseID = "lv-2026-11-26.1"

func docs(t testing.TB, names ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(names))
	for i, n := range names {
		out[i] = example(t, n)
	}
	return out
}

func gateBody(id string, evidence []json.RawMessage) map[string]any {
	b := map[string]any{"release": map[string]string{"id": releaseID}, "evidence": evidence}
	if id != "" {
		b["id"] = id
	}
	return b
}

// A decision is recorded before it is answered; allow and deny are both
// 200, told apart by "allow".
func TestGateAllowsAndDenies(t *testing.T) {
	e := newEnv(t)
	pipe := e.tokens[auth.RolePipeline]
	ctx := context.Background()

	code, _, b := e.call("POST", "/v1/gates/deploy", pipe, gateBody("dec_deny_1", docs(t, "plan.json", "incidents.json", "build.json", "deploy-requested.json")))
	if code != http.StatusOK {
		t.Fatalf("deploy gate without approval = %d %s; want 200", code, b)
	}
	d := decode[engine.Decision](t, b)
	if d.Allow || d.ID != "dec_deny_1" || len(d.Opened) != 1 {
		t.Fatalf("deploy gate without approval: allow %t, id %s, opened %v; want a recorded denial", d.Allow, d.ID, d.Opened)
	}
	rec, err := e.db.Decision(ctx, "dec_deny_1")
	if err != nil || rec.Allow {
		t.Fatalf("recorded decision: %+v, %v", rec, err)
	}
	v, err := e.db.Violation(ctx, d.Opened[0])
	if err != nil || v.Actor != "pipeline-1" || v.Status != store.StatusOpen {
		t.Errorf("opened violation %+v, %v; want open, actor the token's name", v, err)
	}

	e.approve()
	code, _, b = e.call("POST", "/v1/gates/deploy", pipe, gateBody("", nil))
	if code != http.StatusOK {
		t.Fatalf("deploy gate with approval = %d %s", code, b)
	}
	// The open violation of the denial above is not overdue: it does not block.
	if d := decode[engine.Decision](t, b); !d.Allow || !strings.HasPrefix(d.ID, "dec_") {
		t.Fatalf("deploy gate with the release's evidence: allow %t id %s (%s); want allow", d.Allow, d.ID, b)
	}
	if _, err := e.db.Verify(ctx, nil); err != nil {
		t.Fatalf("Verify() = %v", err)
	}
}

// Retrying a request with the same id answers the recorded decision and
// records nothing; the same id for another release is a conflict.
func TestGateIdempotent(t *testing.T) {
	e := newEnv(t)
	pipe := e.tokens[auth.RolePipeline]
	ctx := context.Background()
	if code, _, b := e.call("POST", "/v1/evidence", pipe, docs(t, "plan.json")); code != http.StatusOK {
		t.Fatalf("add the plan = %d %s", code, b)
	}
	e.approve()
	body := gateBody("ci-run-42-deploy", docs(t, "incidents.json", "build.json", "deploy-requested.json"))
	code, h, first := e.call("POST", "/v1/gates/deploy", pipe, body)
	if code != http.StatusOK || h.Get("Shipgate-Replayed") != "" {
		t.Fatalf("first = %d %s", code, first)
	}
	n, _ := e.db.Len(ctx)
	e.clock.Set(deployAt.Add(time.Minute))
	code, h, again := e.call("POST", "/v1/gates/deploy", pipe, body)
	if code != http.StatusOK || h.Get("Shipgate-Replayed") != "true" {
		t.Fatalf("retry = %d, replayed %q, %s", code, h.Get("Shipgate-Replayed"), again)
	}
	if a, b := decode[engine.Decision](t, first), decode[engine.Decision](t, again); a.ID != b.ID || a.Allow != b.Allow || !a.EvaluatedAt.Equal(b.EvaluatedAt) {
		t.Errorf("retry answered %s/%t/%s; want the first decision %s/%t/%s", b.ID, b.Allow, b.EvaluatedAt, a.ID, a.Allow, a.EvaluatedAt)
	}
	if m, _ := e.db.Len(ctx); m != n {
		t.Errorf("the retry wrote %d entries; want none", m-n)
	}
	other := gateBody("ci-run-42-deploy", nil)
	other["release"] = map[string]string{"id": "other-release"}
	if code, _, b := e.call("POST", "/v1/gates/deploy", pipe, other); code != http.StatusConflict || decode[apiError](t, b).Error.Code != "idempotency_conflict" {
		t.Errorf("same id, other release = %d %s; want 409 idempotency_conflict", code, b)
	}
	if code, _, b := e.call("POST", "/v1/gates/verify", pipe, body); code != http.StatusConflict {
		t.Errorf("same id, other gate = %d %s; want 409", code, b)
	}
	for _, id := range []string{"-x", "a b", strings.Repeat("a", 129)} {
		if code, _, b := e.call("POST", "/v1/gates/deploy", pipe, gateBody(id, nil)); code != http.StatusBadRequest {
			t.Errorf("id %q = %d %s; want 400", id, code, b)
		}
	}
}

// Invalid evidence is refused with every error naming the document, the
// JSON pointer and what was expected; nothing is recorded.
func TestInvalidEvidence(t *testing.T) {
	e := newEnv(t)
	pipe := e.tokens[auth.RolePipeline]
	ctx := context.Background()
	var plan map[string]any
	if err := json.Unmarshal(example(t, "plan.json"), &plan); err != nil {
		t.Fatal(err)
	}
	plan["subject"].(map[string]any)["commit"] = "not-a-sha"
	bad, _ := json.Marshal(plan)
	for _, tt := range []struct {
		name, method, path string
		body               any
		source, pointer    string
	}{
		{"bare", "POST", "/v1/evidence", bad, "(body)", "/subject/commit"},
		{"batch", "POST", "/v1/evidence", []json.RawMessage{example(t, "build.json"), bad}, "body/1", "/subject/commit"},
		{"gate", "POST", "/v1/gates/deploy", gateBody("", []json.RawMessage{bad}), "/evidence/0", "/subject/commit"},
		{"named batch", "POST", "/v1/evidence", map[string]any{"documents": []json.RawMessage{example(t, "build.json"), bad},
			"sources": []string{"build.json", "ci/plan.json"}}, "ci/plan.json", "/subject/commit"},
		{"named gate evidence", "POST", "/v1/gates/deploy", map[string]any{"release": map[string]string{"id": releaseID},
			"evidence": []json.RawMessage{bad}, "sources": []string{"ci/plan.json"}}, "ci/plan.json", "/subject/commit"},
		{"syntax", "POST", "/v1/evidence", []byte(`{"kind": "Plan",}`), "(body)", "(root)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, b := e.call(tt.method, tt.path, pipe, tt.body)
			if code != http.StatusBadRequest {
				t.Fatalf("%s = %d %s; want 400", tt.name, code, b)
			}
			ae := decode[apiError](t, b)
			if ae.Error.Code != "invalid_evidence" || len(ae.Error.Details) == 0 {
				t.Fatalf("body %s; want invalid_evidence with details", b)
			}
			d := ae.Error.Details[0]
			if d.Source != tt.source || (tt.name != "syntax" && d.Pointer != tt.pointer) || d.Message == "" {
				t.Errorf("detail %+v; want source %s, pointer %s and what was expected", d, tt.source, tt.pointer)
			}
		})
	}
	for _, body := range []map[string]any{
		{"documents": []json.RawMessage{example(t, "build.json")}, "sources": []string{"a", "b"}},
		{"documents": []json.RawMessage{example(t, "build.json")}, "sources": []string{"a\nb"}},
		{"documents": []json.RawMessage{}},
	} {
		if code, _, b := e.call("POST", "/v1/evidence", pipe, body); code != http.StatusBadRequest {
			t.Errorf("POST /v1/evidence %v = %d %s; want 400", body, code, b)
		}
	}
	if n, _ := e.db.Len(ctx); n != 0 {
		t.Errorf("the ledger holds %d entries; want none", n)
	}
}

// Request limits: size, depth, media type, unknown members.
func TestRequestLimits(t *testing.T) {
	e := newEnv(t)
	pipe := e.tokens[auth.RolePipeline]
	big := []byte(`{"release":{"id":"r"},"evidence":[{"x":"` + strings.Repeat("a", 1<<20) + `"}]}`)
	if code, _, b := e.call("POST", "/v1/gates/deploy", pipe, big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over 1 MiB = %d %s; want 413", code, b)
	}
	deep := []byte(`{"release":{"id":"r"},"evidence":[` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `]}`)
	if code, _, b := e.call("POST", "/v1/gates/deploy", pipe, deep); code != http.StatusBadRequest || !strings.Contains(string(b), "deeper than 64") {
		t.Errorf("a body nested 70 deep = %d %s; want 400", code, b)
	}
	if code, _, b := e.call("POST", "/v1/gates/deploy", pipe, []byte(`{"release":{"id":"r"},"allow":true}`)); code != http.StatusBadRequest || !strings.Contains(string(b), "allow") {
		t.Errorf("an unknown member = %d %s; want 400 naming it", code, b)
	}
	req, _ := http.NewRequest("POST", e.http.URL+"/v1/evidence", strings.NewReader("kind=Plan"))
	req.Header.Set("Authorization", "Bearer "+pipe)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("a form body = %d; want 415", resp.StatusCode)
	}
	if code, _, b := e.call("POST", "/v1/gates/launch", pipe, gateBody("", nil)); code != http.StatusNotFound ||
		!strings.Contains(string(b), `unknown gate \"launch\": want one of deploy, verify, complete, flag`) {
		t.Errorf("an unknown gate = %d %s; want 404 naming the gates", code, b)
	}
	if code, _, b := e.call("POST", "/v1/gates/deploy", pipe, map[string]any{"release": map[string]string{}}); code != http.StatusBadRequest {
		t.Errorf("no release id = %d %s; want 400", code, b)
	}
}

// A ledger that cannot be written: the answer is 503 with a denying
// decision, never 200.
func TestGateStoreUnwritable(t *testing.T) {
	e := newEnv(t)
	pipe := e.tokens[auth.RolePipeline]
	if code, _, b := e.call("POST", "/v1/evidence", pipe, docs(t, "plan.json", "incidents.json", "build.json", "deploy-requested.json")); code != http.StatusOK {
		t.Fatalf("add evidence = %d %s", code, b)
	}
	e.approve()
	// Real SQLite refusing every append, as a full disk would.
	raw, err := sql.Open("sqlite", "file:"+e.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TRIGGER full BEFORE INSERT ON entries BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`); err != nil {
		t.Fatal(err)
	}
	code, _, b := e.call("POST", "/v1/gates/deploy", pipe, gateBody("dec_x", nil))
	if code != http.StatusServiceUnavailable {
		t.Fatalf("gate on an unwritable ledger = %d %s; want 503", code, b)
	}
	ae := decode[apiError](t, b)
	if ae.Error.Code != "store_unavailable" || ae.Decision == nil || ae.Decision.Allow {
		t.Errorf("body %s; want store_unavailable with a denying decision", b)
	}
	if _, err := e.db.Decision(context.Background(), "dec_x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Decision(dec_x) = %v; want not recorded", err)
	}
	code, _, b = e.call("GET", "/metrics", "", nil)
	if code != http.StatusOK || !strings.Contains(string(b), `shipgate_decisions_total{gate="deploy",result="error"} 1`) ||
		!strings.Contains(string(b), `shipgate_store_errors_total{op="/v1/gates/{gate}"} 1`) {
		t.Errorf("metrics do not count the failed decision and the store error:\n%s", grepLines(string(b), "shipgate_"))
	}
}

// A policy that gives no answer: 500 with a recorded denial.
func TestGateEngineFault(t *testing.T) {
	rego := "package shipgate.gates.deploy\n\ndecision := {\"allow\": true, \"violations\": [], \"rules\": [\"r\"]} if input.gate == \"never\"\n"
	opts := engineOptions()
	opts.Policies, opts.Data = fstest.MapFS{"gates/deploy.rego": {Data: []byte(rego)}}, policytest.MinimalData(t)
	eng, err := engine.Load(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *envOptions) { o.engine = eng })
	code, _, b := e.call("POST", "/v1/gates/deploy", e.tokens[auth.RolePipeline], gateBody("dec_fault", docs(t, "plan.json")))
	if code != http.StatusInternalServerError {
		t.Fatalf("undefined policy result = %d %s; want 500", code, b)
	}
	ae := decode[apiError](t, b)
	if ae.Error.Code != "engine_fault" || ae.Decision == nil || ae.Decision.Allow || ae.Decision.Reason != engine.ReasonUndefined {
		t.Errorf("body %s; want engine_fault with a denying decision", b)
	}
	if d, err := e.db.Decision(context.Background(), "dec_fault"); err != nil || d.Allow {
		t.Errorf("Decision(dec_fault) = %+v, %v; want the denial recorded", d, err)
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
