package server_test

import (
	"context"
	"encoding/json"
	"github.com/localizevideos/shipgate/api"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/internal/policytest"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/store"
)

// GET /v1/releases/{id}/auto-rollback answers what a watch with
// --auto-rollback --server needs: the server's policy, asked with a probe
// Monitoring, and the hold in force in its ledger. Nothing is recorded.
func TestAutoRollback(t *testing.T) {
	const rel = "lv-2026-11-26.1"
	path := "/v1/releases/" + rel + "/auto-rollback"
	hold := func(action, at string) []byte {
		doc := map[string]any{
			"apiVersion": "shipgate.dev/v1", "kind": "Hold",
			"release":     map[string]string{"id": rel, "service": "localizevideos-app", "environment": "production"},
			"subject":     map[string]string{"repository": "localizevideos/app", "commit": "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"},
			"collectedAt": at, "collector": map[string]string{"name": "shipgate", "actor": "carol"},
			"data": map[string]string{"action": action, "by": "carol", "reason": "the spike is the campaign", "at": at},
		}
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// The default data declares no automation: refused.
	e := newEnv(t)
	pipeline := e.tokens[auth.RolePipeline]
	if code, _, b := e.call("GET", path, pipeline, nil); code != http.StatusNotFound || !strings.Contains(string(b), "no Plan declares it") {
		t.Errorf("a release without a Plan = %d %s; want 404", code, b)
	}
	if code, _, b := e.call("POST", "/v1/evidence", pipeline, example(t, "plan.json")); code != http.StatusOK {
		t.Fatalf("POST /v1/evidence = %d %s", code, b)
	}
	code, _, b := e.call("GET", path, pipeline, nil)
	got := decode[api.AutoRollback](t, b)
	if code != http.StatusOK || got.Allowed || len(got.Refused) != 1 || got.Refused[0].Rule != "automation.auto-rollback" ||
		got.Hold != nil || got.Release.Repository != "localizevideos/app" {
		t.Errorf("default data = %d %s; want refused by automation.auto-rollback, no hold", code, b)
	}
	if code, _, b := e.call("GET", path+"?window=soon", pipeline, nil); code != http.StatusBadRequest {
		t.Errorf("window=soon = %d %s; want 400", code, b)
	}

	// Data that declares the capability allows it; a hold is reported
	// until it is lifted.
	raw, err := os.ReadFile(filepath.Join("..", "examples", "localizevideos", "watch-demo-data.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	over, err := policyset.ReadData("watch-demo-data.yaml", raw)
	if err != nil {
		t.Fatal(err)
	}
	opts := engineOptions()
	opts.Data = policyset.MergeData(policytest.Data(t), over)
	eng, err := engine.Load(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	e = newEnv(t, func(o *envOptions) { o.engine = eng })
	pipeline = e.tokens[auth.RolePipeline]
	carol := e.token("carol", auth.RoleApprover)
	if code, _, b := e.call("POST", "/v1/evidence", pipeline, example(t, "plan.json")); code != http.StatusOK {
		t.Fatalf("POST /v1/evidence = %d %s", code, b)
	}
	// A pipeline cannot hold for carol; a Hold in the ledger that is not
	// carol's (written past the API) holds nothing.
	before := e.head()
	if code, _, b := e.call("POST", "/v1/evidence", pipeline, hold("place", "2026-11-26T10:06:00Z")); code != http.StatusForbidden {
		t.Fatalf("a pipeline's Hold = %d %s; want 403", code, b)
	}
	if e.head() != before {
		t.Error("a refused Hold was recorded")
	}
	forged, err := evidence.NewValidator(mustCompile(t), evidence.DefaultLimits).Decode("forged hold", hold("place", "2026-11-26T10:05:30Z"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.AddEvidence(context.Background(), deployAt, []store.Evidence{gate.StoreEvidence(forged)}); err != nil {
		t.Fatal(err)
	}
	code, _, b = e.call("GET", path+"?window=3s", pipeline, nil)
	if got = decode[api.AutoRollback](t, b); code != http.StatusOK || !got.Allowed || got.Hold != nil {
		t.Errorf("an unauthenticated Hold in the ledger = %d %s; want allowed, no hold", code, b)
	}
	// carol holds with her approver token: the server records it.
	if code, _, b := e.call("POST", "/v1/releases/"+rel+"/holds", carol, map[string]string{"reason": "the spike is the campaign"}); code != http.StatusCreated {
		t.Fatalf("POST holds = %d %s", code, b)
	}
	for _, role := range []string{auth.RolePipeline, auth.RoleApprover} {
		code, _, b = e.call("GET", path+"?window=3s", e.tokens[role], nil)
		got = decode[api.AutoRollback](t, b)
		if code != http.StatusOK || !got.Allowed || len(got.Refused) != 0 || got.Hold == nil || got.Hold.By != "carol" || got.Hold.Digest == "" {
			t.Errorf("%s: capability declared, held = %d %s; want allowed, held by carol", role, code, b)
		}
	}
	e.clock.Set(deployAt.Add(time.Minute))
	if code, _, b := e.call("POST", "/v1/releases/"+rel+"/holds", carol, map[string]string{"action": "lift"}); code != http.StatusCreated {
		t.Fatalf("POST holds (lift) = %d %s", code, b)
	}
	head := e.head()
	code, _, b = e.call("GET", path, pipeline, nil)
	if got = decode[api.AutoRollback](t, b); code != http.StatusOK || !got.Allowed || got.Hold != nil {
		t.Errorf("hold lifted = %d %s; want allowed, no hold", code, b)
	}
	if e.head() != head {
		t.Error("asking recorded something")
	}
}

// POST /v1/releases/{id}/holds records a Hold as the approver token's
// person, which GET .../auto-rollback then reports, until it is lifted.
func TestHolds(t *testing.T) {
	const rel = "lv-2026-11-26.1"
	e := newEnv(t)
	approver := e.tokens[auth.RoleApprover]
	path := "/v1/releases/" + rel + "/holds"
	body := func(s string) []byte { return []byte(s) }
	if code, _, b := e.call("POST", path, approver, body(`{"reason": "campaign"}`)); code != http.StatusConflict {
		t.Errorf("hold without a Plan = %d %s; want 409", code, b)
	}
	if code, _, b := e.call("POST", "/v1/evidence", e.tokens[auth.RolePipeline], example(t, "plan.json")); code != http.StatusOK {
		t.Fatalf("POST /v1/evidence = %d %s", code, b)
	}
	for name, c := range map[string]struct {
		body string
		code int
	}{
		"no reason":      {`{"action": "place"}`, http.StatusBadRequest},
		"unknown action": {`{"action": "pause", "reason": "x"}`, http.StatusBadRequest},
		"another name":   {`{"reason": "x", "by": "someone-else"}`, http.StatusForbidden},
		"unknown member": {`{"reason": "x", "until": "never"}`, http.StatusBadRequest},
	} {
		if code, _, b := e.call("POST", path, approver, body(c.body)); code != c.code {
			t.Errorf("%s: %d %s; want %d", name, code, b, c.code)
		}
	}
	code, _, b := e.call("POST", path, approver, body(`{"reason": "the spike is the campaign"}`))
	placed := decode[api.HoldResult](t, b)
	if code != http.StatusCreated || placed.Action != api.HoldPlace || placed.Before != nil || placed.After == nil || placed.After.By != placed.By || placed.After.Digest != placed.Digest {
		t.Fatalf("place = %d %s; want 201 and the hold in force after", code, b)
	}
	if _, _, b := e.call("GET", "/v1/releases/"+rel+"/auto-rollback", approver, nil); decode[api.AutoRollback](t, b).Hold == nil {
		t.Errorf("auto-rollback after a hold: %s; want the hold", b)
	}
	// A lift at the very instant of the placement ties, and a tie holds:
	// lift a minute later.
	e.clock.Set(deployAt.Add(time.Minute))
	code, _, b = e.call("POST", path, approver, body(`{"action": "lift"}`))
	lifted := decode[api.HoldResult](t, b)
	if code != http.StatusCreated || lifted.Before == nil || lifted.Before.Digest != placed.Digest || lifted.After != nil {
		t.Fatalf("lift = %d %s; want 201, the hold before and none after", code, b)
	}
}
