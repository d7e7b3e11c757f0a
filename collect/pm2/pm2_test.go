package pm2

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	b, err := os.ReadFile("testdata/jlist.json")
	if err != nil {
		t.Fatal(err)
	}
	want := []Process{
		{Name: "localizevideos-app", PMID: 0, PID: 4242, Status: "online", Restarts: 2,
			StartedAt: time.UnixMilli(1795681667257).UTC(), Cwd: "/srv/localizevideos/app",
			ExecPath: "/srv/localizevideos/app/server.js", Version: "1.0.0", Revision: "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"},
		{Name: "worker", PMID: 1, Status: "stopped", Cwd: "/srv/worker", ExecPath: "/srv/worker/w.js"},
	}
	for name, in := range map[string][]byte{
		"plain":       b,
		"with banner": append([]byte("[PM2] Spawning PM2 daemon with pm2_home=/tmp/x\n[PM2] PM2 Successfully daemonized\n"), b...),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := Parse(in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
			// Nothing of the environment may survive, in any form.
			out, _ := json.Marshal(got)
			if strings.Contains(string(out), "SECRET") || strings.Contains(string(out), "PORT") {
				t.Errorf("the environment leaked: %s", out)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":        "",
		"banner only":  "[PM2] Spawning PM2 daemon\n",
		"not an array": `{"name":"x"}`,
		"no pm2_env":   `[{"name":"x","pm_id":0}]`,
		"no name":      `[{"pm_id":0,"pm2_env":{}}]`,
		"truncated":    `[{"name":"x","pm_id":0,"pm2_env":{`,
	} {
		if got, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q) = %v, nil; want an error", name, got)
		}
	}
}

// A PM2 home without a running daemon is an error, never an empty list.
func TestListDaemonNotRunning(t *testing.T) {
	home := t.TempDir()
	c := &Client{Bin: "/bin/false", Home: home}
	if _, err := c.List(context.Background()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("List without pm2.pid = %v; want ErrNotRunning", err)
	}
	// A stale pid file: the process is gone.
	if err := os.WriteFile(home+"/pm2.pid", []byte("999999999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(context.Background()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("List with a stale pid = %v; want ErrNotRunning", err)
	}
}

// A pm2 that fails is an error.
func TestListCommandFails(t *testing.T) {
	c := &Client{Bin: "/bin/false"}
	if _, err := c.List(context.Background()); err == nil {
		t.Fatal("List with a failing pm2 = nil error")
	}
}
