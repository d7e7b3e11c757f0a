package console

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"

	"github.com/localizevideos/shipgate/api"
	"github.com/localizevideos/shipgate/collect/incidents"
	"github.com/localizevideos/shipgate/evidence"
	textformat "github.com/localizevideos/shipgate/format"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/regotest"
	"github.com/localizevideos/shipgate/signals"
)

// JSON writes v as indented JSON without HTML escaping: the json output
// of every command.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Emit writes v as JSON when format is "json", else as text renders it.
func Emit[T any](w io.Writer, format string, v T, text func(io.Writer, T) error) error {
	if format == "json" {
		return JSON(w, v)
	}
	return text(w, v)
}

// Print writes v as JSON when format is "json", else calls text, which
// writes it for people.
func Print(w io.Writer, format string, v any, text func(io.Writer) error) error {
	if format == "json" {
		return JSON(w, v)
	}
	return text(w)
}

// Tokens writes the API tokens shipgate token list shows, one a line:
// id, role, name, who created it and when, and whether it is revoked.
func Tokens(w io.Writer, views []api.TokenView) error {
	if len(views) == 0 {
		_, err := fmt.Fprintln(w, "no tokens")
		return err
	}
	rows := make([]table.Row, len(views))
	for i, v := range views {
		state := "active"
		if !v.Active {
			state = "revoked " + v.RevokedAt[:min(len(v.RevokedAt), 19)] + " by " + v.RevokedBy
		}
		created, _ := time.Parse(time.RFC3339Nano, v.CreatedAt)
		rows[i] = table.Row{v.ID, v.Role, v.Name, fmt.Sprintf("created %s by %s, %s", created.UTC().Format("2006-01-02T15:04:05Z"), v.CreatedBy, state)}
	}
	return Table(w, "", []int{20, 9, 24}, rows)
}

// Incidents writes what shipgate collect incidents read from source: a
// count, then one incident a line.
func Incidents(w io.Writer, source string, list []incidents.Incident) error {
	open := 0
	for _, inc := range list {
		if inc.Status != "resolved" {
			open++
		}
	}
	if _, err := fmt.Fprintf(w, "%d incidents from %s, %d not resolved\n", len(list), source, open); err != nil {
		return err
	}
	rows := make([]table.Row, len(list))
	for i, inc := range list {
		rows[i] = table.Row{inc.ID, inc.Severity, inc.Status, inc.Title}
	}
	return Table(w, "  ", []int{10, 0, 9}, rows)
}

// CollectedIncidents is the line shipgate collect incidents logs for the
// IncidentStatus it recorded.
func CollectedIncidents(log io.Writer, doc *evidence.Document) error {
	_, err := fmt.Fprintf(log, "shipgate: recorded IncidentStatus for release %s @ %s: %s signed by %s\n",
		doc.ReleaseID, doc.Commit[:min(len(doc.Commit), 12)], doc.Digest, strings.Join(doc.SignedBy, ", "))
	return err
}

// ErrorBudget writes to w the error budget shipgate collect error-budget
// measured and recorded in doc, and, when the budget is spent, says on log
// that the deploy gate denies; it reports whether the budget is spent.
func ErrorBudget(w, log io.Writer, b *signals.Budget, doc *evidence.Document) (spent bool) {
	fmt.Fprintf(w, "error budget %s: %.1f%% left (error ratio %.4g over %s, objective %v); recorded %s, signed by %s\n",
		b.SLO, b.Remaining*100, b.ErrorRatio, b.Window, b.Objective, doc.Digest, strings.Join(doc.SignedBy, ", "))
	if b.Remaining <= 0 {
		fmt.Fprintf(log, "shipgate: the error budget of %s is spent: the deploy gate denies (checklist.error-budget)\n", b.SLO)
		return true
	}
	return false
}

// TestReport writes a policy test report for people: the tests that did
// not pass (every test when verbose, with each file's coverage), then the
// totals.
func TestReport(w io.Writer, rep *regotest.Report, verbose bool) error {
	var rows []table.Row
	for _, r := range rep.Results {
		if verbose || r.Outcome != "pass" {
			rows = append(rows, table.Row{r.Outcome, fmt.Sprintf("%s:%d %s.%s %s", r.File, r.Row, r.Package, r.Name, r.Message)})
		}
	}
	if err := Table(w, "", []int{5}, rows); err != nil {
		return err
	}
	if verbose {
		for _, f := range slices.Sorted(maps.Keys(rep.Files)) {
			fmt.Fprintf(w, "coverage %6.2f%% %s\n", rep.Files[f], f)
		}
	}
	_, err := fmt.Fprintf(w, "policy tests: %d passed, %d failed, %d errors, %d skipped; coverage %.2f%%\n",
		rep.Passed, rep.Failed, rep.Errored, rep.Skipped, rep.Coverage)
	return err
}

// RecordedDecision writes the decision shipgate decision show read from
// ledger entry seq: in JSON the entry, the decision and what replays it;
// for people the entry and the decision (format.Text).
func RecordedDecision(w io.Writer, format string, seq int64, rec *gate.Record) error {
	if format == "json" {
		return JSON(w, map[string]any{"entry": seq, "decision": rec.Decision, "replay": rec.Replay})
	}
	if _, err := fmt.Fprintf(w, "ledger entry %d\n", seq); err != nil {
		return err
	}
	return textformat.Text(w, rec.Decision)
}
