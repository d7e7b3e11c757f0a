package cmd

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/format"
	"github.com/localizevideos/shipgate/regotest"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeDecision writes d to w in the named format (format.WriteDecision).
// The github format writes no job summary here: writeDecisionOutput does.
func writeDecision(w io.Writer, name string, d *engine.Decision) error {
	return format.WriteDecision(w, name, d, Version)
}

// writeDecisionOutput writes d to s.Out in the named format; the github
// format also appends its job summary to $GITHUB_STEP_SUMMARY.
func writeDecisionOutput(s Streams, name string, d *engine.Decision) error {
	if name != "github" {
		return writeDecision(s.Out, name, d)
	}
	return withStepSummary(s, func(sum io.Writer) error {
		return format.GitHubDecisions(s.Out, sum, []*engine.Decision{d})
	})
}

// writeTestReport writes a policy test report in one of the CI formats
// (format.WriteTestReport), the github one with its job summary.
func writeTestReport(s Streams, name, dir string, rep *regotest.Report) error {
	if name != "github" {
		return format.WriteTestReport(s.Out, nil, name, dir, rep, Version)
	}
	return withStepSummary(s, func(sum io.Writer) error {
		return format.WriteTestReport(s.Out, sum, name, dir, rep, Version)
	})
}

// withStepSummary runs write with the GitHub job summary of
// $GITHUB_STEP_SUMMARY (format.StepSummary): a summary that cannot be
// written is reported on stderr, and the exit code stays the verdict's.
func withStepSummary(s Streams, write func(summary io.Writer) error) error {
	path := ""
	if s.Getenv != nil {
		path = s.Getenv("GITHUB_STEP_SUMMARY")
	}
	return format.StepSummary(path, s.Err, write)
}

// writeDecisionText writes d for people (format.Text).
var writeDecisionText = format.Text

func shortHex(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func shortDigest(s string) string {
	if s == "" {
		return "-"
	}
	return "sha256:" + shortHex(strings.TrimPrefix(s, "sha256:"))
}

// writeTable writes rows as a text table (go-pretty), each line starting
// with indent: cells separated by a space and padded to the widest cell of
// their column, or to the column's width in widths (0: none); no borders,
// no trailing spaces.
func writeTable(w io.Writer, indent string, widths []int, rows []table.Row) error {
	if len(rows) == 0 {
		return nil
	}
	t := table.NewWriter()
	st := table.StyleDefault
	st.Box.PaddingLeft, st.Box.PaddingRight = "", " "
	st.Options = table.Options{}
	t.SetStyle(st)
	t.SuppressTrailingSpaces()
	cols := make([]table.ColumnConfig, len(widths))
	for i, n := range widths {
		cols[i] = table.ColumnConfig{Number: i + 1, WidthMin: n}
	}
	t.SetColumnConfigs(cols)
	t.AppendRows(rows)
	var b strings.Builder
	for line := range strings.Lines(t.Render() + "\n") {
		b.WriteString(indent + line)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
