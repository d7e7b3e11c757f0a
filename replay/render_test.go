package replay_test

import (
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/replay"
)

func diffReport(n int) replay.DiffReport {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	r := replay.DiffReport{Base: "main:policies", Head: "policies", Report: replay.Report{
		BaseRevision: "sha256:0123456789abcdef0123", HeadRevision: "", Replayed: n, Skipped: map[string]int{"no-plan": 2, "invalid": 1}}}
	for i := range n {
		r.Changes = append(r.Changes, replay.Change{Kind: replay.Denied, Decision: "dec_1|x", Gate: "deploy",
			Release: engine.Release{ID: "lv-1"}, EvaluatedAt: at, Added: []engine.Finding{{Rule: "freeze.window"}}, DryRun: i == 0})
	}
	return r
}

func TestDiffReportText(t *testing.T) {
	var b strings.Builder
	if err := diffReport(1).Write(&b, "text"); err != nil {
		t.Fatal(err)
	}
	want := "policy diff: base main:policies (sha256:0123456789ab) → head policies (-)\n" +
		"replayed 1 decisions (0 dry runs); skipped 3 (1 invalid, 2 no-plan)\n" +
		"answers: 0 evaluated, 0 recorded by the same policy revision on the same input, 0 the base's (the changed rule files answer alike)\n" +
		"1 allow → deny, 0 deny → allow, 0 with other violations\n" +
		"  ALLOW → DENY deploy   lv-1                     2026-11-26T10:00:00Z  dec_1|x  +freeze.window (dry run)\n"
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestDiffReportMarkdownBounded(t *testing.T) {
	var b strings.Builder
	if err := diffReport(replay.MarkdownRows+5).Write(&b, "markdown"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if rows := strings.Count(out, "| allow → **deny**"); rows != replay.MarkdownRows {
		t.Errorf("markdown lists %d changes; want %d", rows, replay.MarkdownRows)
	}
	if !strings.Contains(out, "… and 5 more") {
		t.Errorf("markdown does not say how many changes it left out:\n%s", out[len(out)-200:])
	}
	if !strings.Contains(out, "`dec_1\\|x`") {
		t.Errorf("a | in a cell is not escaped")
	}
}

func TestOwnershipText(t *testing.T) {
	var b strings.Builder
	o := replay.Ownership{Changes: []string{"flags"}, Docs: "docs/release.md"}
	if err := o.WriteText(&b, "main"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "changed since main: flags\n\nrollout data changed (flags) but docs/release.md did not") {
		t.Errorf("ownership text:\n%s", b.String())
	}
}
