package console

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"

	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/release"
)

// Status writes a release's checklist: each step marked done [x],
// missing [ ], failed [!] or ignored [~], its open violations (overdue
// as of now), its rollbacks, and the next command.
func Status(w io.Writer, st *gate.ReleaseStatus, now time.Time) error {
	if _, err := fmt.Fprintf(w, "release %s\n", st.Release); err != nil {
		return err
	}
	rows := make([]table.Row, len(st.Steps))
	for i, step := range st.Steps {
		mark := map[string]string{gate.Done: "[x]", gate.Missing: "[ ]", gate.Failed: "[!]", gate.Ignored: "[~]"}[step.State]
		detail := ""
		if step.Detail != "" {
			detail = " (" + step.Detail + ")"
		}
		rows[i] = table.Row{mark, step.Name, step.State + detail}
	}
	if err := Table(w, "  ", []int{0, 16}, rows); err != nil {
		return err
	}
	var b strings.Builder
	for _, v := range st.Open {
		due := "due " + v.Due.UTC().Format("2006-01-02")
		if now.After(v.Due) {
			due = "OVERDUE since " + v.Due.UTC().Format("2006-01-02")
		}
		fmt.Fprintf(&b, "  open %s %s, %s: %s\n", v.Kind, v.ID, due, strings.Join(v.Rules, ", "))
	}
	for _, rb := range st.Rollbacks {
		fmt.Fprintf(&b, "  rollback %s\n", RollbackLine(rb))
	}
	fmt.Fprintf(&b, "next: %s\n", st.Next)
	_, err := io.WriteString(w, b.String())
	return err
}

// RollbackLine is one recorded rollback: "fast succeeded (verify-failed)
// to lv-1 @ f8a8732fa267 in 0.412s: checkout, restore, restart".
func RollbackLine(rb gate.Rollback) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", rb.Strategy, rb.Status)
	if rb.Trigger != "" {
		fmt.Fprintf(&b, " (%s)", rb.Trigger)
	}
	switch {
	case rb.ToRelease != "":
		fmt.Fprintf(&b, " to %s @ %s", rb.ToRelease, release.ShortHex(rb.ToCommit))
	case rb.Flag != "":
		fmt.Fprintf(&b, " flag %s off", rb.Flag)
	}
	fmt.Fprintf(&b, " in %.3fs", rb.DurationSeconds)
	if len(rb.Steps) > 0 {
		fmt.Fprintf(&b, ": %s", strings.Join(rb.Steps, ", "))
	}
	return b.String()
}
