package cmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/cmd"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/replay"
	"github.com/localizevideos/shipgate/replay/replaytest"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// policyRepo makes a git repository in a temporary directory with the
// project's policies (each .rego passed through edit), a release document
// and a shipgate.yaml naming them, all committed; then it records a
// history of releases decided by those policies into ledger.db (not
// committed). It returns the directory and the recorded decisions.
func policyRepo(t *testing.T, edit func(src []byte) []byte) (string, []replaytest.Step) {
	t.Helper()
	dir := t.TempDir()
	pol := filepath.Join(dir, "policies")
	if err := os.CopyFS(pol, os.DirFS("../policies")); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(pol, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") || edit == nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(p, edit(b), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "docs", "RELEASE.md"), "# Release\n\nManual, controlled releases.\n")
	// The recorded releases are signed with the EXAMPLE keys: trusted here
	// (.shipgate/keys), alice's bound to her in the config.
	for _, n := range []string{keys.EvidenceKey, keys.AliceKey} {
		b, err := os.ReadFile(filepath.Join("..", "examples", "localizevideos", "keys", n+".pub"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, ".shipgate", "keys", n+".pub"), string(b))
	}
	writeFile(t, filepath.Join(dir, "shipgate.yaml"), "store: ledger.db\npolicies: policies\ndocs: docs/RELEASE.md\npeople:\n  alice: [.shipgate/keys/"+keys.AliceKey+".pub]\n")
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"policies", "docs", "shipgate.yaml"} {
		if _, err := wt.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	sig := &object.Signature{Name: "dave", Email: "dave@localizevideos.com", When: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	if _, err := wt.Commit("policies", &git.CommitOptions{Author: sig, Committer: sig}); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	eng, err := engine.Load(ctx, engine.Options{Policies: os.DirFS(pol), People: keys.People()})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	steps := replaytest.Record(t, &gate.Gate{Engine: eng, Validator: evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring()), Store: db}, 90)
	if len(steps) < 200 {
		t.Fatalf("recorded %d decisions; want at least 200", len(steps))
	}
	t.Chdir(dir)
	return dir, steps
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run executes shipgate in the current directory and returns its exit
// code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cmd.Execute(context.Background(), args, cmd.Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

type diffJSON struct {
	BaseRevision  string           `json:"baseRevision"`
	HeadRevision  string           `json:"headRevision"`
	Replayed      int              `json:"replayed"`
	Skipped       map[string]int   `json:"skipped"`
	Changes       []replay.Change  `json:"changes"`
	Documentation replay.Ownership `json:"documentation"`
}

func TestPolicyDiffFreezeTightening(t *testing.T) {
	dir, steps := policyRepo(t, nil)
	// A one-off freeze window over part of the recorded history.
	start := replaytest.Start.AddDate(0, 0, 30).Add(8 * time.Hour)
	end := start.Add(9 * 24 * time.Hour)
	data := filepath.Join(dir, "policies", "shipgate", "config", "data.yaml")
	b, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	window := "  calendar:\n    - id: db-migration\n      name: Database migration\n      reason: primary database moves\n" +
		"      start: \"" + start.Format(time.RFC3339) + "\"\n      end: \"" + end.Format(time.RFC3339) + "\"\n"
	tightened := strings.Replace(string(b), "  calendar:\n", window, 1)
	if tightened == string(b) {
		t.Fatal("data.yaml has no freeze calendar to extend")
	}
	writeFile(t, data, tightened)

	// Expected, independently of replay: the allowed deploys recorded inside the window.
	var want []string
	allowedDeploys := 0
	for _, s := range steps {
		if s.Gate == "deploy" && s.Decision.Allow {
			allowedDeploys++
			if !s.Now.Before(start) && s.Now.Before(end) {
				want = append(want, s.Decision.ID)
			}
		}
	}
	if len(want) == 0 || len(want) == allowedDeploys {
		t.Fatalf("window covers %d of %d allowed deploys; want some, not all", len(want), allowedDeploys)
	}
	slices.Sort(want)

	var first string
	for range 2 {
		code, out, stderr := run(t, "policy", "diff", "--base", "HEAD", "--output", "json")
		if code != cmd.ExitDeny {
			t.Fatalf("policy diff exited %d; want 1\n%s\n%s", code, stderr, out)
		}
		if first == "" {
			first = out
		} else if out != first {
			t.Errorf("a second run printed something else:\n%s", cmp.Diff(first, out))
		}
	}
	var rep diffJSON
	if err := json.Unmarshal([]byte(first), &rep); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range rep.Changes {
		switch c.Kind {
		case replay.Denied:
			got = append(got, c.Decision)
			if c.Gate != "deploy" || len(c.Added) != 1 || c.Added[0].Rule != "freeze.hard-window" {
				t.Errorf("change %s: gate %s, added %v; want deploy, freeze.hard-window", c.Decision, c.Gate, c.Added)
			}
		case replay.Allowed:
			t.Errorf("tightening the freeze allowed %s", c.Decision)
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("allow → deny decisions (-want +got):\n%s", diff)
	}
	if rep.Replayed != len(steps) {
		t.Errorf("replayed %d; want %d", rep.Replayed, len(steps))
	}
	wantDoc := replay.Ownership{Changes: []string{"freeze.calendar"}, Docs: "docs/RELEASE.md"}
	if diff := cmp.Diff(wantDoc, rep.Documentation); diff != "" {
		t.Errorf("documentation (-want +got):\n%s", diff)
	}

	// Accepted, the tightening passes; text and Markdown name the releases.
	if code, _, stderr := run(t, "policy", "diff", "--base", "HEAD", "--accept"); code != 0 {
		t.Errorf("policy diff --accept exited %d; want 0\n%s", code, stderr)
	}
	_, md, _ := run(t, "policy", "diff", "--base", "HEAD", "--output", "markdown")
	for _, c := range rep.Changes {
		if c.Kind == replay.Denied && !strings.Contains(md, "| allow → **deny** | deploy | `"+c.Release.ID+"` |") {
			t.Errorf("markdown lacks a row for %s:\n%s", c.Release.ID, md)
		}
	}
	if !strings.Contains(md, "`docs/RELEASE.md` did not") {
		t.Errorf("markdown does not flag the release document:\n%s", md)
	}

	// The freeze changed without the release document: review fails until it changes.
	if code, out, _ := run(t, "policy", "review", "--base", "HEAD"); code != cmd.ExitDeny || !strings.Contains(out, "freeze.calendar") {
		t.Errorf("policy review exited %d; want 1 naming freeze.calendar\n%s", code, out)
	}
	writeFile(t, filepath.Join(dir, "docs", "RELEASE.md"), "# Release\n\nManual releases; frozen during the database migration.\n")
	if code, out, stderr := run(t, "policy", "review", "--base", "HEAD"); code != 0 {
		t.Errorf("policy review after updating the document exited %d; want 0\n%s%s", code, out, stderr)
	}
}

// indent re-indents Rego with four spaces instead of tabs and leaves blank
// lines behind: the same rules, formatted differently.
func indent(src []byte) []byte {
	lead := regexp.MustCompile(`(?m)^\t+`)
	out := lead.ReplaceAllFunc(src, func(tabs []byte) []byte { return bytes.Repeat([]byte("    "), len(tabs)) })
	return append(out, "\n\n"...)
}

func TestPolicyDiffFormattingOnly(t *testing.T) {
	_, steps := policyRepo(t, indent)
	code, out, _ := run(t, "policy", "fmt", "--check")
	if code != cmd.ExitDeny || !strings.Contains(out, filepath.Join("policies", "shipgate", "gates", "deploy", "deploy.rego")) {
		t.Fatalf("policy fmt --check exited %d; want 1 listing the re-indented files\n%s", code, out)
	}
	if code, _, stderr := run(t, "policy", "fmt"); code != 0 {
		t.Fatalf("policy fmt exited %d\n%s", code, stderr)
	}
	if code, out, _ := run(t, "policy", "fmt", "--check"); code != 0 || out != "" {
		t.Fatalf("policy fmt --check after formatting exited %d; want 0 and nothing listed\n%s", code, out)
	}
	var outs []string
	for range 2 {
		code, out, stderr := run(t, "policy", "diff", "--base", "HEAD", "--output", "json")
		if code != 0 {
			t.Fatalf("policy diff exited %d; want 0\n%s", code, stderr)
		}
		outs = append(outs, out)
	}
	if outs[0] != outs[1] {
		t.Errorf("a second run printed something else:\n%s", cmp.Diff(outs[0], outs[1]))
	}
	var rep diffJSON
	if err := json.Unmarshal([]byte(outs[0]), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Changes) != 0 || rep.Replayed != len(steps) || len(rep.Documentation.Changes) != 0 {
		t.Errorf("formatting only: %d changes, %d of %d replayed, rollout changes %v; want none, all, none",
			len(rep.Changes), rep.Replayed, len(steps), rep.Documentation.Changes)
	}
	if rep.BaseRevision == rep.HeadRevision {
		t.Errorf("both revisions are %s: the formatting did not change the sources", rep.BaseRevision)
	}
	_, text, _ := run(t, "policy", "diff", "--base", "HEAD")
	if !strings.Contains(text, "0 allow → deny, 0 deny → allow, 0 with other violations") {
		t.Errorf("text output:\n%s", text)
	}
}
