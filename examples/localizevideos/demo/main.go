// Command demo runs the LocalizeVideos example with the shipgate binary,
// printing each command as a user would type it and what it printed:
//
//  1. the release story, in one ledger on the embedded SQLite default: a
//     deploy denied for want of an approval (a production violation), then
//     allowed, verified and completed; an emergency release that owes a
//     postmortem; the postmortem that closes both; a signed checkpoint and
//     the audit that verifies the ledger against it;
//
//  2. the gallery: every example case (each forbidden action, the freeze,
//     the emergency path, a failed verification, flag strategies), each in
//     a ledger of its own, its exit code checked against the case.
//
//     go run ./examples/localizevideos/demo -shipgate bin/shipgate
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/examples/cases"
)

func main() {
	bin := flag.String("shipgate", "bin/shipgate", "the shipgate binary")
	root := flag.String("cases", "examples/localizevideos/evidence", "folder of example cases")
	work := flag.String("work", ".demo", "working directory for the story's ledger (emptied first)")
	flag.Parse()
	d, err := newDemo(*bin, *root, *work)
	if err == nil {
		err = d.gallery()
	}
	if err == nil {
		err = d.story()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type demo struct {
	bin, root, work string
	// trust are the flags that trust the EXAMPLE keys the example evidence
	// is signed with (evidence add, status); gate the flags of a gate: the
	// keys, and the examples' data overlay, which binds alice and bob to
	// theirs.
	trust, gate []string
}

func newDemo(bin, root, work string) (*demo, error) {
	var err error
	d := &demo{}
	if d.bin, err = filepath.Abs(bin); err != nil {
		return nil, err
	}
	if d.root, err = filepath.Abs(root); err != nil {
		return nil, err
	}
	if d.work, err = filepath.Abs(work); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(d.work); err != nil {
		return nil, err
	}
	d.trust = []string{"--trusted-key", filepath.Join(filepath.Dir(d.root), "keys")}
	d.gate = append(slices.Clone(d.trust), "--data", "+"+filepath.Join(filepath.Dir(d.root), "example-data.yaml"))
	return d, os.MkdirAll(d.work, 0o755)
}

// run runs shipgate in dir, shows the command (paths relative to the
// repository) and its output, and requires the exit code want.
func (d *demo) run(dir string, want int, args ...string) (string, error) {
	shown := strings.ReplaceAll(strings.Join(args, " "), d.root+"/", "$EX/")
	shown = strings.ReplaceAll(shown, filepath.Dir(d.root)+"/", "$EX/../")
	fmt.Printf("\n$ shipgate %s\n", shown)
	cmd := exec.Command(d.bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	os.Stdout.Write(out)
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return "", err
		}
		code = ee.ExitCode()
	}
	if code != want {
		return string(out), fmt.Errorf("shipgate %s: exit %d; want %d", shown, code, want)
	}
	fmt.Printf("(exit %d)\n", code)
	return string(out), nil
}

var openedRE = regexp.MustCompile(`\b((?:vio|obl)_[0-9a-z]{26}) opened`)

func (d *demo) story() error {
	ex := func(p ...string) string { return filepath.Join(append([]string{d.root}, p...)...) }
	a := func(f string) string { return ex("allowed", f) }
	w := d.work
	fmt.Printf("\n## The LocalizeVideos release, recorded in one ledger (in %s)\n", d.work)
	steps := []struct {
		want int
		args []string
	}{
		{0, []string{"init", "--service", "localizevideos-app"}},
		{0, append([]string{"evidence", "add", a("plan.json"), a("incidents.json"), a("build.json"), a("deploy-requested.json")}, d.trust...)},
	}
	for _, s := range steps {
		if _, err := d.run(w, s.want, s.args...); err != nil {
			return err
		}
	}
	fmt.Println("\n# Nobody approved the deploy yet: the gate denies and opens a production violation.")
	out, err := d.run(w, 1, append([]string{"gate", "deploy", "--release", "lv-2026-11-26.1", "--now", "2026-11-26T10:05:00Z"}, d.gate...)...)
	if err != nil {
		return err
	}
	var ids []string
	for _, m := range openedRE.FindAllStringSubmatch(out, -1) {
		ids = append(ids, m[1])
	}
	fmt.Println("\n# alice approves; the release goes through every gate.")
	for _, s := range []struct {
		want int
		args []string
	}{
		{0, append([]string{"evidence", "add", a("approval.json")}, d.trust...)},
		{0, append([]string{"gate", "deploy", "--release", "lv-2026-11-26.1", "--now", "2026-11-26T10:05:00Z"}, d.gate...)},
		{0, append([]string{"evidence", "add", a("deploy.json"), a("verification.json")}, d.trust...)},
		{0, append([]string{"gate", "verify", "--release", "lv-2026-11-26.1", "--now", "2026-11-26T10:12:00Z"}, d.gate...)},
		{0, append([]string{"evidence", "add", a("monitoring.json")}, d.trust...)},
		{0, append([]string{"gate", "complete", "--release", "lv-2026-11-26.1", "--now", "2026-11-26T10:30:00Z"}, d.gate...)},
		{0, append([]string{"status", "--release", "lv-2026-11-26.1"}, d.trust...)},
	} {
		if _, err := d.run(w, s.want, s.args...); err != nil {
			return err
		}
	}
	fmt.Println("\n# Friday evening, SEV-1 INC-42 is open and the weekend freeze is on: an emergency hotfix, approved by bob, owes a postmortem.")
	if _, err := d.run(w, 0, append([]string{"evidence", "add", ex("emergency")}, d.trust...)...); err != nil {
		return err
	}
	out, err = d.run(w, 0, append([]string{"gate", "deploy", "--release", "lv-2026-11-27.1", "--now", "2026-11-27T19:30:00Z"}, d.gate...)...)
	if err != nil {
		return err
	}
	for _, m := range openedRE.FindAllStringSubmatch(out, -1) {
		ids = append(ids, m[1])
	}
	if len(ids) != 2 {
		return fmt.Errorf("want one violation and one obligation opened, got %v", ids)
	}
	if _, err := d.run(w, 0, "violations", "list", "--open"); err != nil {
		return err
	}
	fmt.Println("\n# The postmortem of the denied deploy closes its violation; the hotfix's postmortem is still due.")
	pm := filepath.Join(w, "postmortem.json")
	if err := os.WriteFile(pm, postmortem(ids[:1]), 0o644); err != nil {
		return err
	}
	for _, s := range []struct {
		want int
		args []string
	}{
		{0, []string{"postmortem", "add", "postmortem.json"}},
		{0, []string{"audit", "checkpoint", "--out", "checkpoint.json"}},
		{0, []string{"audit", "verify", "--checkpoint", "checkpoint.json"}},
		{0, []string{"violations", "list"}},
	} {
		if _, err := d.run(w, s.want, s.args...); err != nil {
			return err
		}
	}
	return nil
}

func postmortem(ids []string) []byte {
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = fmt.Sprintf("%q", id)
	}
	return fmt.Appendf(nil, `{
  "apiVersion": "shipgate.dev/v1",
  "kind": "Postmortem",
  "release": {"id": "lv-2026-11-26.1", "service": "localizevideos-app", "environment": "production"},
  "subject": {"repository": "localizevideos/app", "commit": "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"},
  "collectedAt": %q,
  "collector": {"name": "manual", "actor": "carol"},
  "data": {
    "violations": [%s],
    "summary": "The deploy gate was called before alice had approved; the pipeline now waits for the approval.",
    "author": "carol",
    "completedAt": %q,
    "actions": [{"description": "make the pipeline wait for the approval before calling the deploy gate", "owner": "dave"}]
  }
}
`, time.Now().UTC().Format(time.RFC3339), strings.Join(quoted, ", "), time.Now().UTC().Format(time.RFC3339))
}

func (d *demo) gallery() error {
	all, err := cases.Load(d.root)
	if err != nil {
		return err
	}
	fmt.Printf("## Every example case, each in a ledger of its own ($EX is %s)\n", d.root)
	steps := 0
	for _, c := range all {
		fmt.Printf("\n### %s: %s\n", c.Name, c.Description)
		ledger := filepath.Join("cases", c.Name+".db")
		if err := os.MkdirAll(filepath.Join(d.work, "cases"), 0o755); err != nil {
			return err
		}
		for _, s := range c.Steps {
			want := 1
			if s.Expect.Allow {
				want = 0
			}
			args := append([]string{"gate", s.Gate, "--release", c.Release, "--now", s.Now.UTC().Format(time.RFC3339),
				"--store", ledger, "--evidence", strings.Join(c.Paths(s), ",")}, d.gate...)
			if _, err := d.run(d.work, want, args...); err != nil {
				return err
			}
			steps++
		}
	}
	fmt.Printf("\n%d cases, %d gate decisions, each as its case expects\n", len(all), steps)
	return nil
}
