package cmd_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/cmd"
)

// A release id, service, environment, violation or decision id, or actor
// outside its grammar is refused while the flags are parsed: exit 2, the
// flag named, and nothing recorded (the ledger keeps its bytes).
func TestBadNamesRefused(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "ledger.db")
	ctx := context.Background()
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := cmd.Execute(ctx, args, cmd.Streams{In: strings.NewReader(""), Out: &out, Err: &errb,
			Now: func() time.Time { return time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC) }})
		return code, errb.String()
	}
	if code, errs := run("evidence", "add", "--store", db, "../examples/localizevideos/evidence/allowed/plan.json"); code != 0 {
		t.Fatalf("evidence add = %d: %s", code, errs)
	}
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{
		"a path":         "../../etc/passwd",
		"a NUL":          "lv\x00x",
		"a slash":        "lv/x",
		"a newline":      "lv\nx",
		"10 KiB":         strings.Repeat("a", 10<<10),
		"a leading dash": "-lv",
	}
	gate := []string{"gate", "deploy", "--store", db, "--now", "2026-11-26T10:05:00Z", "--actor", "dave"}
	for name, v := range bad {
		for _, args := range [][]string{
			append(gate, "--release", v),
			append(gate, "--release", "lv-2026-11-26.1", "--service", v),
			append(gate, "--release", "lv-2026-11-26.1", "--environment", v),
			append(gate, "--release", "lv-2026-11-26.1", "--commit", v),
			append(gate, "--release", "lv-2026-11-26.1", "--dry-run", "--actor", strings.ReplaceAll(v, "a", " ")+"\n"),
			{"status", "--store", db, "--release", v},
			{"violations", "list", "--store", db, "--release", v},
			{"violations", "show", "--store", db, "--", v},
			{"decision", "show", "--store", db, "--", v},
			{"audit", "export", "--store", db, "--format", "opa-decision-log", "--release", v},
			{"run", "build", "--store", db, "--release", v, "--", "true"},
		} {
			code, errs := run(args...)
			if code != cmd.ExitError || !strings.Contains(errs, ": want ") {
				t.Errorf("shipgate %q (%s) = exit %d, %q; want exit 2 naming the grammar", args, name, code, errs)
			}
		}
	}
	after, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("refused commands changed the ledger file")
	}
	// The flag is named, and the value shown escaped and cut.
	_, errs := run(append(gate, "--release", "lv\x00"+strings.Repeat("a", 10<<10))...)
	if !strings.Contains(errs, `--release "lv\x00aaaa`) || !strings.Contains(errs, "(10243 bytes)") || len(errs) > 400 {
		t.Errorf("the error = %q; want --release named, the NUL escaped, the value cut", errs)
	}
	// A config naming a bad service is refused too.
	cfg := filepath.Join(dir, "shipgate.yaml")
	if err := os.WriteFile(cfg, []byte("service: ../x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, errs := run("--config", cfg, "gate", "deploy", "--store", db, "--release", "lv-2026-11-26.1", "--now", "2026-11-26T10:05:00Z"); code != cmd.ExitError || !strings.Contains(errs, `service "../x": want`) {
		t.Errorf("a config with service ../x = exit %d, %q; want exit 2 naming it", code, errs)
	}
}
