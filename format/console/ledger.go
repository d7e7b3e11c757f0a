package console

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"

	"github.com/localizevideos/shipgate/api"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/store"
)

// EvidenceAdded writes one line per document shipgate evidence add
// recorded: its kind, digest, source, release and ledger entry.
func EvidenceAdded(w io.Writer, added []release.Added) error {
	rows := make([]table.Row, len(added))
	for i, a := range added {
		state := fmt.Sprintf("recorded as entry %d", a.Entry)
		if !a.New {
			state = "already recorded"
		}
		if len(a.SignedBy) > 0 && a.New {
			state += ", signed by " + strings.Join(a.SignedBy, ", ")
		}
		rows[i] = table.Row{a.Kind, a.Digest, fmt.Sprintf("%s (release %s): %s", a.Source, a.Release, state)}
	}
	return Table(w, "", []int{15}, rows)
}

// Validation writes one line per valid file and per validation error of
// shipgate evidence validate.
func Validation(w io.Writer, results []release.Validated) error {
	var b strings.Builder
	for _, r := range results {
		switch {
		case r.Valid && len(r.Signed) > 0:
			fmt.Fprintf(&b, "ok      %-15s %s %s (signed by %s)\n", r.Kind, r.Digest, r.Source, strings.Join(r.Signed, ", "))
		case r.Valid:
			fmt.Fprintf(&b, "ok      %-15s %s %s\n", r.Kind, r.Digest, r.Source)
		case r.Errors != nil:
			for _, e := range r.Errors {
				fmt.Fprintf(&b, "invalid %s\n", e.Error())
			}
		default:
			fmt.Fprintf(&b, "invalid %s\n", r.Error)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Evidence writes d as shipgate evidence show prints it: in JSON its
// source, digest, signers and the document; for people its envelope
// (EvidenceHeader), then its data as JSON.
func Evidence(w io.Writer, format string, d *evidence.Document) error {
	if format == "json" {
		signedBy := d.SignedBy
		if signedBy == nil {
			signedBy = []string{}
		}
		return JSON(w, map[string]any{"source": d.Source, "digest": d.Digest, "signedBy": signedBy, "document": d.Value})
	}
	if err := EvidenceHeader(w, d); err != nil {
		return err
	}
	return JSON(w, d.Value["data"])
}

// EvidenceHeader writes the envelope of d, the lines shipgate evidence
// show prints before its data: kind, digest, release, subject, collector
// and signers.
func EvidenceHeader(w io.Writer, d *evidence.Document) error {
	signed := "nobody (a bare document)"
	if len(d.SignedBy) > 0 {
		signed = strings.Join(d.SignedBy, ", ") + " (DSSE, verified)"
	}
	_, err := fmt.Fprintf(w, "kind:        %s\ndigest:      %s\nrelease:     %s (%s/%s)\nsubject:     %s @ %s\ncollected:   %s by %s\nsigned by:   %s\ndata:\n",
		d.Kind, d.Digest, d.ReleaseID, d.Service, d.Environment, d.Repository, d.Commit,
		d.CollectedAt.UTC().Format(time.RFC3339), d.Actor, signed)
	return err
}

// Violations writes one line per violation, the overdue ones marked, or
// "no violations".
func Violations(w io.Writer, views []api.ViolationView) error {
	if len(views) == 0 {
		_, err := fmt.Fprintln(w, "no violations")
		return err
	}
	rows := make([]table.Row, len(views))
	for i, v := range views {
		state := v.Status
		if v.Overdue {
			state = "OVERDUE"
		}
		rows[i] = table.Row{v.ID, v.Kind, state, fmt.Sprintf("due %s  %s %s %s  %s",
			v.Due.UTC().Format("2006-01-02"), v.Service, v.Release, v.Gate, strings.Join(v.Rules, ","))}
	}
	return Table(w, "", []int{30, 10, 7}, rows)
}

// Violation writes one violation, a field a line.
func Violation(w io.Writer, vv api.ViolationView) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) %s\n", vv.ID, vv.Kind, vv.Status)
	fmt.Fprintf(&b, "release:   %s (%s/%s), %s gate, decision %s\n", vv.Release, vv.Service, vv.Environment, vv.Gate, vv.Decision)
	fmt.Fprintf(&b, "rules:     %s\n", strings.Join(vv.Rules, ", "))
	fmt.Fprintf(&b, "actor:     %s\n", vv.Actor)
	fmt.Fprintf(&b, "opened:    %s\n", vv.OpenedAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "due:       %s%s\n", vv.Due.UTC().Format(time.RFC3339), map[bool]string{true: " (overdue)"}[vv.Overdue])
	if vv.ClosedAt != "" {
		fmt.Fprintf(&b, "closed:    %s by postmortem %s\n", vv.ClosedAt, vv.ClosedBy)
	}
	fmt.Fprintf(&b, "message:   %s\n", vv.Message)
	_, err := io.WriteString(w, b.String())
	return err
}

// Closed writes one line per violation the postmortem of digest closed.
func Closed(w io.Writer, closed []store.Violation, digest string) error {
	var b strings.Builder
	for _, c := range closed {
		fmt.Fprintf(&b, "closed %s (%s %s, %s gate) by postmortem %s\n", c.ID, c.Kind, c.ReleaseID, c.Gate, digest)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Swept writes the violations a sweep opened, or, when it found none and
// finished (done), "no skipped verification".
func Swept(w io.Writer, found []gate.Skipped, done bool) error {
	if len(found) == 0 && done {
		_, err := fmt.Fprintln(w, "no skipped verification")
		return err
	}
	var b strings.Builder
	for _, k := range found {
		fmt.Fprintf(&b, "%s opened: %s %s (%s/%s), deployed %s, not verified by %s\n  %s\n  recorded %s\n",
			k.Violation, gate.RuleSkippedSmokeTests, k.Release.ID, k.Release.Service, k.Release.Environment,
			k.FinishedAt.Format(time.RFC3339), k.VerifyBy.Format(time.RFC3339), k.Message, k.Decision)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
