package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/server"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// slowStore is the real SQLite store whose decision writes wait for the
// test: a decision held in flight.
type slowStore struct {
	*sqlite.DB
	entered chan struct{}
	release chan struct{}
}

func (s *slowStore) RecordDecision(ctx context.Context, now time.Time, d store.Decision, opened []store.Violation, ev []store.Evidence) error {
	close(s.entered)
	<-s.release
	return s.DB.RecordDecision(ctx, now, d, opened, ev)
}

// A decision in flight when shutdown starts is finished, recorded and
// answered; the server stops taking new connections meanwhile.
func TestShutdownFinishesDecisionsInFlight(t *testing.T) {
	e := newEnv(t)
	slow := &slowStore{DB: e.db, entered: make(chan struct{}), release: make(chan struct{})}
	reg, _ := schemas.Compile()
	srv, err := server.New(server.Config{Store: slow, Engine: loadEngine(t), Validator: evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring()),
		Signer: serverSigner(), Clock: e.clock.Now})
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

	if code, _, b := e.call("POST", "/v1/evidence", e.tokens[auth.RolePipeline], docs(t, "plan.json")); code != http.StatusOK {
		t.Fatalf("add the plan = %d %s", code, b)
	}
	e.approve()
	body, _ := json.Marshal(gateBody("dec_inflight", docs(t, "incidents.json", "build.json", "deploy-requested.json")))
	type answer struct {
		code int
		body []byte
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/v1/gates/deploy", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.tokens[auth.RolePipeline])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answered <- answer{resp.StatusCode, b, err}
	}()
	select {
	case <-slow.entered:
	case a := <-answered:
		t.Fatalf("answered before recording: %+v", a)
	case <-time.After(10 * time.Second):
		t.Fatal("the decision never reached the store")
	}
	stop() // SIGTERM, as main delivers it
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 100*time.Millisecond)
		if err != nil {
			break // the listener is closed: shutdown has started
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections after shutdown started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) with a decision in flight", err)
	default:
	}
	close(slow.release)
	a := <-answered
	if a.err != nil || a.code != http.StatusOK {
		t.Fatalf("the decision in flight: %d %s %v; want answered", a.code, a.body, a.err)
	}
	var d engine.Decision
	if err := json.Unmarshal(a.body, &d); err != nil || !d.Allow {
		t.Fatalf("decision %s: %v", a.body, err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve() = %v; want a clean stop", err)
	}
	if rec, err := e.db.Decision(context.Background(), "dec_inflight"); err != nil || !rec.Allow {
		t.Errorf("the decision answered during shutdown is not recorded: %+v, %v", rec, err)
	}
}
