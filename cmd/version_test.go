package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"

	"github.com/localizevideos/shipgate/internal/buildinfo"
)

// TestVersionCommand runs `version`, `version -o json` and `--version`:
// the three agree. (A test binary records no dependencies in its build
// information; TestVersionBinary checks the versions of a real build.)
func TestVersionCommand(t *testing.T) {
	run := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := Execute(context.Background(), args, Streams{Out: &out, Err: &errOut}); code != ExitAllow || errOut.Len() > 0 {
			t.Fatalf("shipgate %q exited %d: %s", args, code, errOut.String())
		}
		return out.String()
	}
	var got buildinfo.Info
	if err := json.Unmarshal([]byte(run("version", "-o", "json")), &got); err != nil {
		t.Fatal(err)
	}
	if got.Version != Version {
		t.Errorf("version -o json = %+v; want version %s", got, Version)
	}
	var want bytes.Buffer
	if err := got.WriteText(&want); err != nil {
		t.Fatal(err)
	}
	if text := run("version"); text != want.String() {
		t.Errorf("version = %q; want %q, the JSON's fields", text, want.String())
	}
	if text := run("--version"); text != want.String() {
		t.Errorf("--version = %q; want what version prints, %q", text, want.String())
	}
}

// TestVersionBinary builds shipgate as a user does, stamping Version with
// -ldflags, and checks what `version -o json` reports against go.mod: the
// OPA and cel-go versions come from the binary's own build information.
func TestVersionBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds shipgate")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command to build shipgate")
	}
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	required := func(path string) string {
		m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(path) + ` (v\S+)`).FindSubmatch(mod)
		if m == nil {
			t.Fatalf("go.mod requires no %s", path)
		}
		return string(m[1])
	}
	bin := filepath.Join(t.TempDir(), "shipgate")
	build := exec.Command("go", "build", "-ldflags", "-X github.com/localizevideos/shipgate/cmd.Version=1.2.3-test", "-o", bin, "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("shipgate version -o json: %v", err)
	}
	var got buildinfo.Info
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.Version != "1.2.3-test" || got.OPA != required(buildinfo.OPAModule) || got.CEL != required(buildinfo.CELModule) ||
		got.Go != runtime.Version() || got.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("shipgate version -o json = %+v; want version 1.2.3-test, opa %s, cel %s, %s %s/%s",
			got, required(buildinfo.OPAModule), required(buildinfo.CELModule), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	text, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("shipgate --version: %v", err)
	}
	var want bytes.Buffer
	if err := got.WriteText(&want); err != nil {
		t.Fatal(err)
	}
	if string(text) != want.String() {
		t.Errorf("shipgate --version = %q; want %q", text, want.String())
	}
}
