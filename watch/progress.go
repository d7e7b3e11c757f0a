package watch

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress shows the window as it goes: on a terminal a block redrawn in
// place, otherwise one plain line per sample (logs and CI keep every line).
type progress struct {
	w     io.Writer
	live  bool
	lines int
}

func (p *progress) render(at, start, end time.Time, n, expected int, states []*state) {
	if p.w == nil {
		return
	}
	left := max(end.Sub(at), 0).Round(time.Second)
	if !p.live {
		var b strings.Builder
		fmt.Fprintf(&b, "watch %s left, sample %d/%d:", left, n, expected)
		for _, st := range states {
			fmt.Fprintf(&b, " %s=%s (%s)", st.sig.Name, value(st), status(st))
		}
		fmt.Fprintln(p.w, b.String())
		return
	}
	var b strings.Builder
	if p.lines > 0 {
		// Move up over the previous block and clear it.
		fmt.Fprintf(&b, "\x1b[%dA\x1b[J", p.lines)
	}
	fmt.Fprintf(&b, "watching: %s left of %s (sample %d/%d)\n", left, end.Sub(start).Round(time.Second), n, expected)
	width := 0
	for _, st := range states {
		width = max(width, len(st.sig.Name))
	}
	for _, st := range states {
		mark := map[string]string{Healthy: "ok     ", Breach: "BREACH ", NoData: "no data"}[st.last]
		if st.last == Breach && st.pending() {
			mark = fmt.Sprintf("%d/%d    ", st.streak, st.sig.BreachAfter)[:7]
		}
		base := ""
		if st.sig.NeedsBaseline && st.baselineErr == nil {
			base = fmt.Sprintf(" (baseline %s)", format(st.baseline))
		}
		fmt.Fprintf(&b, "  %s %-*s %12s  breach if %s%s\n", mark, width, st.sig.Name, value(st), st.sig.Breach, base)
	}
	p.lines = len(states) + 1
	_, _ = io.WriteString(p.w, b.String())
}

func value(st *state) string {
	if st.last == NoData || st.observed == nil {
		return "-"
	}
	v := format(*st.observed)
	if st.sig.Unit != "" {
		v += " " + st.sig.Unit
	}
	return v
}

// status is the latest reading's status, with a breach still short of
// breachAfter shown as pending k/N.
func status(st *state) string {
	if st.last == Breach && st.pending() {
		return fmt.Sprintf("breach pending %d/%d", st.streak, st.sig.BreachAfter)
	}
	return st.last
}
