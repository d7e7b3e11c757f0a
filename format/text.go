package format

import (
	"fmt"
	"io"
	"strings"

	"github.com/localizevideos/shipgate/engine"
)

// Text writes d for people: the verdict line, then each violation with its
// rule id, message and remediation, then warnings, obligations and the
// evidence that did not count, and the decision's id, policy and input.
func Text(w io.Writer, d *engine.Decision) error {
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
		verdict, d.Gate, d.Release.ID, d.Release.Service, d.Release.Environment, short12(d.Release.Commit), dry, d.Reason)
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
	if d.Recurs != "" {
		fmt.Fprintf(&b, "  > the same denial as %s, still open: recorded with it, no new violation\n", d.Recurs)
	}
	for _, ig := range d.Ignored {
		fmt.Fprintf(&b, "  - ignored %s: %s\n", ig.Reason, ig.Message)
	}
	fmt.Fprintf(&b, "  decision %s, %d rules, %d evidence, policy %s, input %s, at %s\n",
		d.ID, len(d.Rules), len(d.Evidence), shortSHA(d.Policy.Revision), shortSHA(d.Input.Digest),
		d.EvaluatedAt.Format("2006-01-02T15:04:05Z07:00"))
	_, err := io.WriteString(w, b.String())
	return err
}

// short12 shortens a commit or a hex digest to 12 digits.
func short12(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// shortSHA shortens a sha256: digest to its first 12 hex digits.
func shortSHA(s string) string {
	if s == "" {
		return "-"
	}
	return "sha256:" + short12(strings.TrimPrefix(s, "sha256:"))
}
