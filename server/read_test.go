package server_test

import (
	"context"
	"errors"
	"github.com/localizevideos/shipgate/api"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/server"
	"github.com/localizevideos/shipgate/store"
)

// An approver's approval through the API is Approval evidence bound to the
// release's Plan, and lets the deploy gate allow; the deployer cannot
// approve their own release, and nothing is recorded when refused.
func TestApprovals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pipe := e.tokens[auth.RolePipeline]
	if code, _, b := e.call("POST", "/v1/releases/"+releaseID+"/approvals", e.tokens[auth.RoleApprover], map[string]string{"note": "looks good"}); code != http.StatusConflict {
		t.Errorf("approving a release with no Plan = %d %s; want 409", code, b)
	}
	if code, _, b := e.call("POST", "/v1/evidence", pipe, docs(t, "plan.json", "incidents.json", "build.json", "deploy-requested.json")); code != http.StatusOK {
		t.Fatalf("add evidence = %d %s", code, b)
	}
	n, _ := e.db.Len(ctx)
	dave := e.token("dave", auth.RoleApprover)
	for _, path := range []string{"/approvals", "/overrides"} {
		body := map[string]string{"note": "mine"}
		if path == "/overrides" {
			body = map[string]string{"rule": "freeze.window", "reason": "hotfix for the outage", "expiresAt": "2026-11-26T12:00:00Z"}
		}
		code, _, b := e.call("POST", "/v1/releases/"+releaseID+path, dave, body)
		if code != http.StatusForbidden || decode[apiError](t, b).Error.Code != "self_approval" {
			t.Errorf("the deployer: POST %s = %d %s; want 403 self_approval", path, code, b)
		}
	}
	if err := e.srv.Approve(ctx, auth.Principal{Name: "Dave", Role: auth.RoleApprover}, releaseID, ""); !errors.Is(err, server.ErrSelfApproval) || !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("Approve(Dave) = %v; want ErrSelfApproval (names compare without case)", err)
	}
	if err := e.srv.Approve(ctx, auth.Principal{Name: "bob", Role: auth.RolePipeline}, releaseID, ""); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("Approve(pipeline) = %v; want ErrForbidden", err)
	}
	if err := e.srv.Approve(ctx, auth.Principal{Name: "bob", Role: auth.RoleApprover}, "no-such-release", ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Approve(unknown release) = %v; want ErrNotFound", err)
	}
	if m, _ := e.db.Len(ctx); m != n {
		t.Fatalf("refused approvals wrote %d entries", m-n)
	}
	e.clock.Set(deployAt.Add(-30 * time.Second))
	code, _, b := e.call("POST", "/v1/releases/"+releaseID+"/approvals", e.tokens[auth.RoleApprover], map[string]string{"note": "looks good"})
	if code != http.StatusCreated {
		t.Fatalf("bob approves = %d %s", code, b)
	}
	digest := decode[struct{ Digest string }](t, b).Digest
	ev, err := e.db.EvidenceByDigest(ctx, digest)
	if err != nil || ev.Kind != "Approval" || ev.ReleaseID != releaseID || ev.Service != "localizevideos-app" || ev.Commit == "" {
		t.Fatalf("recorded approval %+v, %v; want bound to the release's Plan", ev, err)
	}
	if !strings.Contains(string(ev.Body), `"approver":"bob"`) || !strings.Contains(string(ev.Body), `"comment":"looks good"`) {
		t.Errorf("approval body %s", ev.Body)
	}
	code, _, b = e.call("POST", "/v1/releases/"+releaseID+"/overrides", e.tokens[auth.RoleApprover],
		map[string]string{"rule": "freeze.window", "reason": "short", "expiresAt": "2026-11-26T12:00:00Z"})
	if ae := decode[apiError](t, b); code != http.StatusBadRequest || ae.Error.Code != "invalid_evidence" || ae.Error.Details[0].Pointer != "/data/reason" {
		t.Errorf("override with a short reason = %d %s; want 400 naming /data/reason", code, b)
	}
	code, _, b = e.call("POST", "/v1/releases/"+releaseID+"/overrides", e.tokens[auth.RoleApprover],
		map[string]string{"rule": "freeze.window", "reason": "hotfix for the outage INC-42", "expiresAt": "2026-11-26T12:00:00Z", "gate": "deploy"})
	if code != http.StatusCreated {
		t.Fatalf("bob overrides = %d %s", code, b)
	}
	if ov, err := e.db.EvidenceByDigest(ctx, decode[struct{ Digest string }](t, b).Digest); err != nil || ov.Kind != "Override" ||
		!strings.Contains(string(ov.Body), `"approver":"bob"`) || !strings.Contains(string(ov.Body), `"rule":"freeze.window"`) {
		t.Errorf("recorded override %s, %v", ov.Body, err)
	}
	e.clock.Set(deployAt)
	code, _, b = e.call("POST", "/v1/gates/deploy", pipe, gateBody("", nil))
	if d := decode[engine.Decision](t, b); code != http.StatusOK || !d.Allow {
		t.Errorf("deploy gate after bob's approval = %d allow %t: %s", code, d.Allow, b)
	}
}

// The read routes answer what the ledger holds; a postmortem closes a
// violation; the ledger verifies.
func TestReadsAndPostmortem(t *testing.T) {
	e := newEnv(t)
	pipe, aud := e.tokens[auth.RolePipeline], e.tokens[auth.RoleAuditor]
	code, _, b := e.call("POST", "/v1/gates/deploy", pipe, gateBody("dec_1", docs(t, "plan.json", "incidents.json", "build.json", "deploy-requested.json")))
	if code != http.StatusOK {
		t.Fatal(code, string(b))
	}
	vio := decode[engine.Decision](t, b).Opened[0]

	code, _, b = e.call("GET", "/v1/releases/"+releaseID, aud, nil)
	rel := decode[api.ReleaseView](t, b)
	if code != http.StatusOK || len(rel.Evidence) != 4 || len(rel.Decisions) != 1 || len(rel.Violations) != 1 || rel.Evidence[0].Actor == "" {
		t.Errorf("GET release = %d %s", code, b)
	}
	code, _, b = e.call("GET", "/v1/releases", aud, nil)
	if rs := decode[[]api.ReleaseSummary](t, b); code != http.StatusOK || len(rs) != 1 || rs[0].ID != releaseID ||
		rs[0].Evidence != 4 || rs[0].OpenViolations != 1 || rs[0].LastDecision == nil || rs[0].LastDecision.ID != "dec_1" {
		t.Errorf("GET releases = %d %s", code, b)
	}
	if code, _, _ := e.call("GET", "/v1/releases/nothing", aud, nil); code != http.StatusNotFound {
		t.Errorf("GET unknown release = %d; want 404", code)
	}
	code, _, b = e.call("GET", "/v1/decisions/dec_1", aud, nil)
	if dv := decode[api.DecisionView](t, b); code != http.StatusOK || dv.Entry == 0 || decode[struct{ Gate string }](t, dv.Replay).Gate != "deploy" {
		t.Errorf("GET decision = %d %s", code, b)
	}
	code, _, b = e.call("GET", "/v1/evidence/"+rel.Evidence[0].Digest, aud, nil)
	if ev := decode[api.EvidenceView](t, b); code != http.StatusOK || len(ev.Document) == 0 {
		t.Errorf("GET evidence = %d %s", code, b)
	}
	code, _, b = e.call("GET", "/v1/releases/"+releaseID+"/status", pipe, nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"deploy gate"`) {
		t.Errorf("GET status = %d %s", code, b)
	}
	code, _, b = e.call("GET", "/v1/violations?status=open", aud, nil)
	if vs := decode[[]api.ViolationView](t, b); code != http.StatusOK || len(vs) != 1 || vs[0].ID != vio {
		t.Errorf("GET violations = %d %s", code, b)
	}
	if code, _, _ := e.call("GET", "/v1/violations?state=open", aud, nil); code != http.StatusBadRequest {
		t.Errorf("GET violations?state= = %d; want 400", code)
	}

	pm := map[string]any{
		"apiVersion": "shipgate.dev/v1", "kind": "Postmortem",
		"release":     map[string]string{"id": releaseID, "service": "localizevideos-app", "environment": "production"},
		"subject":     map[string]string{"repository": "localizevideos/app", "commit": "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"},
		"collectedAt": "2026-11-26T12:00:00Z", "collector": map[string]string{"name": "hand", "actor": "carol"},
		"data": map[string]any{"violations": []string{vio}, "summary": "deploy was attempted before approval",
			"author": "carol", "completedAt": "2026-11-26T12:00:00Z"},
	}
	code, _, b = e.call("POST", "/v1/postmortems", pipe, map[string]any{"document": pm})
	if code != http.StatusOK {
		t.Fatalf("POST postmortem = %d %s", code, b)
	}
	if code, _, b := e.call("POST", "/v1/postmortems", pipe, map[string]any{"document": pm}); code != http.StatusConflict {
		t.Errorf("closing twice = %d %s; want 409", code, b)
	}
	code, _, b = e.call("GET", "/v1/postmortems", aud, nil)
	if ps := decode[[]api.PostmortemView](t, b); code != http.StatusOK || len(ps) != 1 || ps[0].Closes[0] != vio {
		t.Errorf("GET postmortems = %d %s", code, b)
	}
	code, _, b = e.call("GET", "/v1/ledger/verify", aud, nil)
	if v := decode[api.VerifyResult](t, b); code != http.StatusOK || !v.Intact || v.Size == 0 {
		t.Errorf("GET verify = %d %s", code, b)
	}
}
