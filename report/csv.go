package report

import (
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
)

// csvHeader names the columns of the CSV format, one row per release.
var csvHeader = table.Row{
	"release", "service", "environment", "commit", "first_decision_at",
	"decisions", "allowed", "denied", "dry_runs", "denied_rules",
	"deployed", "emergency", "during_freeze", "freeze_windows",
	"verification_failed", "verify_denied", "monitoring_breached", "rolled_back", "failed", "failed_at", "restored_at", "time_to_restore_seconds",
	"deploy_seconds", "rollback_seconds",
	"violations_opened", "violations_closed", "violations_closed_late", "violations_open", "violations_overdue",
	"overrides", "approvals", "postmortems",
}

func writeCSV(w io.Writer, rep *Report) error {
	t := table.NewWriter()
	// The file is meant for spreadsheets: neutralise cells they would read
	// as formulas.
	t.Style().CSV.FieldProtection = true
	t.AppendHeader(csvHeader)
	for _, r := range rep.Releases {
		var decisions, allowed, denied, dry int
		var rules []string
		for _, d := range r.Decisions {
			if d.DryRun {
				dry++
				continue
			}
			decisions++
			if d.Allow {
				allowed++
				continue
			}
			denied++
			for _, f := range d.Violations {
				if !slices.Contains(rules, f.Rule) {
					rules = append(rules, f.Rule)
				}
			}
		}
		slices.Sort(rules)
		var opened, closed, late, open, overdue int
		for _, v := range r.Violations {
			opened++
			if v.Status == "closed" {
				closed++
				if v.Late {
					late++
				}
			} else {
				open++
				if v.Overdue {
					overdue++
				}
			}
		}
		first := ""
		if len(r.Decisions) > 0 {
			first = fmtTime(r.Decisions[0].EvaluatedAt)
		}
		t.AppendRow(table.Row{
			r.ID, r.Service, r.Environment, r.Commit, first,
			decisions, allowed, denied, dry, strings.Join(rules, " "),
			r.Deployed, r.Emergency, r.DuringFreeze, strings.Join(r.FreezeWindows, " "),
			r.VerificationFailed, r.VerifyDenied, r.MonitoringBreached, r.RolledBack, r.Failed, fmtTimePtr(r.FailedAt), fmtTimePtr(r.RestoredAt), csvNumber(r.TimeToRestoreSeconds),
			csvNumber(r.DeploySeconds), csvNumber(r.RollbackSeconds),
			opened, closed, late, open, overdue,
			len(r.Overrides), len(r.Approvals), len(r.Postmortems),
		})
	}
	_, err := io.WriteString(w, t.RenderCSV()+"\n")
	return err
}

// csvNumber writes seconds to the millisecond: the nanoseconds of a
// difference of two recorded times are noise in a spreadsheet.
func csvNumber(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(math.Round(*f*1000)/1000, 'f', -1, 64)
}
