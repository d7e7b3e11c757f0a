package cmd_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/cmd"
)

// `audit verify` on a copy nobody may write (an auditor's): it verifies,
// creates no -wal or -shm file, and leaves the ledger's bytes and time.
// Root ignores permission bits, so the copy is made immutable (chattr +i)
// when the test runs as root.
func TestAuditVerifyReadOnlyCopy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "copy")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ledger.db")
	recordDecisions(t, path)
	lock := func(p string) {
		if os.Geteuid() != 0 {
			mode := os.FileMode(0o444)
			if p == dir {
				mode = 0o555
			}
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(p, 0o755) })
			return
		}
		if out, err := exec.Command("chattr", "+i", p).CombinedOutput(); err != nil {
			t.Skipf("root ignores permission bits, and chattr +i %s: %v: %s", p, err, out)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", p).Run() })
	}
	lock(path)
	lock(dir)
	state := func() string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, e := range entries {
			fi, _ := e.Info()
			b.WriteString(e.Name() + " " + fi.ModTime().String() + "\n")
		}
		data, _ := os.ReadFile(path)
		return b.String() + string(data)
	}
	before := state()
	var out, errb bytes.Buffer
	code := cmd.Execute(context.Background(), []string{"audit", "verify", "--store", path}, cmd.Streams{Out: &out, Err: &errb})
	if code != 0 || !strings.HasPrefix(out.String(), "ledger intact: ") {
		t.Fatalf("audit verify of a read-only copy = exit %d, %q, %q; want intact", code, out.String(), errb.String())
	}
	if state() != before {
		t.Error("audit verify changed the read-only copy's directory or ledger")
	}
}
