package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/localizevideos/shipgate/evidence"
)

func TestConfigCheck(t *testing.T) {
	token := "sgt_x"
	for _, c := range []struct {
		name string
		cfg  Config
		want string // a part of the error; "" none
	}{
		{name: "empty", cfg: Config{}},
		{name: "names and server", cfg: Config{Service: "localizevideos-app", Environment: "production", Server: "https://shipgate.example"}},
		{name: "token", cfg: Config{Token: &token}, want: "token: an API token does not belong in the config"},
		{name: "bad service", cfg: Config{Service: "../etc"}, want: "service"},
		{name: "bad environment", cfg: Config{Environment: "a b"}, want: "environment"},
		{name: "server not a URL", cfg: Config{Server: "shipgate.example"}, want: `server: "shipgate.example": want an http:// or https:// URL`},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Check("shipgate.yaml")
			switch {
			case c.want == "" && err != nil:
				t.Errorf("Check() = %v; want nil", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "shipgate.yaml: ")):
				t.Errorf("Check() = %v; want shipgate.yaml: ...%s...", err, c.want)
			}
		})
	}
}

// TestInit writes a project in a fresh directory and reads it back: the
// config names the keys it wrote, every public key is trusted, each
// approver's key is bound to them, and a second Init refuses to overwrite.
func TestInit(t *testing.T) {
	t.Chdir(t.TempDir())
	done, err := Init(InitOptions{Service: "localizevideos-app", Environment: "staging", Approvers: []string{"alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if done.Config != ConfigFile || done.CheckpointKey != CheckpointKey || done.CheckpointPublicKey != CheckpointPublicKey {
		t.Errorf("Init() = %+v; want the default locations", done)
	}
	b, err := os.ReadFile(ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	var cfg Config
	if err := yaml.UnmarshalWithOptions(b, &cfg, yaml.Strict()); err != nil {
		t.Fatalf("the config Init wrote does not decode: %v\n%s", err, b)
	}
	if err := cfg.Check(ConfigFile); err != nil {
		t.Error(err)
	}
	if cfg.Service != "localizevideos-app" || cfg.Environment != "staging" || cfg.Store != DefaultStore ||
		cfg.Keys.Private != CheckpointKey || cfg.Keys.Public != CheckpointPublicKey {
		t.Errorf("config = %+v; want the service, environment, store and keys given", cfg)
	}
	if _, err := CheckpointSigner(cfg.Keys.Private); err != nil {
		t.Error(err)
	}
	if _, err := ReadSigner(EvidenceKey); err != nil {
		t.Error(err)
	}
	people, err := People(cfg.People)
	if err != nil || len(people["alice"]) != 1 {
		t.Errorf("People(%v) = %v, %v; want alice's one key id", cfg.People, people, err)
	}
	// checkpoint, evidence and alice's public keys.
	k, err := Keyring(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, pub := range []string{CheckpointPublicKey, EvidencePublicKey, filepath.Join(KeyDir, "alice.pub")} {
		p, err := CheckpointKeyAt(pub)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := k.Key(evidence.KeyID(p)); !ok {
			t.Errorf("Keyring(nil) does not trust %s", pub)
		}
	}
	if _, err := Init(InitOptions{Service: "localizevideos-app"}); err == nil || !strings.Contains(err.Error(), "refusing to overwrite it without --force") {
		t.Errorf("second Init() = %v; want a refusal to overwrite", err)
	}
	if _, err := Init(InitOptions{Force: true, Approvers: []string{"server"}}); err == nil || !strings.Contains(err.Error(), `--approver "server"`) {
		t.Errorf("Init(--approver server) = %v; want server's key refused", err)
	}
}
