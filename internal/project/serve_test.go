package project

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe: the server is wired from the project's key, policies and
// ledger, refuses a bad session key before it listens, and stops when its
// context ends.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "server.key")
	if err := CreateKey(key, filepath.Join(dir, "server.pub"), io.Discard); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SHIPGATE_SESSION_KEY": "not hex"}
	g := &Settings{Getenv: func(k string) string { return env[k] }}
	o := ServeOptions{Listen: "127.0.0.1:0", SigningKey: key, Policy: &Policy{Settings: g}, Ev: &Evidence{},
		Store: &Store{Path: filepath.Join(dir, "ledger.db"), Settings: g}, Settings: g, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := Serve(context.Background(), o); err == nil || !strings.Contains(err.Error(), "$SHIPGATE_SESSION_KEY") {
		t.Errorf("Serve(a bad session key) = %v; want refused", err)
	}
	if o.Policy.ServerKeys == nil {
		t.Errorf("Serve() left the engine's server keys empty; want its own key")
	}
	delete(env, "SHIPGATE_SESSION_KEY")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.Log = slog.New(slog.NewTextHandler(cancelOn{"listening", cancel}, nil))
	if err := Serve(ctx, o); err != nil {
		t.Errorf("Serve(), ended once listening = %v; want nil", err)
	}
}

// cancelOn is a log that cancels when a line says what.
type cancelOn struct {
	what   string
	cancel context.CancelFunc
}

func (c cancelOn) Write(b []byte) (int, error) {
	if strings.Contains(string(b), c.what) {
		c.cancel()
	}
	return len(b), nil
}
