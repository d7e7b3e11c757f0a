package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/collect/git"
	"github.com/localizevideos/shipgate/collect/pm2"
	"github.com/localizevideos/shipgate/reconcile"
	"github.com/localizevideos/shipgate/report"
)

// The raw values a watch records: a ratio as the division gave it, and
// times to the nanosecond.
const (
	rawRate      = "0.03424773909781908"
	rawRollback  = 2.225123456
	reconcileApp = "localizevideos-app"
)

// shortHistory records two days as the demo does: on the first a release
// whose watch found a breach (a raw ratio, nanosecond window), rolled back;
// on the second a release that failed verification, rolled back, then
// reconciles of what runs: clean, hot-patched, restarted by hand.
func shortHistory(t *testing.T) (*fixture, *rel, *rel) {
	f := newFixture(t)
	S1, S2 := day(12, 1, 10, 5), day(12, 2, 10, 5)

	breach := f.newRel("lv-2026-12-01.1", reconcileApp, "production", "breach")
	f.want(breach, f.deployGate(breach, S1, okVariant()), true)
	f.want(breach, f.verifyGate(breach, S1, "allowed/verification.json"), true)
	start, end := S1.Add(90*time.Second+917023352), S1.Add(15*time.Minute+90*time.Second+917316537)
	mon := f.doc(breach, "allowed/monitoring.json", S1.Sub(baseAllowed), func(m map[string]any) {
		m["collectedAt"] = end.Add(15 * time.Second).Format(time.RFC3339Nano)
		data := m["data"].(map[string]any)
		data["result"] = "breach"
		data["window"] = map[string]any{"start": start.Format(time.RFC3339Nano), "end": end.Format(time.RFC3339Nano)}
		sig := data["signals"].([]any)[0].(map[string]any)
		sig["status"], sig["observed"] = "breach", json.Number(rawRate)
	})
	f.want(breach, f.completeGate(breach, S1, mon), false, "monitoring.healthy")
	rb := S1.Add(27*time.Minute + 412345678)
	f.addEvidence(rb.Add(10*time.Second), f.rollback(breach, S1, "succeeded", rb, rawRollback, "error_rate observed "+rawRate+" since "+start.Format(time.RFC3339Nano)))

	failed := f.newRel("lv-2026-12-02.1", reconcileApp, "production", "verify-failed")
	f.verifyFail(failed, S2, day(12, 4, 9, 0), 1)

	// The verify failure's rollback ran from S2+14m for 60s.
	started := S2.Add(15*time.Minute - 412*time.Millisecond)
	proc := pm2.Process{Name: reconcileApp, PID: 31631, Status: "online", Restarts: 5, StartedAt: started, Cwd: "/srv/localizevideos/app"}
	checkout := git.Facts{Repository: "localizevideos/app", Commit: "9a8b7c6d5e4f30211203f4e5d6c7b8a990817263", Branch: "main",
		Clean: true, CommitKnown: true, OnMain: true}
	reconcileAt := func(now time.Time, p pm2.Process, g git.Facts) {
		t.Helper()
		f.advance(now)
		_, err := reconcile.Check(f.ctx, f.db, reconcile.Request{Service: reconcileApp, Environment: "production", Process: p, Git: g,
			Actor: "dave", Now: now, PostmortemDue: 5 * 24 * time.Hour,
			NewID: func(prefix string, _ time.Time) string { f.n++; return fmt.Sprintf("%s_%04d", prefix, f.n) }})
		if err != nil {
			t.Fatalf("reconcile at %s: %v", now, err)
		}
	}
	reconcileAt(S2.Add(20*time.Minute+123456789), proc, checkout)
	patched := checkout
	patched.Clean = false
	reconcileAt(S2.Add(30*time.Minute+234567891), proc, patched)
	byHand := proc
	byHand.PID, byHand.Restarts, byHand.StartedAt = 31702, 6, S2.Add(35*time.Minute+465*time.Millisecond)
	reconcileAt(S2.Add(36*time.Minute+345678912), byHand, checkout)
	f.advance(day(12, 31, 0, 0))
	return f, breach, failed
}

// TestReportForPeople reads the Markdown and the HTML of two days as a
// person does: numbers and times rounded for reading, labels that say what
// happened, reconciles shown with what they recorded, a chart whose labels
// can be read. The JSON keeps the exact values.
func TestReportForPeople(t *testing.T) {
	ctx := context.Background()
	f, breach, failed := shortHistory(t)
	catalog := f.eng.Catalog()
	rep, err := report.Build(ctx, f.db, report.Options{Since: day(12, 1, 0, 0), Until: day(12, 3, 0, 0), Now: day(12, 15, 0, 0),
		Rules: catalog, Engine: f.eng, Validator: f.v})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Days) != 2 || len(rep.Releases) != 2 {
		t.Fatalf("the report has %d days and %d releases; want 2 and 2", len(rep.Days), len(rep.Releases))
	}
	out := map[string]string{}
	for _, format := range report.Formats {
		var buf bytes.Buffer
		if err := report.Write(&buf, rep, format); err != nil {
			t.Fatal(err)
		}
		out[format] = buf.String()
	}

	t.Run("numbers and times", func(t *testing.T) {
		long := regexp.MustCompile(`\d\.\d{5,}`)
		subMilli := regexp.MustCompile(`\d\d:\d\d:\d\d\.\d{4,}`)
		for _, format := range []string{report.FormatMarkdown, report.FormatHTML, report.FormatCSV} {
			if m := long.FindString(out[format]); m != "" {
				t.Errorf("%s has a number with more than 4 decimals: %s", format, around(out[format], m))
			}
			if m := subMilli.FindString(out[format]); m != "" {
				t.Errorf("%s has a time finer than a millisecond: %s", format, around(out[format], m))
			}
		}
		for _, format := range []string{report.FormatMarkdown, report.FormatHTML} {
			for _, want := range []string{
				`monitoring 2026-12-01T10:06:30Z to 2026-12-01T10:21:30Z breached: error\_rate (observed 0.0342, baseline 0.003)`,
				`rollback now: safety signals breached after release: error\_rate (observed 0.0342, baseline 0.003)`,
				`error\_rate observed 0.0342 since 2026-12-01T10:06:30Z`, // the rollback's reason
				"started at 2026-12-02T10:40:00Z, restart #6",            // PM2's milliseconds
				"Change failure rate",
				"100 % (2 of 2 deployed releases)",
			} {
				if format == report.FormatHTML {
					want = strings.ReplaceAll(want, `\_`, "_")
				}
				if !strings.Contains(out[format], want) {
					t.Errorf("%s lacks %q", format, want)
				}
			}
		}
		// A time in a table cell does not break at its hyphens.
		if want := `<td class="time">2026-12-01T10:32:00Z</td>`; !strings.Contains(out[report.FormatHTML], want) {
			t.Errorf("HTML lacks %s", want)
		}
		// Machines get the values as recorded.
		windowStart := day(12, 1, 10, 5).Add(90*time.Second + 917023352).Format(time.RFC3339Nano)
		for _, want := range []string{"observed " + rawRate, windowStart, `"durationSeconds": 2.225123456`} {
			if !strings.Contains(out[report.FormatJSON], want) {
				t.Errorf("JSON lacks the exact %s", want)
			}
		}
	})

	t.Run("labels", func(t *testing.T) {
		md := out[report.FormatMarkdown]
		for _, c := range []struct {
			r         *rel
			want, not string
		}{
			{breach, "deployed, monitoring breach, rolled back, restored in", "failed verification"},
			{failed, "deployed, failed verification, rolled back, restored in", "monitoring breach"},
		} {
			line := lineAfter(md, "### "+c.r.ID+"\n")
			if !strings.Contains(line, c.want) || strings.Contains(line, c.not) {
				t.Errorf("%s (%s): %q; want %q and not %q", c.r.ID, c.r.Scenario, line, c.want, c.not)
			}
		}
		const failures = "2 rolled back, 1 failed verification, 1 monitoring breach"
		if !strings.Contains(md, "| Failed releases | "+failures+" |") {
			t.Errorf("Markdown: the failed releases are not told apart: %s", lineWith(md, "| Failed releases"))
		}
		if !strings.Contains(out[report.FormatHTML], "<th>Failed releases</th><td>"+failures+"</td>") {
			t.Errorf("HTML: the failed releases are not told apart")
		}
		r := rep.Releases[0]
		if !r.VerificationFailed || r.VerifyDenied || !r.MonitoringBreached {
			t.Errorf("%s: verificationFailed %t verifyDenied %t monitoringBreached %t; want true false true", r.ID,
				r.VerificationFailed, r.VerifyDenied, r.MonitoringBreached)
		}
	})

	t.Run("reconcile", func(t *testing.T) {
		for _, format := range []string{report.FormatMarkdown, report.FormatHTML} {
			o := out[format]
			for _, bad := range []string{"policy revision , input", "policy revision ``", "input ``", "policy revision <code></code>", "input <code></code>"} {
				if strings.Contains(o, bad) {
					t.Errorf("%s renders empty fields: %q", format, bad)
				}
			}
			if n := strings.Count(o, "a reconcile of what runs (no policy evaluation): pm2 app "); n != 3 {
				t.Errorf("%s: %d reconciles told as such, with what they saw; want 3", format, n)
			}
			for _, want := range []string{
				"pm2 app localizevideos-app (pid 31631, restart #5, started 2026-12-02T10:19:59Z, online), started during the Rollback of lv-2026-12-02.1",
				"; directory /srv/localizevideos/app at 9a8b7c6d5e4f (the commit the last deploy or rollback left), clean, on main.",
				"; directory /srv/localizevideos/app at 9a8b7c6d5e4f (the commit the last deploy or rollback left), uncommitted changes, on main.",
				"pm2 app localizevideos-app (pid 31702, restart #6, started 2026-12-02T10:40:00Z, online), started outside any allowed deploy or rollback",
				"No drift: what runs is what the ledger says was released.",
				"Drift: 1 rule failed (forbidden.hot-patch): what runs is not what the ledger says was released.",
			} {
				if !strings.Contains(o, want) {
					t.Errorf("%s lacks %q", format, want)
				}
			}
		}
		md := out[report.FormatMarkdown]
		if want := "code was patched outside git. To pass: commit the change"; !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q: a finding's message runs into what follows", want)
		}
		for _, want := range []string{"##### reconcile NO DRIFT at 2026-12-02T10:25:00Z", "##### reconcile DRIFT at 2026-12-02T10:35:00Z"} {
			if !strings.Contains(md, want) {
				t.Errorf("Markdown lacks %q", want)
			}
		}
		if line := lineAfter(md, "### "+failed.ID+"\n"); !strings.HasSuffix(line, ", drift found by reconcile.") {
			t.Errorf("%s: %q; want the drift the reconciles found", failed.ID, line)
		}
		var observed int
		for _, d := range rep.Releases[1].Decisions {
			if o := d.Observed; o != nil && o.Process.PID != 0 && o.Git.Commit != "" && o.Process.StartedAt != nil {
				observed++
			}
		}
		if observed != 3 {
			t.Errorf("the model carries what %d reconciles observed; want 3", observed)
		}
	})

	t.Run("chart labels", func(t *testing.T) { checkDayLabels(t, out[report.FormatHTML]) })

	t.Run("browser", func(t *testing.T) { testBrowser(t, out[report.FormatHTML]) })
}

var dayLabel = regexp.MustCompile(`<text x="([0-9.]+)" y="[0-9.]+" text-anchor="middle">([^<]*)</text>`)

// checkDayLabels holds the day labels of the per-day chart at least a
// label's width apart. At 11px a digit of a sans-serif face is at most
// 0.6em wide (6.6px) and a hyphen narrower, so a label of n characters
// takes at most 6.6n px; centred labels overlap unless their centres are
// that far apart.
func checkDayLabels(t *testing.T, page string) {
	t.Helper()
	i := strings.Index(page, `aria-label="Decisions per day"`)
	j := strings.Index(page[max(i, 0):], "</svg>")
	if i < 0 || j < 0 {
		t.Fatal("no per-day chart")
	}
	labels := dayLabel.FindAllStringSubmatch(page[i:i+j], -1)
	if len(labels) == 0 {
		t.Fatal("the per-day chart has no day label")
	}
	prev, prevText := -1e9, ""
	for _, l := range labels {
		x, err := strconv.ParseFloat(l[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		width := 6.6 * float64(len(l[2]))
		if x-prev < width {
			t.Errorf("day labels %q at x=%.1f and %q at x=%.1f overlap: want at least %.1f apart", prevText, prev, l[2], x, width)
		}
		prev, prevText = x, l[2]
	}
}

func lineAfter(s, prefix string) string {
	i := strings.Index(s, prefix)
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(s[i+len(prefix):], "\n")
	line, _, _ := strings.Cut(rest, "\n")
	return line
}

func lineWith(s, sub string) string {
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			return line
		}
	}
	return ""
}

// around is m with the text around its first occurrence in s.
func around(s, m string) string {
	i := strings.Index(s, m)
	return strconv.Quote(s[max(0, i-80):min(len(s), i+len(m)+20)])
}
