package format

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/regotest"
)

// Workflow command escaping, as the Actions runner decodes it: data (the
// message) escapes %, CR and LF so a message cannot end its command and
// start another; property values also escape the : and , that delimit
// properties.
var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func escapeData(s string) string     { return dataEscaper.Replace(s) }
func escapeProperty(s string) string { return propertyEscaper.Replace(s) }

// command is one workflow command: ::name k=v,k=v::message.
type command struct {
	name  string
	props [][2]string
	msg   string
}

func (c command) String() string {
	var b strings.Builder
	b.WriteString("::" + c.name)
	sep := " "
	for _, p := range c.props {
		if p[1] == "" {
			continue
		}
		b.WriteString(sep + p[0] + "=" + escapeProperty(p[1]))
		sep = ","
	}
	b.WriteString("::" + escapeData(c.msg) + "\n")
	return b.String()
}

// GitHubDecisions writes ds as GitHub Actions workflow commands on w:
// ::error for each violation (title: the rule id; message: its message and
// remediation), ::warning for each warning and obligation, ::notice for an
// overridden violation, a violation opened in the ledger and an allow. When
// summary is not nil it also writes the decisions there as Markdown (the
// verdict, a table of the violations with rule, enforcement, message and
// remediation, then warnings, overrides and obligations), in one Write, for
// the caller to append to $GITHUB_STEP_SUMMARY.
func GitHubDecisions(w, summary io.Writer, ds []*engine.Decision) error {
	ds = nonNil(ds)
	var b strings.Builder
	for _, d := range ds {
		writeDecisionCommands(&b, d)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if summary == nil {
		return nil
	}
	var m strings.Builder
	for _, d := range ds {
		writeDecisionMarkdown(&m, d)
	}
	_, err := io.WriteString(summary, m.String())
	return err
}

func writeDecisionCommands(b *strings.Builder, d *engine.Decision) {
	if d.Allow {
		b.WriteString(command{"notice", [][2]string{{"title", "shipgate " + d.Gate + " gate"}}, headline(d)}.String())
	} else {
		b.WriteString(headline(d) + "\n")
	}
	for _, f := range d.Violations {
		b.WriteString(command{"error", [][2]string{{"title", f.Rule}}, withFix(f.Message, f.Remediation)}.String())
	}
	for _, f := range d.Warnings {
		b.WriteString(command{"warning", [][2]string{{"title", f.Rule}}, withFix(f.Message, f.Remediation)}.String())
	}
	for _, f := range d.Overridden {
		msg := fmt.Sprintf("overridden by %s (Override %s): %s", f.Approver, f.Override, f.Message)
		b.WriteString(command{"notice", [][2]string{{"title", f.Rule + " (overridden)"}}, msg}.String())
	}
	for _, o := range d.Obligations {
		b.WriteString(command{"warning", [][2]string{{"title", "obligation " + o.Kind}}, obligationText(o)}.String())
	}
	for _, id := range d.Opened {
		b.WriteString(command{"notice", [][2]string{{"title", "violation opened"}}, closeHint(id)}.String())
	}
}

func withFix(msg, fix string) string {
	if fix == "" {
		return msg
	}
	return msg + "\nfix: " + fix
}

func closeHint(id string) string {
	return fmt.Sprintf("%s: close it with shipgate postmortem add --violation %s POSTMORTEM.json", id, id)
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// md escapes free text for Markdown: GitHub would take <...> for HTML.
// Line breaks become \n (table cells turn them into <br/>); other control
// characters are dropped.
func md(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return htmlEscaper.Replace(s)
}

// code sets s in a code span, unless a backtick or line break in it would
// break the span.
func code(s string) string {
	if s == "" || strings.ContainsAny(s, "`\r\n") || md(s) != htmlEscaper.Replace(s) {
		return md(s)
	}
	return "`" + s + "`"
}

// field is code(s), or - for an empty s.
func field(s string) string {
	if s == "" {
		return "-"
	}
	return code(s)
}

// markdownTable renders a table; go-pretty escapes | and turns newlines into
// <br/> in the cells.
func markdownTable(header table.Row, rows []table.Row) string {
	t := table.NewWriter()
	t.AppendHeader(header)
	t.AppendRows(rows)
	return t.RenderMarkdown() + "\n\n"
}

func writeDecisionMarkdown(b *strings.Builder, d *engine.Decision) {
	dry := ""
	if d.DryRun {
		dry = " (dry run)"
	}
	fmt.Fprintf(b, "## %s: %s gate for release %s%s\n\n", verdict(d), md(d.Gate), code(d.Release.ID), dry)
	fmt.Fprintf(b, "%s / %s @ %s: reason %s, decision %s, %d rules, %d evidence, policy %s",
		field(d.Release.Service), field(d.Release.Environment), field(shortHex(d.Release.Commit)), field(d.Reason),
		field(d.ID), len(d.Rules), len(d.Evidence), field(shortHex(d.Policy.Revision)))
	if !d.EvaluatedAt.IsZero() {
		fmt.Fprintf(b, ", evaluated %s", d.EvaluatedAt.UTC().Format(time.RFC3339))
	}
	b.WriteString(".\n\n")
	if len(d.Violations) > 0 {
		b.WriteString("### Violations\n\n")
		rows := make([]table.Row, len(d.Violations))
		for i, f := range d.Violations {
			rows[i] = table.Row{code(f.Rule), md(f.Enforcement), md(f.Message), md(f.Remediation)}
		}
		b.WriteString(markdownTable(table.Row{"Rule", "Enforcement", "Message", "Remediation"}, rows))
	} else {
		fmt.Fprintf(b, "No violations: %d rules passed.\n\n", len(d.Rules))
	}
	if len(d.Warnings) > 0 {
		b.WriteString("### Warnings\n\n")
		rows := make([]table.Row, len(d.Warnings))
		for i, f := range d.Warnings {
			rows[i] = table.Row{code(f.Rule), md(f.Enforcement), md(f.Message), md(f.Remediation)}
		}
		b.WriteString(markdownTable(table.Row{"Rule", "Enforcement", "Message", "Remediation"}, rows))
	}
	if len(d.Overridden) > 0 {
		b.WriteString("### Overridden\n\n")
		rows := make([]table.Row, len(d.Overridden))
		for i, f := range d.Overridden {
			rows[i] = table.Row{code(f.Rule), md(f.Enforcement), md(f.Approver), code(shortHex(f.Override)), md(f.Message)}
		}
		b.WriteString(markdownTable(table.Row{"Rule", "Enforcement", "Approver", "Override", "Message"}, rows))
	}
	if len(d.Obligations) > 0 {
		b.WriteString("### Obligations\n\n")
		rows := make([]table.Row, len(d.Obligations))
		for i, o := range d.Obligations {
			rows[i] = table.Row{md(o.Kind), code(o.Rule), md(o.Due), md(o.Message)}
		}
		b.WriteString(markdownTable(table.Row{"Kind", "Rule", "Due", "Message"}, rows))
	}
	if len(d.Opened) > 0 {
		b.WriteString("### Opened in the ledger\n\n")
		for _, id := range d.Opened {
			fmt.Fprintf(b, "- %s: close it with %s\n", code(id), code("shipgate postmortem add --violation "+id+" POSTMORTEM.json"))
		}
		b.WriteString("\n")
	}
	if len(d.Ignored) > 0 {
		b.WriteString("### Evidence that did not count\n\n")
		for _, ig := range d.Ignored {
			fmt.Fprintf(b, "- %s: %s\n", code(ig.Reason), md(ig.Message))
		}
		b.WriteString("\n")
	}
}

// GitHubTests writes a policy test report as workflow commands: an ::error
// at the file and line of each failed or errored test (dir, the policy
// directory as given, prepended), a ::notice for each skipped one, and a
// ::notice with the counts. When summary is not nil it also writes the
// counts and a table of the tests that did not pass there as Markdown.
func GitHubTests(w, summary io.Writer, rep *regotest.Report, dir string) error {
	if rep == nil {
		rep = &regotest.Report{}
	}
	var b strings.Builder
	for _, r := range rep.Results {
		props := [][2]string{{"file", testFile(dir, r)}, {"line", strconv.Itoa(testLine(r))}, {"title", testID(r)}}
		switch r.Outcome {
		case "fail", "error":
			b.WriteString(command{"error", props, r.Outcome + ": " + testMessage(r)}.String())
		case "skip":
			b.WriteString(command{"notice", props, "skipped"}.String())
		}
	}
	b.WriteString(command{"notice", [][2]string{{"title", "shipgate policy tests"}}, testSummary(rep)}.String())
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if summary == nil {
		return nil
	}
	var m strings.Builder
	status := "PASS"
	if !rep.OK() {
		status = "FAIL"
	}
	fmt.Fprintf(&m, "## Policy tests: %s\n\n%s.\n\n", status, testSummary(rep))
	var rows []table.Row
	for _, r := range rep.Results {
		if r.Outcome == "pass" {
			continue
		}
		at := fmt.Sprintf("%s:%d", testFile(dir, r), testLine(r))
		rows = append(rows, table.Row{code(testID(r)), code(at), md(r.Outcome), md(testMessage(r))})
	}
	if len(rows) > 0 {
		m.WriteString(markdownTable(table.Row{"Test", "Location", "Outcome", "Message"}, rows))
	}
	_, err := io.WriteString(summary, m.String())
	return err
}
