package auditpack

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/report"
)

// WriteText writes the result of checking the pack called name for
// people: the selection, the checkpoint and evidence keys and whether they
// were pinned, what was tampered with, each decision with its differences
// and explanation, and the verdict.
func (r *Result) WriteText(w io.Writer, name string) error {
	var b strings.Builder
	sel := "every decision"
	switch {
	case r.Selection.Release != "" && r.Selection.Since != nil:
		sel = fmt.Sprintf("release %s since %s", r.Selection.Release, r.Selection.Since.Format(time.RFC3339))
	case r.Selection.Release != "":
		sel = "release " + r.Selection.Release
	case r.Selection.Since != nil:
		sel = "decisions since " + r.Selection.Since.Format(time.RFC3339)
	}
	fmt.Fprintf(&b, "pack %s: %s, %s, created %s\n", name, r.Format, sel, r.Created.Format(time.RFC3339))
	cp := r.Checkpoint
	switch {
	case !cp.Valid:
		fmt.Fprintf(&b, "checkpoint: NOT VALID (nothing in the pack is proved)\n")
	case cp.KeyPinned:
		fmt.Fprintf(&b, "checkpoint: %d entries, root %s, signed by %s at %s (key pinned)\n", cp.Size, cp.Root, cp.KeyID, cp.Time.Format(time.RFC3339))
	default:
		fmt.Fprintf(&b, "checkpoint: %d entries, root %s, signed by %s at %s (key NOT pinned: the pack's own checkpoint.pub; give --key)\n",
			cp.Size, cp.Root, cp.KeyID, cp.Time.Format(time.RFC3339))
	}
	switch k := r.EvidenceKeys; {
	case len(k.IDs) == 0:
		fmt.Fprintf(&b, "evidence keys: none (signed evidence cannot be read)\n")
	case k.Pinned:
		fmt.Fprintf(&b, "evidence keys: %s (pinned)\n", strings.Join(k.IDs, ", "))
	default:
		fmt.Fprintf(&b, "evidence keys: %s (NOT pinned: the pack's own; give --trusted-key)\n", strings.Join(k.IDs, ", "))
	}
	if len(r.Tampered) > 0 {
		fmt.Fprintf(&b, "tampered (%d):\n", len(r.Tampered))
		for _, p := range r.Tampered {
			fmt.Fprintf(&b, "  %s\n", p)
		}
	}
	c := r.Counts
	fmt.Fprintf(&b, "decisions: %d (%d match, %d differ, %d not replayed, %d tampered); compared in canonical JSON without %s\n",
		c.Decisions, c.Match, c.Differs, c.NotReplayed, c.Tampered, strings.Join(r.Ignored, ", "))
	for _, d := range r.Decisions {
		verdict := "deny"
		if d.Allow {
			verdict = "allow"
		}
		dry := ""
		if d.DryRun {
			dry = " (dry run)"
		}
		fmt.Fprintf(&b, "  %-12s %s %s %s %s %s%s\n", strings.ToUpper(d.Status), d.ID, d.Gate, d.Release, verdict, d.EvaluatedAt.Format(time.RFC3339), dry)
		if d.Why != "" {
			fmt.Fprintf(&b, "      why: %s\n", d.Why)
		}
		for _, diff := range d.Differences {
			field := diff.Field
			if diff.Rule != "" {
				field += " [" + diff.Rule + "]"
			}
			fmt.Fprintf(&b, "      %s: recorded %s, replayed %s\n", field, orNone(diff.Recorded), orNone(diff.Replayed))
		}
		if d.Explanation != nil {
			kinds := map[string]string{}
			for _, e := range d.Evidence {
				kinds[e.Digest] = e.Kind
			}
			explainText(&b, d.Explanation, kinds)
		}
	}
	if r.OK {
		b.WriteString("result: OK: nothing was changed and every replayed decision matches\n")
	} else {
		b.WriteString("result: FAILED: ")
		var why []string
		if len(r.Tampered) > 0 {
			why = append(why, fmt.Sprintf("%d changes to the pack", len(r.Tampered)))
		}
		if c.Differs > 0 {
			why = append(why, fmt.Sprintf("%d decisions differ", c.Differs))
		}
		if c.Tampered > 0 {
			why = append(why, fmt.Sprintf("%d decisions cannot be trusted", c.Tampered))
		}
		b.WriteString(strings.Join(why, ", ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// explainText writes why a replayed decision came out as it did; kinds
// names the kind of each evidence digest.
func explainText(b *strings.Builder, ex *report.Explanation, kinds map[string]string) {
	fmt.Fprintf(b, "      %s\n", ex.Summary)
	if ex.Note != "" {
		fmt.Fprintf(b, "      (%s)\n", ex.Note)
	}
	for _, r := range ex.Rules {
		line := fmt.Sprintf("      %-10s %s", r.Outcome, r.Rule)
		if r.Title != "" {
			line += " (" + r.Title + ")"
		}
		switch {
		case len(r.SatisfiedBy) > 0:
			short := make([]string, len(r.SatisfiedBy))
			for i, d := range r.SatisfiedBy {
				short[i] = strings.TrimSpace(kinds[d] + " " + evidence.ShortDigest(d))
			}
			line += ": satisfied by " + strings.Join(short, ", ")
		case r.Detail != "":
			line += ": " + r.Detail
		}
		fmt.Fprintln(b, line)
		if r.Outcome == report.Violated && r.Remediation != "" {
			fmt.Fprintf(b, "                 to pass: %s\n", r.Remediation)
		}
	}
}

// orNone shows an absent member.
func orNone(b []byte) string {
	if len(b) == 0 {
		return "(none)"
	}
	return string(b)
}
