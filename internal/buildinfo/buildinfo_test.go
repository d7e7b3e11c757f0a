package buildinfo

import (
	"bytes"
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNew(t *testing.T) {
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
		want     Info
		wantText string
	}{
		{
			name: "release build, modified tree",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.0", Deps: deps, Settings: settings},
			want: Info{Version: "1.2.0", Commit: "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e", Modified: true,
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
			want: Info{Version: "1.2.0", Commit: "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e", Go: "go1.26.0", OPA: "v1.22.3", CEL: "v0.31.0"},
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
			want: Info{Version: "1.2.0", Go: "go1.26.0", OPA: "v1.22.4-lv.1", CEL: "v0.31.0 (replaced by ../cel-go)"},
			wantText: "shipgate 1.2.0\n" +
				"commit   unknown (the build recorded no git revision)\n" +
				"go       go1.26.0\n" +
				"opa      v1.22.4-lv.1\n" +
				"cel-go   v0.31.0 (replaced by ../cel-go)\n",
		},
		{
			name: "no build information",
			want: Info{Version: "1.2.0", Go: "unknown", OPA: "unknown", CEL: "unknown"},
			wantText: "shipgate 1.2.0\n" +
				"commit   unknown (the build recorded no git revision)\n" +
				"go       unknown\n" +
				"opa      unknown\n" +
				"cel-go   unknown\n",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := New("1.2.0", c.bi)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("New() mismatch (-want +got):\n%s", diff)
			}
			var text bytes.Buffer
			if err := got.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.wantText, text.String()); diff != "" {
				t.Errorf("WriteText() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
