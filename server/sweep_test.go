package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/server"
	"github.com/localizevideos/shipgate/store"
)

// recordDeploy adds the example's succeeded Deploy as one of release,
// finished at finished, to the ledger outside any gate, as a pipeline that
// deploys and never verifies would; it returns its digest.
func recordDeploy(t *testing.T, e *env, v *evidence.Validator, release string, finished time.Time) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(keys.Open(example(t, "deploy.json")), &m); err != nil {
		t.Fatal(err)
	}
	m["release"].(map[string]any)["id"] = release
	m["collectedAt"] = finished.Format(time.RFC3339Nano)
	data := m["data"].(map[string]any)
	data["startedAt"], data["finishedAt"] = finished.Add(-8*time.Second).Format(time.RFC3339Nano), finished.Format(time.RFC3339Nano)
	b, _ := json.Marshal(m)
	// Signed again, as the example is: an unsigned Deploy does not count.
	b, err := keys.Seal(b)
	if err != nil {
		t.Fatal(err)
	}
	d, err := v.Decode(release+"/deploy.json", b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.AddEvidence(context.Background(), finished, []store.Evidence{gate.StoreEvidence(d)}); err != nil {
		t.Fatal(err)
	}
	return d.Digest
}

// waitViolation polls the ledger for the violation id, for at most 10s.
func waitViolation(t *testing.T, e *env, id string) store.Violation {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
		if v, err := e.db.Violation(context.Background(), id); err == nil {
			return v
		}
	}
	t.Fatalf("violation %s was never opened", id)
	return store.Violation{}
}

// The server sweeps by itself: a deploy nobody verified is found without
// any request, logged and recorded; however often it sweeps, one
// violation per deploy.
func TestServeSweepsPeriodically(t *testing.T) {
	e := newEnv(t)
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	v := evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring())
	first := recordDeploy(t, e, v, "lv-2026-11-26.1", deployAt)
	second := recordDeploy(t, e, v, "lv-2026-11-26.2", deployAt.Add(time.Hour))
	e.clock.Set(deployAt.Add(31 * time.Minute))

	var logs syncBuffer
	srv, err := server.New(server.Config{Store: e.db, Engine: loadEngine(t), Validator: v, Signer: serverSigner(), Clock: e.clock.Now,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)), SweepInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	vio := waitViolation(t, e, gate.SkippedViolationID(first))
	if vio.Status != store.StatusOpen || vio.Gate != gate.SweepGate || vio.Actor != server.SweepActor || vio.ReleaseID != "lv-2026-11-26.1" {
		t.Errorf("violation = %+v", vio)
	}
	// The second deploy's deadline passes: the loop, still sweeping, finds
	// it, and the first is not found again meanwhile.
	e.clock.Set(deployAt.Add(time.Hour + 31*time.Minute))
	waitViolation(t, e, gate.SkippedViolationID(second))
	stop()
	if err := <-served; err != nil {
		t.Fatalf("Serve() = %v; want a clean stop", err)
	}
	ds, err := e.db.ServiceDecisions(context.Background(), "", gate.SweepGate)
	if err != nil || len(ds) != 2 {
		t.Fatalf("sweep decisions = %d, %v; want one per deploy", len(ds), err)
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"sweep opened a violation","violation":"`+gate.SkippedViolationID(first)+`","rule":"forbidden.skipped-smoke-tests","release":"lv-2026-11-26.1"`) {
		t.Errorf("log lacks the opened violation:\n%s", out)
	}
	if strings.Count(out, "sweep opened a violation") != 2 || strings.Contains(out, `"level":"ERROR"`) {
		t.Errorf("log = %s; want two violations opened and no error", out)
	}
	if _, err := e.db.Verify(context.Background(), nil); err != nil {
		t.Errorf("audit verify: %v", err)
	}
}
