package format

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/engine"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, data, property string
	}{
		{"plain", "no special characters", "no special characters", "no special characters"},
		{"percent", "100% done", "100%25 done", "100%25 done"},
		{"percent first, so escapes stay distinct", "%0A is not a newline", "%250A is not a newline", "%250A is not a newline"},
		{"carriage return", "a\rb", "a%0Db", "a%0Db"},
		{"line feed", "a\nb", "a%0Ab", "a%0Ab"},
		{"CRLF", "a\r\nb", "a%0D%0Ab", "a%0D%0Ab"},
		{"colon", "rule: x", "rule: x", "rule%3A x"},
		{"comma", "a,b", "a,b", "a%2Cb"},
		{"workflow command delimiters", "::error file=a,line=1::m", "::error file=a,line=1::m", "%3A%3Aerror file=a%2Cline=1%3A%3Am"},
		{"everything", "%\r\n:,", "%25%0D%0A:,", "%25%0D%0A%3A%2C"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := escapeData(tc.in); got != tc.data {
				t.Errorf("escapeData(%q) = %q; want %q", tc.in, got, tc.data)
			}
			if got := escapeProperty(tc.in); got != tc.property {
				t.Errorf("escapeProperty(%q) = %q; want %q", tc.in, got, tc.property)
			}
		})
	}
}

func TestCommand(t *testing.T) {
	tests := []struct {
		name string
		c    command
		want string
	}{
		{"message only", command{"notice", nil, "hello"}, "::notice::hello\n"},
		{"title", command{"error", [][2]string{{"title", "forbidden.direct-push"}}, "no"}, "::error title=forbidden.direct-push::no\n"},
		{"empty property left out", command{"warning", [][2]string{{"file", ""}, {"title", "t"}}, "m"}, "::warning title=t::m\n"},
		{"properties escaped", command{"error", [][2]string{{"file", "a,b:c.rego"}, {"line", "3"}, {"title", "x: y"}}, "m"},
			"::error file=a%2Cb%3Ac.rego,line=3,title=x%3A y::m\n"},
		{"multi-line message stays one command", command{"error", [][2]string{{"title", "r"}}, "first line\nfix: second line\r\n::set-env name=X::y"},
			"::error title=r::first line%0Afix: second line%0D%0A::set-env name=X::y\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.String(); got != tc.want {
				t.Errorf("command = %q; want %q", got, tc.want)
			}
			if n := strings.Count(tc.c.String(), "\n"); n != 1 {
				t.Errorf("%d lines; a command is one", n)
			}
		})
	}
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

func TestGitHubDecisions(t *testing.T) {
	tests := []struct {
		name string
		d    *engine.Decision
		want []string // lines, in order, each a prefix
	}{
		{"allow", loadDecision(t, "allow"), []string{
			"::notice title=shipgate deploy gate::ALLOW deploy gate for release lv-2026-11-26.1 (localizevideos-app/production @ 3f2c9a0e5b1d) (dry run): policy.allow",
		}},
		{"deny", loadDecision(t, "deny-incident"), []string{
			"DENY deploy gate for release lv-2026-11-26.1",
			"::error title=forbidden.deploy-during-incident::open SEV-1 incident INC-42 \"Login fails",
			"::notice title=violation opened::vio_",
		}},
		{"warning", loadDecision(t, "warning"), []string{
			"::notice title=shipgate deploy gate::ALLOW",
			"::warning title=change.size::change of 1675 lines (+1260 -415) in 34 files exceeds 400 lines or 20 files%0Afix: split the release",
		}},
		{"overridden", loadDecision(t, "overridden"), []string{
			"::notice title=shipgate deploy gate::ALLOW",
			"::notice title=checklist.error-budget (overridden)::overridden by bob (Override sha256:",
		}},
		{"obligation", loadDecision(t, "emergency"), []string{
			"::notice title=shipgate deploy gate::ALLOW",
			"::warning title=obligation postmortem::postmortem due 2026-12-02T19:30:00Z (freeze.emergency): emergency release for incident INC-42",
		}},
		{"fault", faultDecision(), []string{
			"DENY deploy gate for release r1 (svc/production @ 3f2c9a0e5b1d): engine.runtime-error",
			"::error title=approval.required::no approval%0Afix: ask an approver",
			"::error title=engine.fault::engine.runtime-error: eval_conflict_error%0Afix: fix the policy set",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, sum bytes.Buffer
			if err := GitHubDecisions(&out, &sum, []*engine.Decision{tc.d}); err != nil {
				t.Fatal(err)
			}
			got := lines(out.String())
			if len(got) != len(tc.want) {
				t.Fatalf("%d lines; want %d:\n%s", len(got), len(tc.want), out.String())
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("line %d = %q; want it to start with %q", i+1, got[i], w)
				}
			}
			if !strings.HasPrefix(sum.String(), "## "+verdict(tc.d)+": "+tc.d.Gate+" gate for release `"+tc.d.Release.ID+"`") {
				t.Errorf("summary starts %q", strings.SplitN(sum.String(), "\n", 2)[0])
			}
		})
	}
}

func TestGitHubDecisionsNoSummary(t *testing.T) {
	var out bytes.Buffer
	if err := GitHubDecisions(&out, nil, []*engine.Decision{loadDecision(t, "deny-incident")}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "::error title=forbidden.deploy-during-incident::") {
		t.Errorf("output %q", out.String())
	}
}

func TestGitHubSummaryMarkdown(t *testing.T) {
	var sum bytes.Buffer
	if err := GitHubDecisions(&bytes.Buffer{}, &sum, []*engine.Decision{trickyDecision()}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## DENY: deploy gate for release `r2`\n",
		"### Violations\n\n| Rule | Enforcement | Message | Remediation |\n| --- | --- | --- | --- |\n",
		// | escaped, line breaks as <br/>, HTML escaped, the control character dropped.
		"| `forbidden.direct-push` | hard | deploy by &lt;mallory&gt; at 100% on a\\|b, c: d<br/>second line  &amp; more<br/>::set-env name=X::y | merge to main \\| use the pipeline |\n",
		"### Warnings\n\n| Rule | Enforcement | Message | Remediation |\n| --- | --- | --- | --- |\n| `change.size` | advisory | 1675 lines | split it |\n",
		"### Obligations\n\n| Kind | Rule | Due | Message |\n| --- | --- | --- | --- |\n| postmortem | `freeze.emergency` | 2026-12-01T10:05:00Z | write it, 5 days |\n",
		"### Evidence that did not count\n\n- `binding.commit`: Build ddd (build.json): commit 1 is not abc\n",
	} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
	if strings.ContainsRune(sum.String(), '\x01') || strings.ContainsRune(sum.String(), '\r') {
		t.Errorf("summary has control characters: %q", sum.String())
	}
}

// TestGitHubSummaryAppends writes two summaries to one file opened for
// appending, as the CLI opens $GITHUB_STEP_SUMMARY: nothing is lost.
func TestGitHubSummaryAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	if err := os.WriteFile(path, []byte("# Earlier step\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"deny-incident", "allow"} {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if err := GitHubDecisions(&bytes.Buffer{}, f, []*engine.Decision{loadDecision(t, name)}); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	first, deny, allow := strings.Index(s, "# Earlier step"), strings.Index(s, "## DENY: deploy gate"), strings.Index(s, "## ALLOW: deploy gate")
	if first != 0 || deny < 0 || allow < deny {
		t.Errorf("summary file: earlier step at %d, deny at %d, allow at %d; want them in that order:\n%s", first, deny, allow, s)
	}
}

func TestGitHubTests(t *testing.T) {
	var out, sum bytes.Buffer
	if err := GitHubTests(&out, &sum, testReport(), "policies"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"::error file=policies/gates/gates_test.rego,line=28,title=data.shipgate.gates_test.test_denies::fail: failed at gates/gates_test.rego:30:2",
		"::error file=policies/rules/approval_test.rego,line=7,title=data.shipgate.rules.approval_test.test_boom::error: eval_conflict_error: functions must not produce multiple outputs, for a,b: c",
		"::notice file=policies/rules/approval_test.rego,line=40,title=data.shipgate.rules.approval_test.todo_test_later::skipped",
		"::notice title=shipgate policy tests::1 passed, 1 failed, 1 errors, 1 skipped; coverage 87.50%25",
	}
	if got := lines(out.String()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, w := range []string{"## Policy tests: FAIL\n", "| `data.shipgate.gates_test.test_denies` | `policies/gates/gates_test.rego:28` | fail | failed at gates/gates_test.rego:30:2 |\n"} {
		if !strings.Contains(sum.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, sum.String())
		}
	}
}
