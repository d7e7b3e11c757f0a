package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
)

// mdEscaper keeps text from the evidence (messages, comments, reasons)
// from becoming Markdown or HTML: evidence is written by people and bots.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", "&lt;", ">", "&gt;", "&", "&amp;", "\r\n", " ", "\n", " ", "\r", " ",
)

func md(s string) string { return mdEscaper.Replace(s) }

// code is an identifier in a code span; identifiers never hold a backtick,
// but evidence could.
func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(s, "`", "'") + "`"
}

type mdWriter struct {
	w   *bufio.Writer
	err error
}

func (m *mdWriter) printf(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, args...)
	}
}

func (m *mdWriter) table(header table.Row, rows []table.Row) {
	t := table.NewWriter()
	t.AppendHeader(header)
	t.AppendRows(rows)
	m.printf("%s\n\n", t.RenderMarkdown())
}

func writeMarkdown(w io.Writer, rep *Report) error {
	m := &mdWriter{w: bufio.NewWriter(w)}
	m.printf("# shipgate audit report\n\n")
	if rep.Integrity.Intact {
		m.printf("**%s**\n\n", md(rep.Integrity.Statement))
	} else {
		m.printf("> **%s**\n\n", md(rep.Integrity.Statement))
	}
	if rep.Signing.Off {
		m.printf("> **%s**\n\n", md(rep.Signing.Statement))
	} else if rep.Signing.Statement != "" {
		m.printf("%s\n\n", md(rep.Signing.Statement))
	}
	m.printf("- Period: %s to %s (violations as of %s)\n", fmtTime(rep.Period.Since), fmtTime(rep.Period.Until), fmtTime(rep.Period.AsOf))
	m.printf("- Scope: %s\n", md(scope(rep)))
	if rep.PolicyRevision != "" {
		m.printf("- Policy revision read for titles, freeze windows and explanations: %s\n", code(rep.PolicyRevision))
	}
	m.printf("- Generated at %s\n\n", fmtTime(rep.GeneratedAt))

	s := rep.Summary
	m.printf("## Summary\n\n")
	m.table(table.Row{"Figure", "Value"}, []table.Row{
		{"Releases", s.Releases},
		{"Decisions (dry runs aside)", fmt.Sprintf("%d: %d allowed, %d denied", s.Decisions, s.Allowed, s.Denied)},
		{"Dry runs", s.DryRuns},
		{"Emergency releases", s.EmergencyReleases},
		{"Releases during freezes", fmt.Sprintf("%d (%d allowed to deploy, %d on the emergency path)", s.Freeze.Releases, s.Freeze.Allowed, s.Freeze.Emergency)},
		{"Violations opened", fmt.Sprintf("%d (%d of them postmortem obligations)", s.Violations.Opened, s.Violations.Obligations)},
		{"Violations closed", fmt.Sprintf("%d (%d after their due date)", s.Violations.Closed, s.Violations.ClosedLate)},
		{"Violations open", fmt.Sprintf("%d (%d overdue)", s.Violations.Open, s.Violations.Overdue)},
		{"Postmortem lead time (opened to closed)", fmtDurations(s.PostmortemLead)},
		{"Change failure rate", fmtRate(s.ChangeFailure)},
		{"Failed releases", fmtFailed(s.ChangeFailure)},
		{"Time to restore (failure to rollback finished)", fmtDurations(s.TimeToRestore)},
		{"Rollbacks slower than the deploy", fmt.Sprintf("%d of %d (median rollback %s, median deploy %s)", s.Rollbacks.SlowerThanDeploy, s.Rollbacks.Count,
			fmtSecondsPtr(s.Rollbacks.MedianRollbackSeconds), fmtSecondsPtr(s.Rollbacks.MedianDeploySeconds))},
		{"Soft violations overridden", s.Overrides},
	})

	if len(s.DenialsByRule) > 0 {
		m.printf("### Denials by rule\n\n")
		var rows []table.Row
		for _, rc := range s.DenialsByRule {
			rows = append(rows, table.Row{code(rc.Rule), md(rc.Title), rc.Denials})
		}
		m.table(table.Row{"Rule", "Title", "Denials"}, rows)
	}
	if len(s.DenialReasons) > 0 {
		m.printf("### Denials by reason\n\n")
		var rows []table.Row
		for _, k := range sortedKeys(s.DenialReasons) {
			rows = append(rows, table.Row{code(k), s.DenialReasons[k]})
		}
		m.table(table.Row{"Reason", "Denials"}, rows)
	}
	if len(s.Gates) > 0 {
		m.printf("### Decisions by gate\n\n")
		var rows []table.Row
		for _, g := range sortedKeys(s.Gates) {
			rows = append(rows, table.Row{g, s.Gates[g].Allowed, s.Gates[g].Denied})
		}
		m.table(table.Row{"Gate", "Allowed", "Denied"}, rows)
	}
	if len(s.Rollbacks.Items) > 0 {
		m.printf("### Rollback time against deploy time\n\n")
		var rows []table.Row
		for _, it := range s.Rollbacks.Items {
			slower := "no"
			if it.Slower {
				slower = "yes"
			}
			rows = append(rows, table.Row{code(it.Release), fmtSecondsPtr(it.DeploySeconds), fmtSeconds(it.RollbackSeconds), slower})
		}
		m.table(table.Row{"Release", "Deploy", "Rollback", "Slower"}, rows)
	}
	var dayRows []table.Row
	for _, d := range rep.Days {
		if d.Allowed+d.Denied > 0 {
			dayRows = append(dayRows, table.Row{d.Date, d.Allowed, d.Denied})
		}
	}
	if len(dayRows) > 0 {
		m.printf("### Decisions per day\n\n")
		m.table(table.Row{"Date", "Allowed", "Denied"}, dayRows)
	}

	m.printf("## Releases\n\n")
	m.printf("%s\n\n", md(AttributionMethod))
	if len(rep.Releases) == 0 {
		m.printf("No decision was recorded in the period.\n")
	}
	for _, r := range rep.Releases {
		markdownRelease(m, r)
	}
	if m.err == nil {
		m.err = m.w.Flush()
	}
	return m.err
}

func markdownRelease(m *mdWriter, r Release) {
	m.printf("### %s\n\n", md(r.ID))
	m.printf("%s / %s @ %s: %s.\n\n", md(r.Service), md(r.Environment), code(r.Commit), strings.Join(flags(r), ", "))

	if len(r.Evidence) > 0 {
		m.printf("#### Evidence\n\n")
		var rows []table.Row
		for _, e := range r.Evidence {
			rows = append(rows, table.Row{e.Kind, code(short(e.Digest)), md(e.Collector), md(e.Actor), fmtTime(e.CollectedAt),
				fmt.Sprintf("%s (entry %d)", fmtTime(e.RecordedAt), e.Entry)})
		}
		m.table(table.Row{"Kind", "Digest", "Collector", "Actor", "Collected", "Recorded"}, rows)
	}

	m.printf("#### Decisions\n\n")
	for _, d := range r.Decisions {
		m.printf("##### %s %s at %s\n\n", d.Gate, verdict(d), fmtTime(d.EvaluatedAt))
		m.printf("Decision %s (ledger entry %d)%s.\n\n", code(d.ID), d.Entry, mdRecorded(d))
		m.printf("%s\n\n", md(human(d.Explanation.Summary)))
		for _, o := range nonHeld(d.Explanation) {
			m.printf("- **%s** %s [%s]: %s", o.Outcome, md(ruleLabel(o)), enforcementOf(d, o.Rule), md(sentence(o.Detail)))
			if len(o.Evidence) > 0 {
				m.printf(" Evidence: %s.", code(shortList(o.Evidence)))
			}
			if o.Outcome == Violated && o.Remediation != "" {
				m.printf(" To pass: %s.", md(human(strings.TrimSuffix(o.Remediation, "."))))
			}
			m.printf("\n")
		}
		if d.Allow {
			if d.Explanation.Attributed {
				a := byDocument(r, d)
				for _, g := range a.Groups {
					m.printf("- %s %s (%s, %s) satisfied: %s\n", g.Kind, code(short(g.Digest)), md(g.Actor), fmtTime(g.CollectedAt), mdRules(g.Rules))
				}
				if len(a.Rest) > 0 {
					m.printf("- held whichever single document was left out: %s\n", mdRules(a.Rest))
				}
				if len(a.Idle) > 0 {
					var docs []string
					for _, g := range a.Idle {
						docs = append(docs, g.Kind+" "+code(short(g.Digest)))
					}
					m.printf("- counted, but no rule depended on it alone: %s\n", strings.Join(docs, ", "))
				}
			} else if hs := held(d.Explanation); len(hs) > 0 {
				m.printf("- held: %s\n", mdRules(hs))
			}
		}
		for _, ig := range d.Ignored {
			m.printf("- did not count: %s %s: %s (%s)\n", ig.Kind, code(short(ig.Digest)), md(human(ig.Message)), code(ig.Reason))
		}
		for _, o := range d.Obligations {
			m.printf("- obligation %s: %s", code(o.Kind), md(human(o.Message)))
			if o.Due != "" {
				m.printf(" (due %s)", md(human(o.Due)))
			}
			m.printf("\n")
		}
		if len(d.Freeze) > 0 {
			m.printf("- freeze active: %s\n", code(strings.Join(d.Freeze, ", ")))
		}
		if d.Explanation.Note != "" {
			m.printf("\n%s\n", md(human(d.Explanation.Note)))
		}
		m.printf("\n")
	}

	if len(r.Violations) > 0 {
		m.printf("#### Violations\n\n")
		var rows []table.Row
		for _, v := range r.Violations {
			status := v.Status
			switch {
			case v.Late:
				status += " (late)"
			case v.Overdue:
				status += " (overdue)"
			}
			lead := ""
			if v.LeadTimeSeconds != nil {
				lead = fmtSeconds(*v.LeadTimeSeconds)
			}
			rows = append(rows, table.Row{code(v.ID), v.Kind, v.Gate, code(strings.Join(v.Rules, ", ")), md(v.Actor), fmtTime(v.OpenedAt), fmtTime(v.Due),
				status, fmtTimePtr(v.ClosedAt), lead})
		}
		m.table(table.Row{"ID", "Kind", "Gate", "Rules", "Actor", "Opened", "Due", "Status", "Closed", "Lead time"}, rows)
	}
	if len(r.Overrides) > 0 {
		m.printf("#### Overrides\n\n")
		var rows []table.Row
		for _, o := range r.Overrides {
			rows = append(rows, table.Row{code(o.Rule), md(o.Approver), md(human(o.Reason)), o.Gate, code(short(o.Digest)), fmtTimePtr(o.ExpiresAt), code(o.Decision)})
		}
		m.table(table.Row{"Rule", "Approver", "Reason", "Gate", "Override", "Expires", "Decision"}, rows)
	}
	if len(r.Approvals) > 0 {
		m.printf("#### Approvals\n\n")
		var rows []table.Row
		for _, a := range r.Approvals {
			rows = append(rows, table.Row{md(a.Approver), a.Decision, a.Gate, fmtTime(a.ApprovedAt), md(a.Comment)})
		}
		m.table(table.Row{"Approver", "Decision", "Gate", "At", "Comment"}, rows)
	}
	if len(r.Deploys) > 0 {
		m.printf("#### Deploys\n\n")
		var rows []table.Row
		for _, d := range r.Deploys {
			rows = append(rows, table.Row{d.Status, md(d.Actor), d.Trigger, fmtTimePtr(d.StartedAt), fmtTimePtr(d.FinishedAt), durationCell(d.DurationSeconds)})
		}
		m.table(table.Row{"Status", "Actor", "Trigger", "Started", "Finished", "Duration"}, rows)
	}
	if len(r.Rollbacks) > 0 {
		m.printf("#### Rollbacks\n\n")
		var rows []table.Row
		for _, rb := range r.Rollbacks {
			rows = append(rows, table.Row{rb.Strategy, rb.Status, md(rb.Actor), fmtTime(rb.StartedAt), fmtTime(rb.FinishedAt), fmtSeconds(rb.DurationSeconds), md(human(rb.Reason))})
		}
		m.table(table.Row{"Strategy", "Status", "Actor", "Started", "Finished", "Duration", "Reason"}, rows)
	}
	if len(r.Postmortems) > 0 {
		m.printf("#### Postmortems\n\n")
		var rows []table.Row
		for _, p := range r.Postmortems {
			rows = append(rows, table.Row{code(short(p.Digest)), md(p.Author), fmtTime(p.CompletedAt), fmtTime(p.RecordedAt),
				code(strings.Join(p.Violations, ", ")), md(p.Summary)})
		}
		m.table(table.Row{"Postmortem", "Author", "Completed", "Recorded", "Closes", "Summary"}, rows)
	}
}

// mdRecorded is what the ledger entry of d holds besides its id: the
// policy revision and input of a gate decision, or what a reconcile saw.
// Fields it lacks are left out.
func mdRecorded(d Decision) string {
	var s string
	if isReconcile(d) {
		s = ", " + reconcileNote
		if d.Observed != nil {
			s += ": " + md(observation(*d.Observed))
		}
		return s
	}
	if d.PolicyRevision != "" {
		s += ", policy revision " + code(short(d.PolicyRevision))
	}
	if d.InputDigest != "" {
		s += ", input " + code(short(d.InputDigest))
	}
	return s
}

func mdRules(os []RuleOutcome) string {
	parts := make([]string, len(os))
	for i, o := range os {
		if o.Title == "" {
			parts[i] = code(o.Rule)
		} else {
			parts[i] = md(o.Title) + " " + code(o.Rule)
		}
	}
	return strings.Join(parts, "; ")
}

func durationCell(s *float64) string {
	if s == nil {
		return ""
	}
	return fmtSeconds(*s)
}

// enforcementOf is the level the decision reported for rule.
func enforcementOf(d Decision, rule string) string {
	for _, fs := range [][]Finding{d.Violations, d.Overridden, d.Warnings} {
		for _, f := range fs {
			if f.Rule == rule {
				return f.Enforcement
			}
		}
	}
	return ""
}
