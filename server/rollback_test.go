package server_test

import (
	"context"
	"encoding/json"
	"github.com/localizevideos/shipgate/api"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/store"
)

// The rollback target is what rollback.FindTarget finds on the server's
// ledger: none is 404 (never a made-up target), the newest verified other
// release once there is one, with the approved restart command of the
// server's policy data.
func TestRollbackTarget(t *testing.T) {
	e := newEnv(t)
	pipeline := e.tokens[auth.RolePipeline]
	const rel = "lv-2026-11-26.1"
	path := "/v1/releases/" + rel + "/rollback-target"
	if code, _, b := e.call("GET", "/v1/releases/nope/rollback-target", pipeline, nil); code != http.StatusNotFound ||
		!strings.Contains(decode[apiError](t, b).Error.Message, "no Plan declares it") {
		t.Errorf("a release without a Plan = %d %s; want 404", code, b)
	}
	if code, _, b := e.call("POST", "/v1/evidence", pipeline, example(t, "plan.json")); code != http.StatusOK {
		t.Fatalf("POST /v1/evidence = %d %s", code, b)
	}
	code, _, b := e.call("GET", path, pipeline, nil)
	if ae := decode[apiError](t, b); code != http.StatusNotFound || ae.Error.Code != "not_found" || !strings.Contains(ae.Error.Message, "no earlier release passed verify") {
		t.Errorf("no verified release = %d %s; want 404 not_found naming why", code, b)
	}
	if code, _, b := e.call("GET", path+"?strategy=later", pipeline, nil); code != http.StatusBadRequest {
		t.Errorf("strategy=later = %d %s; want 400", code, b)
	}
	if code, _, b := e.call("GET", path+"?commit="+strings.Repeat("0", 40), pipeline, nil); code != http.StatusNotFound {
		t.Errorf("a commit no Plan names = %d %s; want 404", code, b)
	}
	if code, _, b := e.call("GET", path+"?commit=0000", pipeline, nil); code != http.StatusBadRequest {
		t.Errorf("a commit that is not one = %d %s; want 400", code, b)
	}
	// Emergency: no target asked, the approved restart command.
	code, _, b = e.call("GET", path+"?strategy=emergency", pipeline, nil)
	em := decode[api.RollbackTarget](t, b)
	if code != http.StatusOK || em.Target != nil || !slices.Equal(em.Restart, []string{"pm2", "restart", "localizevideos-app", "--update-env"}) ||
		em.Release.Service != "localizevideos-app" || em.Release.Environment != "production" {
		t.Errorf("strategy=emergency = %d %s", code, b)
	}

	// An earlier release of the service at another commit passed verify
	// (and a later one was only a dry run): it is the target, without a
	// build output to restore.
	verify := func(id, commit string, dryRun bool, at time.Time) string {
		d := &engine.Decision{ID: gate.NewID("dec", at), Gate: "verify", Allow: true, Reason: engine.ReasonAllow, DryRun: dryRun, EvaluatedAt: at,
			Release: engine.Release{ID: id, Service: "localizevideos-app", Environment: "production", Commit: commit}}
		body, err := json.Marshal(gate.Record{Decision: d})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.db.RecordDecision(context.Background(), at, store.Decision{ID: d.ID, ReleaseID: id, Service: "localizevideos-app",
			Environment: "production", Gate: "verify", Allow: true, DryRun: dryRun, Reason: d.Reason, EvaluatedAt: at, Body: body}, nil, nil); err != nil {
			t.Fatal(err)
		}
		return d.ID
	}
	prev := strings.Repeat("a", 40)
	want := verify("lv-2026-11-25.1", prev, false, deployAt.Add(-2*time.Hour))
	verify("lv-2026-11-25.2", strings.Repeat("b", 40), true, deployAt.Add(-time.Hour))
	for _, role := range []string{auth.RolePipeline, auth.RoleApprover} {
		code, _, b = e.call("GET", path, e.tokens[role], nil)
		got := decode[api.RollbackTarget](t, b)
		if code != http.StatusOK || got.Target == nil || got.Target.ID != "lv-2026-11-25.1" || got.Target.Commit != prev || got.Target.Decision != want ||
			got.Artifact != nil || !strings.Contains(got.ArtifactError, "no passed Build") || len(got.Restart) == 0 || got.Release.ID != rel {
			t.Errorf("%s: rollback target = %d %s; want lv-2026-11-25.1 @ %s by %s, no artifact", role, code, b, prev, want)
		}
	}
}
