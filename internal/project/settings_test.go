package project

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSettingsChoices: the flag, then the environment, then the config,
// then the default, for the ledger, the server and the token.
func TestSettingsChoices(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "shipgate.yaml")
	if err := os.WriteFile(cfg, []byte("store: from-config.db\nserver: https://config.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name               string
		env                map[string]string
		flag               string
		local              bool
		wantStore, wantSrv string
		wantChosen         bool
	}{
		{name: "config", wantStore: "from-config.db", wantSrv: "https://config.example", wantChosen: true},
		{name: "environment", env: map[string]string{"SHIPGATE_STORE": "env.db", "SHIPGATE_SERVER": "https://env.example"},
			wantStore: "env.db", wantSrv: "https://env.example", wantChosen: true},
		{name: "a local ledger named: no config server", env: map[string]string{"SHIPGATE_STORE": "env.db"}, wantStore: "env.db", wantChosen: true},
		{name: "--store given: no config server", local: true, wantStore: "from-config.db", wantChosen: true},
		{name: "flag", flag: "flag", wantStore: "flag", wantSrv: "flag", wantChosen: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := &Settings{ConfigPath: cfg, Getenv: func(k string) string { return c.env[k] }}
			p, chosen, err := g.LedgerLocation(c.flag)
			if err != nil || p != c.wantStore || chosen != c.wantChosen {
				t.Errorf("LedgerLocation(%q) = %q, %v, %v; want %q, %v", c.flag, p, chosen, err, c.wantStore, c.wantChosen)
			}
			if u, err := g.Server(c.flag, c.local); err != nil || u != c.wantSrv {
				t.Errorf("Server(%q, %v) = %q, %v; want %q", c.flag, c.local, u, err, c.wantSrv)
			}
		})
	}
	g := &Settings{ConfigPath: filepath.Join(dir, "none.yaml")}
	if _, err := g.Server("", false); err == nil {
		t.Error("Server with a --config that does not exist = nil error; want it reported")
	}
	g = &Settings{Getenv: func(k string) string { return map[string]string{"SHIPGATE_TOKEN": "sgt_env"}[k] }}
	if got := g.Token(""); got != "sgt_env" {
		t.Errorf("Token(\"\") = %q; want $SHIPGATE_TOKEN", got)
	}
	if got := g.Token("sgt_flag"); got != "sgt_flag" {
		t.Errorf("Token(flag) = %q; want the flag", got)
	}
}

// TestPolicyDir: the flag, then the config's policies, then ./policies.
func TestPolicyDir(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "shipgate.yaml")
	if err := os.WriteFile(cfg, []byte("policies: rego\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		g          *Settings
		flag, want string
	}{
		{&Settings{ConfigPath: cfg}, "mine", "mine"},
		{&Settings{ConfigPath: cfg}, "", "rego"},
		{&Settings{}, "", "policies"},
	} {
		if got, err := c.g.PolicyDir(c.flag); err != nil || got != c.want {
			t.Errorf("PolicyDir(%q) with config %q = %q, %v; want %q", c.flag, c.g.ConfigPath, got, err, c.want)
		}
	}
}
