package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/evidence"
)

// MarkdownRows bounds the table pasted into a pull request (GitHub refuses
// comments over 65,536 characters); the JSON output has every change.
const MarkdownRows = 200

// Write writes r in format: text, json or markdown (for a pull request
// comment or a job summary).
func (r DiffReport) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		return writeJSON(w, r)
	case "markdown":
		return r.WriteMarkdown(w)
	}
	return r.WriteText(w)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

var kindLabel = map[string]string{
	Denied:     "ALLOW → DENY",
	Allowed:    "DENY → ALLOW",
	Violations: "VIOLATIONS",
}

func plain(s string) string { return s }

// WriteText writes r for people.
func (r DiffReport) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "policy diff: base %s (%s) → head %s (%s)\n", r.Base, evidence.ShortDigest(r.BaseRevision), r.Head, evidence.ShortDigest(r.HeadRevision))
	fmt.Fprintf(&b, "replayed %d decisions (%d dry runs)%s\n", r.Replayed, r.DryRuns, skippedText(r.Skipped))
	fmt.Fprintf(&b, "answers: %d evaluated, %d recorded by the same policy revision on the same input, %d the base's (the changed rule files answer alike)\n", r.Evaluated, r.Cached, r.Reused)
	fmt.Fprintf(&b, "%d allow → deny, %d deny → allow, %d with other violations\n",
		r.Count(Denied), r.Count(Allowed), r.Count(Violations))
	for _, c := range r.Changes {
		dry := ""
		if c.DryRun {
			dry = " (dry run)"
		}
		fmt.Fprintf(&b, "  %-12s %-8s %-24s %s  %s  %s%s\n", kindLabel[c.Kind], c.Gate, c.Release.ID,
			c.EvaluatedAt.UTC().Format(time.RFC3339), c.Decision, ruleDelta(c, plain), dry)
		if c.Fault != "" {
			fmt.Fprintf(&b, "      fault: %s\n", c.Fault)
		}
	}
	r.Documentation.writeNote(&b, plain)
	_, err := io.WriteString(w, b.String())
	return err
}

func skippedText(skipped map[string]int) string {
	if len(skipped) == 0 {
		return ""
	}
	n := 0
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(skipped)) {
		n += skipped[k]
		parts = append(parts, fmt.Sprintf("%d %s", skipped[k], k))
	}
	return fmt.Sprintf("; skipped %d (%s)", n, strings.Join(parts, ", "))
}

// ruleDelta lists the rules a change adds (+) and removes (-).
func ruleDelta(c Change, code func(string) string) string {
	var parts []string
	for _, f := range c.Added {
		parts = append(parts, "+"+code(f.Rule))
	}
	for _, f := range c.Removed {
		parts = append(parts, "-"+code(f.Rule))
	}
	return strings.Join(parts, " ")
}

func (o Ownership) writeNote(b *strings.Builder, code func(string) string) {
	if len(o.Changes) == 0 {
		return
	}
	paths := make([]string, len(o.Changes))
	for i, p := range o.Changes {
		paths[i] = code(p)
	}
	switch {
	case o.DocsChanged:
		fmt.Fprintf(b, "\nrollout data changed (%s); %s changed with it.\n", strings.Join(paths, ", "), code(o.Docs))
	case o.Unknown != "":
		fmt.Fprintf(b, "\nrollout data changed (%s): the release document must change with it; not checked: %s.\n",
			strings.Join(paths, ", "), o.Unknown)
	default:
		fmt.Fprintf(b, "\nrollout data changed (%s) but %s did not: the release document must be updated when CI/CD is introduced, canary releases are enabled, the rollout strategy changes or automation increases.\n",
			strings.Join(paths, ", "), code(o.Docs))
	}
}

// WriteText writes the ownership check of the change since rev for people.
func (o Ownership) WriteText(w io.Writer, rev string) error {
	var b strings.Builder
	if len(o.Changes) == 0 {
		fmt.Fprintf(&b, "no rollout data changed since %s\n", rev)
	} else {
		for _, p := range o.Changes {
			fmt.Fprintf(&b, "changed since %s: %s\n", rev, p)
		}
		o.writeNote(&b, plain)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown renders r for a pull request comment or a job summary; at
// most MarkdownRows changes are listed.
func (r DiffReport) WriteMarkdown(w io.Writer) error {
	code := func(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }
	var b strings.Builder
	b.WriteString("### shipgate policy diff\n\n")
	fmt.Fprintf(&b, "Base %s (%s) → head %s (%s): replayed **%d** recorded decisions (%d dry runs)%s.\n\n",
		code(r.Base), code(evidence.ShortDigest(r.BaseRevision)), code(r.Head), code(evidence.ShortDigest(r.HeadRevision)),
		r.Replayed, r.DryRuns, skippedText(r.Skipped))
	denied, allowed, other := r.Count(Denied), r.Count(Allowed), r.Count(Violations)
	if len(r.Changes) == 0 {
		b.WriteString("No recorded decision changes.\n")
	} else {
		fmt.Fprintf(&b, "**%d** allowed decisions would now be denied, **%d** denied would now be allowed, %d keep their verdict with other violations.\n\n",
			denied, allowed, other)
		b.WriteString("| Change | Gate | Release | Evaluated (UTC) | Rules | Decision |\n|---|---|---|---|---|---|\n")
		for i, c := range r.Changes {
			if i == MarkdownRows {
				fmt.Fprintf(&b, "\n… and %d more: run `shipgate policy diff --output json` for all of them.\n", len(r.Changes)-i)
				break
			}
			change := map[string]string{Denied: "allow → **deny**", Allowed: "deny → **allow**",
				Violations: "violations"}[c.Kind]
			if c.DryRun {
				change += " (dry run)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", change, c.Gate, cell(code(c.Release.ID)),
				c.EvaluatedAt.UTC().Format("2006-01-02 15:04"), cell(ruleDelta(c, code)), cell(code(c.Decision)))
		}
	}
	if len(r.Documentation.Changes) > 0 {
		var note strings.Builder
		r.Documentation.writeNote(&note, code)
		b.WriteString("\n> **Release document.** " + strings.TrimSpace(note.String()) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell keeps a value inside its Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
