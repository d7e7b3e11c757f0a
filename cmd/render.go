package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
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

// writeDecision writes d to w in the named format. The github format writes
// no job summary here: writeDecisionOutput does.
func writeDecision(w io.Writer, name string, d *engine.Decision) error {
	ds := []*engine.Decision{d}
	switch name {
	case "json":
		return writeJSON(w, d)
	case "junit":
		return format.JUnitDecisions(w, ds)
	case "sarif":
		return format.SARIFDecisions(w, ds, Version)
	case "github":
		return format.GitHubDecisions(w, nil, ds)
	}
	return writeDecisionText(w, d)
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

// writeTestReport writes a policy test report in one of the CI formats; dir
// is the policy directory as given, which the tests' file names are
// relative to.
func writeTestReport(s Streams, name, dir string, rep *regotest.Report) error {
	switch name {
	case "junit":
		return format.JUnitTests(s.Out, rep, dir)
	case "sarif":
		return format.SARIFTests(s.Out, rep, dir, Version)
	case "github":
		return withStepSummary(s, func(sum io.Writer) error {
			return format.GitHubTests(s.Out, sum, rep, dir)
		})
	}
	return fmt.Errorf("--output %q: not a policy test report format", name)
}

// withStepSummary runs write with a buffer for the GitHub job summary when
// $GITHUB_STEP_SUMMARY names a file, then appends the buffer to that file,
// creating it if missing. A summary that cannot be written is reported on
// stderr and changes nothing else: the workflow commands on stdout carry the
// result, and the exit code stays the verdict's.
func withStepSummary(s Streams, write func(summary io.Writer) error) error {
	path := ""
	if s.Getenv != nil {
		path = s.Getenv("GITHUB_STEP_SUMMARY")
	}
	if path == "" {
		return write(nil)
	}
	var sum bytes.Buffer
	if err := write(&sum); err != nil {
		return err
	}
	if err := appendFile(path, sum.Bytes()); err != nil {
		fmt.Fprintf(s.Err, "shipgate: job summary: %v\n", err)
	}
	return nil
}

func appendFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
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
