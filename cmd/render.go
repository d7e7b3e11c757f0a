package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/localizevideos/shipgate/engine"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func writeDecision(w io.Writer, format string, d *engine.Decision) error {
	if format == "json" {
		return writeJSON(w, d)
	}
	return writeDecisionText(w, d)
}

// writeDecisionText prints the verdict line, then each violation with its
// rule id, message and remediation, then warnings, obligations and the
// evidence that did not count.
func writeDecisionText(w io.Writer, d *engine.Decision) error {
	var b strings.Builder
	verdict := "DENY"
	if d.Allow {
		verdict = "ALLOW"
	}
	dry := ""
	if d.DryRun {
		dry = " (dry run)"
	}
	fmt.Fprintf(&b, "%s %s gate for release %s (%s/%s @ %s)%s: %s\n",
		verdict, d.Gate, d.Release.ID, d.Release.Service, d.Release.Environment, shortHex(d.Release.Commit), dry, d.Reason)
	for _, v := range d.Violations {
		fmt.Fprintf(&b, "  x %s [%s] %s\n", v.Rule, v.Enforcement, v.Message)
		if v.Remediation != "" {
			fmt.Fprintf(&b, "      fix: %s\n", v.Remediation)
		}
	}
	for _, v := range d.Overridden {
		fmt.Fprintf(&b, "  ~ %s [%s] overridden by %s: %s\n", v.Rule, v.Enforcement, v.Approver, v.Message)
	}
	for _, v := range d.Warnings {
		fmt.Fprintf(&b, "  ! %s [%s] %s\n", v.Rule, v.Enforcement, v.Message)
		if v.Remediation != "" {
			fmt.Fprintf(&b, "      fix: %s\n", v.Remediation)
		}
	}
	for _, o := range d.Obligations {
		due := ""
		if o.Due != "" {
			due = " due " + o.Due
		}
		fmt.Fprintf(&b, "  > obligation %s%s: %s\n", o.Kind, due, o.Message)
	}
	for _, id := range d.Opened {
		fmt.Fprintf(&b, "  > %s opened: close it with `shipgate postmortem add --violation %s POSTMORTEM.json`\n", id, id)
	}
	for _, ig := range d.Ignored {
		fmt.Fprintf(&b, "  - ignored %s: %s\n", ig.Reason, ig.Message)
	}
	fmt.Fprintf(&b, "  decision %s, %d rules, %d evidence, policy %s, input %s, at %s\n",
		d.ID, len(d.Rules), len(d.Evidence), shortDigest(d.Policy.Revision), shortDigest(d.Input.Digest),
		d.EvaluatedAt.Format("2006-01-02T15:04:05Z07:00"))
	_, err := io.WriteString(w, b.String())
	return err
}

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
