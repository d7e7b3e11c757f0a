package main

import (
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// TestMakeBuild builds shipgate with `make build`, as a user does, and
// reads back what it stamped: the version git describes and the commit,
// or 0.1.0-dev without git; either way a -trimpath build.
func TestMakeBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds shipgate")
	}
	for _, tool := range []string{"make", "go", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	gitOut := func(args ...string) string {
		out, err := exec.Command("git", args...).Output()
		if err != nil {
			t.Skipf("git %s: %v (not a clone?)", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	describe := gitOut("describe", "--tags", "--always", "--dirty")
	head := gitOut("rev-parse", "HEAD")
	for _, tc := range []struct {
		name        string
		git         string
		wantVersion string
		wantCommit  string // "" when any commit will do (go build may record one itself)
	}{
		{"in a clone", "git", describe, head},
		{"without git", filepath.Join(t.TempDir(), "no-git"), "0.1.0-dev", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := t.TempDir()
			make := exec.Command("make", "-s", "build", "BIN="+bin, "GIT="+tc.git)
			if out, err := make.CombinedOutput(); err != nil {
				t.Fatalf("make build: %v\n%s", err, out)
			}
			exe := filepath.Join(bin, "shipgate")
			out, err := exec.Command(exe, "version", "-o", "json").Output()
			if err != nil {
				t.Fatalf("shipgate version -o json: %v", err)
			}
			var got struct {
				Version  string `json:"version"`
				Commit   string `json:"commit"`
				Modified bool   `json:"modified"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if got.Version != tc.wantVersion || (tc.wantCommit != "" && got.Commit != tc.wantCommit) {
				t.Errorf("shipgate version -o json = %s; want version %q, commit %q", out, tc.wantVersion, tc.wantCommit)
			}
			if tc.wantCommit != "" && got.Modified != strings.HasSuffix(describe, "-dirty") {
				t.Errorf("shipgate version -o json = %s; want modified %t (git describe: %s)", out, !got.Modified, describe)
			}
			text, err := exec.Command(exe, "version").Output()
			if err != nil {
				t.Fatalf("shipgate version: %v", err)
			}
			if !bytes.HasPrefix(text, []byte("shipgate "+tc.wantVersion+"\n")) {
				t.Errorf("shipgate version = %q; want it to begin with shipgate %s", text, tc.wantVersion)
			}
			bi, err := buildinfo.ReadFile(exe)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(bi.Settings, func(s debug.BuildSetting) bool { return s.Key == "-trimpath" && s.Value == "true" }) {
				t.Errorf("make build recorded %v; want -trimpath=true", bi.Settings)
			}
		})
	}
}
