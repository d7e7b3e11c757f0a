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
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewVersionInfo(t *testing.T) {
	deps := []*debug.Module{
		{Path: "github.com/google/cel-go", Version: "v0.31.0"},
		{Path: "github.com/open-policy-agent/opa", Version: "v1.22.3"},
		{Path: "github.com/spf13/cobra", Version: "v1.10.2"},
	}
	settings := []debug.BuildSetting{
		{Key: "GOARCH", Value: "arm64"},
		{Key: "GOOS", Value: "darwin"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"},
		{Key: "vcs.time", Value: "2026-11-26T09:41:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	for _, c := range []struct {
		name     string
		bi       *debug.BuildInfo
		want     versionInfo
		wantText string
	}{
		{
			name: "release build, modified tree",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.0", Deps: deps, Settings: settings},
			want: versionInfo{Version: "1.2.0", Commit: "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e", Modified: true,
				Go: "go1.26.0", Platform: "darwin/arm64", OPA: "v1.22.3", CEL: "v0.31.0"},
			wantText: "shipgate 1.2.0\n" +
				"commit   3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e (modified)\n" +
				"go       go1.26.0 darwin/arm64\n" +
				"opa      v1.22.3\n" +
				"cel-go   v0.31.0\n",
		},
		{
			name: "clean tree",
			bi: &debug.BuildInfo{GoVersion: "go1.26.0", Deps: deps, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"}, {Key: "vcs.modified", Value: "false"}}},
			want: versionInfo{Version: "1.2.0", Commit: "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e", Go: "go1.26.0", OPA: "v1.22.3", CEL: "v0.31.0"},
			wantText: "shipgate 1.2.0\n" +
				"commit   3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e\n" +
				"go       go1.26.0\n" +
				"opa      v1.22.3\n" +
				"cel-go   v0.31.0\n",
		},
		{
			name: "no vcs stamp, replaced modules",
			bi: &debug.BuildInfo{GoVersion: "go1.26.0", Deps: []*debug.Module{
				{Path: "github.com/open-policy-agent/opa", Version: "v1.22.3", Replace: &debug.Module{Path: "github.com/localizevideos/opa", Version: "v1.22.4-lv.1"}},
				{Path: "github.com/google/cel-go", Version: "v0.31.0", Replace: &debug.Module{Path: "../cel-go"}},
			}},
			want: versionInfo{Version: "1.2.0", Go: "go1.26.0", OPA: "v1.22.4-lv.1", CEL: "v0.31.0 (replaced by ../cel-go)"},
			wantText: "shipgate 1.2.0\n" +
				"commit   unknown (the build recorded no git revision)\n" +
				"go       go1.26.0\n" +
				"opa      v1.22.4-lv.1\n" +
				"cel-go   v0.31.0 (replaced by ../cel-go)\n",
		},
		{
			name: "no build information",
			want: versionInfo{Version: "1.2.0", Go: "unknown", OPA: "unknown", CEL: "unknown"},
			wantText: "shipgate 1.2.0\n" +
				"commit   unknown (the build recorded no git revision)\n" +
				"go       unknown\n" +
				"opa      unknown\n" +
				"cel-go   unknown\n",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := newVersionInfo("1.2.0", c.bi)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("newVersionInfo() mismatch (-want +got):\n%s", diff)
			}
			var text bytes.Buffer
			if err := got.writeText(&text); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.wantText, text.String()); diff != "" {
				t.Errorf("writeText() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

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
	var got versionInfo
	if err := json.Unmarshal([]byte(run("version", "-o", "json")), &got); err != nil {
		t.Fatal(err)
	}
	if got.Version != Version {
		t.Errorf("version -o json = %+v; want version %s", got, Version)
	}
	var want bytes.Buffer
	if err := got.writeText(&want); err != nil {
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
	var got versionInfo
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.Version != "1.2.3-test" || got.OPA != required(opaModule) || got.CEL != required(celModule) ||
		got.Go != runtime.Version() || got.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("shipgate version -o json = %+v; want version 1.2.3-test, opa %s, cel %s, %s %s/%s",
			got, required(opaModule), required(celModule), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	text, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("shipgate --version: %v", err)
	}
	var want bytes.Buffer
	if err := got.writeText(&want); err != nil {
		t.Fatal(err)
	}
	if string(text) != want.String() {
		t.Errorf("shipgate --version = %q; want %q", text, want.String())
	}
}
