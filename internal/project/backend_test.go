package project

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/release"
)

// TestRemoteChoice: a server named or configured turns the command
// remote, a --store given keeps it local, and the flags a server ignores
// are refused.
func TestRemoteChoice(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "shipgate.yaml")
	if err := os.WriteFile(cfg, []byte("server: https://config.example\nservice: web\nenvironment: prod\npolicies: pol\ndata: base.yaml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g := &Settings{ConfigPath: cfg}
	given := map[string]bool{}
	r := &Remote{Token: "t", Settings: g, Given: func(n string) bool { return given[n] }}
	if !r.On() {
		t.Errorf("On() with a config server = false; want true")
	}
	given["timeout"] = true
	if err := r.RefusePolicyFlags(); err == nil || !strings.Contains(err.Error(), "--timeout with --server") {
		t.Errorf("RefusePolicyFlags(--timeout) = %v; want refused", err)
	}
	if _, err := r.Backend(context.Background(), &Store{Settings: g}, BackendOptions{Engine: func(context.Context) (*engine.Engine, error) { return nil, nil }}); err == nil {
		t.Errorf("Backend(--timeout, a server) = nil error; want refused")
	}
	b, err := r.Backend(context.Background(), &Store{Settings: g}, BackendOptions{LocalEv: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.(*release.Remote); !ok {
		t.Errorf("Backend() = %T; want *release.Remote", b)
	}
	given["store"] = true
	if r.On() {
		t.Errorf("On() with --store = true; want false")
	}
	r.Server = "https://flag.example"
	if _, err := r.Client(&Store{Path: "x.db", Settings: g}); err == nil || !strings.Contains(err.Error(), "--store and --server") {
		t.Errorf("Client(--store, --server) = %v; want refused", err)
	}

	rel, err := (&Release{Release: engine.Release{ID: "r1", Service: "api"}, Settings: g}).Resolve()
	if err != nil || rel.Service != "api" || rel.Environment != "prod" {
		t.Errorf("Resolve() = %+v, %v; want the flag's service and the config's environment", rel, err)
	}
	p := &Policy{DataFiles: []string{"+over.yaml"}, Settings: g}
	if err := p.Resolve(); err != nil || p.Dir != "pol" || strings.Join(p.DataPaths(), " ") != "base.yaml +over.yaml" {
		t.Errorf("Resolve() = %v: %q %q; want the config's policies and its data under the overlay", err, p.Dir, p.DataPaths())
	}
}

// TestTokens: the ledger's token table, with the settings' ids.
func TestTokens(t *testing.T) {
	ctx := context.Background()
	g := &Settings{NewID: func(prefix string, _ time.Time) string { return prefix + "1" }}
	st := &Store{Path: filepath.Join(t.TempDir(), "ledger.db"), Settings: g}
	err := st.Tokens(ctx, func(ts *auth.Tokens) error {
		_, tok, err := ts.Create(ctx, "ci", "pipeline", "cli:erin")
		if err == nil && !strings.HasPrefix(tok.ID, "tok") {
			t.Errorf("Create() id = %q; want the settings' id", tok.ID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
