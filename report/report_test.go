package report_test

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/report"
	"github.com/localizevideos/shipgate/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	since     = day(11, 1, 0, 0)
	until     = day(12, 1, 0, 0)
	reportNow = day(12, 15, 0, 0)
)

// TestReport records the fixture ledger once and checks the report of
// November from every side; the tampering comes last.
func TestReport(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.build()
	catalog := f.eng.Catalog()
	opts := report.Options{Since: since, Until: until, Now: reportNow, Rules: catalog, Engine: f.eng, Validator: f.v}
	rep, err := report.Build(ctx, f.db, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Integrity.Intact {
		t.Fatalf("integrity of the fixture ledger: %s", rep.Integrity.Statement)
	}

	t.Run("figures", func(t *testing.T) {
		want := expect(f, since, until, until, "", "")
		if want.Releases < 30 || want.EmergencyReleases == 0 || want.Violations.ClosedLate == 0 || want.Violations.Overdue == 0 ||
			want.TimeToRestore.Count == 0 || want.Freeze.Releases == 0 || want.DryRuns == 0 || want.Overrides == 0 ||
			want.ChangeFailure.Verify == want.ChangeFailure.RolledBack || want.Rollbacks.SlowerThanDeploy == want.Rollbacks.Count {
			t.Fatalf("the fixture does not exercise every figure: %+v", want)
		}
		if diff := gocmp.Diff(want, rep.Summary, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Summary (-want +got):\n%s", diff)
		}
	})

	t.Run("days", func(t *testing.T) {
		want := map[string][2]int{}
		for _, r := range f.rels {
			for _, d := range r.Decisions {
				if d.DryRun || d.EvaluatedAt.Before(since) || !d.EvaluatedAt.Before(until) {
					continue
				}
				c := want[d.EvaluatedAt.Format(time.DateOnly)]
				if d.Allow {
					c[0]++
				} else {
					c[1]++
				}
				want[d.EvaluatedAt.Format(time.DateOnly)] = c
			}
		}
		if len(rep.Days) != 30 {
			t.Errorf("Days has %d days; want the 30 of November", len(rep.Days))
		}
		for _, d := range rep.Days {
			if got := [2]int{d.Allowed, d.Denied}; got != want[d.Date] {
				t.Errorf("Days[%s] = %v; want %v", d.Date, got, want[d.Date])
			}
		}
	})

	t.Run("releases", func(t *testing.T) {
		var wantIDs []string
		for _, r := range inScope(f, since, until, "", "") {
			wantIDs = append(wantIDs, r.ID)
		}
		var gotIDs []string
		for _, r := range rep.Releases {
			gotIDs = append(gotIDs, r.ID)
		}
		if diff := gocmp.Diff(wantIDs, gotIDs); diff != "" {
			t.Fatalf("releases (-want +got):\n%s", diff)
		}
		for i, r := range rep.Releases {
			w := inScope(f, since, until, "", "")[i]
			var wantTTR *float64
			if !w.RestoredAt.IsZero() {
				wantTTR = new(w.RestoredAt.Sub(w.FailureAt).Seconds())
			}
			if !gocmp.Equal(r.TimeToRestoreSeconds, wantTTR) || r.Emergency != w.Emergency || r.RolledBack != w.RolledBack ||
				r.VerificationFailed != (w.VerifyFailed || w.Breach) || r.DuringFreeze != w.FrozenDeploy {
				t.Errorf("%s: ttr %v emergency %t rolledBack %t verificationFailed %t freeze %t; want %v %t %t %t %t", r.ID,
					fmtPtr(r.TimeToRestoreSeconds), r.Emergency, r.RolledBack, r.VerificationFailed, r.DuringFreeze,
					fmtPtr(wantTTR), w.Emergency, w.RolledBack, w.VerifyFailed || w.Breach, w.FrozenDeploy)
			}
			if w.FrozenDeploy && !slices.Contains(r.FreezeWindows, "weekend") {
				t.Errorf("%s: freeze windows %v; want the weekend freeze", r.ID, r.FreezeWindows)
			}
			var n int
			for _, e := range r.Evidence {
				if !e.RecordedAt.Before(until) {
					t.Errorf("%s: evidence %s recorded at %s, after the period", r.ID, e.Digest, e.RecordedAt)
				}
				n++
			}
			if n == 0 {
				t.Errorf("%s: no evidence", r.ID)
			}
		}
	})

	t.Run("explanations", func(t *testing.T) {
		for _, r := range rep.Releases {
			for _, d := range r.Decisions {
				ex := d.Explanation
				if !d.Allow {
					for _, v := range d.Violations {
						o := outcome(ex, v.Rule)
						if o == nil || o.Outcome != report.Violated || o.Remediation == "" || o.Title == "" || !strings.Contains(o.Detail, v.Message) {
							t.Errorf("%s %s: violation %s explained as %+v", r.ID, d.ID, v.Rule, o)
						}
					}
					continue
				}
				if !ex.Attributed {
					t.Errorf("%s %s: allowed decision not attributed: %s", r.ID, d.ID, ex.Note)
					continue
				}
				for _, rule := range d.Rules {
					if o := outcome(ex, rule); o == nil || o.Title == "" {
						t.Errorf("%s %s: rule %s: %+v; want an outcome with a title", r.ID, d.ID, rule, o)
					}
				}
			}
		}
		// The first plain release's deploy: the Approval satisfied
		// approval.required, the Plan the rollback plan rule, and without
		// the Build the required evidence would be missing.
		d := rep.Releases[0].Decisions[0]
		kindOf := map[string]string{}
		for _, e := range d.Evidence {
			kindOf[e.Digest] = e.Kind
		}
		for rule, kind := range map[string]string{"approval.required": "Approval", "forbidden.no-rollback-plan": "Plan",
			engine.RuleEvidenceMissing: "Build", "checklist.build-passed": "Build"} {
			o := outcome(d.Explanation, rule)
			if o == nil || o.Outcome != report.Held || !slices.ContainsFunc(o.SatisfiedBy, func(dg string) bool { return kindOf[dg] == kind }) {
				t.Errorf("%s: %s = %+v; want held, satisfied by the %s", d.ID, rule, o, kind)
			}
		}
		// An override names who lifted it and why.
		var found bool
		for _, r := range rep.Releases {
			for _, o := range r.Overrides {
				found = true
				if o.Approver != "bob" || !strings.Contains(o.Reason, "INC-39") || o.Rule != "checklist.error-budget" {
					t.Errorf("%s: override %+v", r.ID, o)
				}
			}
		}
		if !found {
			t.Error("no override in the report")
		}
	})

	t.Run("filters", func(t *testing.T) {
		for _, c := range []struct{ service, env string }{{"lv-worker", ""}, {"", "staging"}, {"localizevideos-app", "production"}} {
			o := opts
			o.Service, o.Environment = c.service, c.env
			got, err := report.Build(ctx, f.db, o)
			if err != nil {
				t.Fatal(err)
			}
			want := expect(f, since, until, until, c.service, c.env)
			if diff := gocmp.Diff(want, got.Summary, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("service %q environment %q: Summary (-want +got):\n%s", c.service, c.env, diff)
			}
			for _, r := range got.Releases {
				if (c.service != "" && r.Service != c.service) || (c.env != "" && r.Environment != c.env) {
					t.Errorf("service %q environment %q: release %s of %s/%s", c.service, c.env, r.ID, r.Service, r.Environment)
				}
			}
		}
	})

	t.Run("as of now", func(t *testing.T) {
		// A report made during the period takes the state of now: a
		// violation is overdue once past due at the time of the report.
		now := day(11, 8, 0, 0)
		o := opts
		o.Until, o.Now = day(11, 30, 0, 0), now
		got, err := report.Build(ctx, f.db, o)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Period.AsOf.Equal(now) {
			t.Errorf("AsOf = %s; want %s", got.Period.AsOf, now)
		}
		want := expect(f, since, o.Until, now, "", "")
		if diff := gocmp.Diff(want, got.Summary, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Summary as of %s (-want +got):\n%s", now, diff)
		}
	})

	t.Run("golden", func(t *testing.T) {
		// The first week of November holds every kind of release; the
		// month would make golden files of a megabyte.
		o := opts
		o.Since, o.Until = day(11, 2, 0, 0), day(11, 9, 0, 0)
		week, err := report.Build(ctx, f.db, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{report.FormatMarkdown, report.FormatJSON} {
			var buf bytes.Buffer
			if err := report.Write(&buf, week, format); err != nil {
				t.Fatal(err)
			}
			golden(t, "week."+format, normalize(buf.String(), f.eng, week))
		}
	})

	t.Run("json", func(t *testing.T) {
		var buf bytes.Buffer
		if err := report.Write(&buf, rep, report.FormatJSON); err != nil {
			t.Fatal(err)
		}
		var back report.Report
		dec := json.NewDecoder(&buf)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&back); err != nil {
			t.Fatal(err)
		}
		if back.Schema != report.Schema || !gocmp.Equal(back.Summary, rep.Summary) || len(back.Releases) != len(rep.Releases) {
			t.Errorf("the JSON does not read back as the report")
		}
	})

	t.Run("csv", func(t *testing.T) {
		var buf bytes.Buffer
		if err := report.Write(&buf, rep, report.FormatCSV); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(rep.Releases)+1 {
			t.Fatalf("CSV has %d rows; want a header and %d releases", len(rows), len(rep.Releases))
		}
		col := func(name string) int { return slices.Index(rows[0], name) }
		var rolled, failed, opened int
		for i, row := range rows[1:] {
			r := rep.Releases[i]
			if row[col("release")] != r.ID || row[col("service")] != r.Service {
				t.Errorf("row %d = %v; want release %s", i+1, row[:3], r.ID)
			}
			if row[col("rolled_back")] == "true" {
				rolled++
			}
			if row[col("failed")] == "true" {
				failed++
			}
			opened += atoi(t, row[col("violations_opened")])
		}
		s := rep.Summary
		if rolled != s.ChangeFailure.RolledBack || failed != s.ChangeFailure.Failed || opened != s.Violations.Opened {
			t.Errorf("CSV totals: rolled back %d, failed %d, opened %d; want %d, %d, %d", rolled, failed, opened,
				s.ChangeFailure.RolledBack, s.ChangeFailure.Failed, s.Violations.Opened)
		}
	})

	t.Run("html", func(t *testing.T) {
		page := renderHTML(t, rep)
		checkHTML(t, page)
		first := strings.Index(page, `id="integrity"`)
		if first < 0 || first > strings.Index(page, "<h2>") || !strings.Contains(page, "Ledger intact: ") {
			t.Errorf("the integrity line is not at the top")
		}
		for _, r := range rep.Summary.DenialsByRule {
			if !strings.Contains(page, ">"+r.Rule+"</text>") {
				t.Errorf("the denials chart has no bar for %s", r.Rule)
			}
		}
	})

	t.Run("escaping", func(t *testing.T) {
		evil := *rep
		evil.Releases = slices.Clone(rep.Releases)
		r := evil.Releases[0]
		r.Approvals = []report.Approval{{Approver: "eve", Comment: `<script>alert(1)</script><img src="https://evil.example/x.png">`}}
		evil.Releases[0] = r
		page := renderHTML(t, &evil)
		checkHTML(t, page)
		var md bytes.Buffer
		if err := report.Write(&md, &evil, report.FormatMarkdown); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(md.String(), "<script") || strings.Contains(md.String(), "<img") {
			t.Errorf("Markdown passes HTML from the evidence through")
		}
	})

	t.Run("browser", func(t *testing.T) { testBrowser(t, renderHTML(t, rep)) })

	t.Run("checkpoint", func(t *testing.T) {
		priv, _, err := ledger.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		key, err := ledger.ParsePrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		head, err := f.db.Verify(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		cp := ledger.NewCheckpoint("shipgate:test", head, reportNow, key)
		o := opts
		o.Checkpoint = &cp
		got, err := report.Build(ctx, f.db, o)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Integrity.Intact || got.Integrity.Checkpoint == nil || !strings.Contains(got.Integrity.Statement, "consistent with the checkpoint of") {
			t.Errorf("with a checkpoint: %+v", got.Integrity)
		}
	})

	t.Run("tampered", func(t *testing.T) {
		// Someone flips a recorded denial to an allow in the decisions
		// table, then edits an entry's body by hand.
		raw, err := sql.Open("sqlite", "file:"+f.path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		var id string
		if err := raw.QueryRow("SELECT id FROM decisions WHERE allow = 0 ORDER BY seq LIMIT 1").Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec("UPDATE decisions SET allow = 1 WHERE id = ?", id); err != nil {
			t.Fatal(err)
		}
		got, err := report.Build(ctx, f.db, opts)
		if err != nil {
			t.Fatal(err)
		}
		var pe *store.ProjectionError
		if got.Integrity.Intact || !errors.As(got.Integrity.Err, &pe) || !strings.Contains(got.Integrity.Statement, id) {
			t.Fatalf("after flipping %s: integrity %+v", id, got.Integrity)
		}
		for _, format := range []string{report.FormatMarkdown, report.FormatHTML} {
			var buf bytes.Buffer
			if err := report.Write(&buf, got, format); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			i := strings.Index(out, "LEDGER INTEGRITY FAILURE")
			if i < 0 || i > strings.Index(out, "Summary") {
				t.Errorf("%s: the integrity failure is not stated at the top", format)
			}
		}

		for _, q := range []string{"DROP TRIGGER entries_no_update", "UPDATE decisions SET allow = 0 WHERE id = '" + id + "'"} {
			if _, err := raw.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		var seq int64
		var body []byte
		if err := raw.QueryRow("SELECT seq, body FROM entries WHERE type = 'evidence' AND instr(body, ?) > 0 ORDER BY seq LIMIT 1",
			[]byte(`"approver":"alice"`)).Scan(&seq, &body); err != nil {
			t.Fatal(err)
		}
		body = bytes.Replace(body, []byte(`"approver":"alice"`), []byte(`"approver":"mallory"`), 1)
		if _, err := raw.Exec("UPDATE entries SET body = ? WHERE seq = ?", body, seq); err != nil {
			t.Fatal(err)
		}
		got, err = report.Build(ctx, f.db, opts)
		if err != nil {
			t.Fatal(err)
		}
		var be *ledger.BreakError
		if got.Integrity.Intact || !errors.As(got.Integrity.Err, &be) || be.Seq != seq || !strings.HasPrefix(got.Integrity.Statement, "LEDGER INTEGRITY FAILURE: ") {
			t.Errorf("after editing an entry: integrity %+v", got.Integrity)
		}
	})
}

func outcome(ex report.Explanation, rule string) *report.RuleOutcome {
	for i := range ex.Rules {
		if ex.Rules[i].Rule == rule {
			return &ex.Rules[i]
		}
	}
	return nil
}

// inScope lists the releases the report of the period must hold, in the
// order of their first decision in it.
func inScope(f *fixture, since, until time.Time, service, env string) []*rel {
	var out []*rel
	first := map[*rel]time.Time{}
	for _, r := range f.rels {
		if (service != "" && r.Service != service) || (env != "" && r.Env != env) {
			continue
		}
		for _, d := range r.Decisions {
			if !d.EvaluatedAt.Before(since) && d.EvaluatedAt.Before(until) {
				first[r] = d.EvaluatedAt
				out = append(out, r)
				break
			}
		}
	}
	slices.SortStableFunc(out, func(a, b *rel) int { return first[a].Compare(first[b]) })
	return out
}

// expect computes the summary from what the fixture recorded.
func expect(f *fixture, since, until, asOf time.Time, service, env string) report.Summary {
	s := report.Summary{DenialReasons: map[string]int{}, Gates: map[string]report.GateCount{}}
	denials := map[string]int{}
	var lead, restore, rollbacks, deploys []float64
	for _, r := range inScope(f, since, until, service, env) {
		s.Releases++
		deployed := false
		for _, d := range r.Decisions {
			if d.EvaluatedAt.Before(since) || !d.EvaluatedAt.Before(until) {
				continue
			}
			if d.DryRun {
				s.DryRuns++
				continue
			}
			s.Decisions++
			g := s.Gates[d.Gate]
			if d.Allow {
				s.Allowed++
				g.Allowed++
				deployed = deployed || d.Gate == "deploy"
			} else {
				s.Denied++
				g.Denied++
				s.DenialReasons[d.Reason]++
				rules := map[string]bool{}
				for _, v := range d.Violations {
					rules[v.Rule] = true
				}
				for rule := range rules {
					denials[rule]++
				}
			}
			s.Gates[d.Gate] = g
			s.Overrides += len(d.Overridden)
			for _, id := range d.Opened {
				s.Violations.Opened++
				due := d.EvaluatedAt.Add(5 * 24 * time.Hour)
				if strings.HasPrefix(id, "obl_") {
					s.Violations.Obligations++
					due, _ = time.Parse(time.RFC3339, d.Obligations[0].Due)
				}
				if at, ok := f.closed[id]; ok && at.Before(until) {
					s.Violations.Closed++
					if at.After(due) {
						s.Violations.ClosedLate++
					}
					lead = append(lead, at.Sub(d.EvaluatedAt).Seconds())
				} else {
					s.Violations.Open++
					if due.Before(asOf) {
						s.Violations.Overdue++
					}
				}
			}
		}
		if r.Emergency {
			s.EmergencyReleases++
		}
		if r.FrozenDeploy {
			s.Freeze.Releases++
			if r.Emergency {
				s.Freeze.Allowed++
				s.Freeze.Emergency++
			}
		}
		if deployed {
			s.ChangeFailure.Deployed++
			failedVerify := r.VerifyFailed || r.Breach
			if r.RolledBack || failedVerify {
				s.ChangeFailure.Failed++
			}
			if r.RolledBack {
				s.ChangeFailure.RolledBack++
			}
			if failedVerify {
				s.ChangeFailure.Verify++
			}
			if r.VerifyFailed {
				s.ChangeFailure.VerifyDenied++
			}
			if r.Breach {
				s.ChangeFailure.MonitoringBreached++
			}
		}
		if !r.RestoredAt.IsZero() {
			restore = append(restore, r.RestoredAt.Sub(r.FailureAt).Seconds())
		}
		if r.HasRollback {
			it := report.RollbackItem{Release: r.ID, RollbackSeconds: r.RollbackSeconds}
			rollbacks = append(rollbacks, r.RollbackSeconds)
			if r.HasDeploy {
				it.DeploySeconds = new(r.DeploySeconds)
				deploys = append(deploys, r.DeploySeconds)
				it.Slower = r.RollbackSeconds > r.DeploySeconds
			}
			if it.Slower {
				s.Rollbacks.SlowerThanDeploy++
			}
			s.Rollbacks.Items = append(s.Rollbacks.Items, it)
		}
	}
	for rule, n := range denials {
		s.DenialsByRule = append(s.DenialsByRule, report.RuleCount{Rule: rule, Title: f.ruleSet[rule], Denials: n})
	}
	slices.SortFunc(s.DenialsByRule, func(a, b report.RuleCount) int {
		return cmp.Or(b.Denials-a.Denials, strings.Compare(a.Rule, b.Rule))
	})
	s.PostmortemLead = stats(lead)
	s.TimeToRestore = stats(restore)
	s.Rollbacks.Count = len(rollbacks)
	s.Rollbacks.MedianRollbackSeconds = mid(rollbacks)
	s.Rollbacks.MedianDeploySeconds = mid(deploys)
	if s.ChangeFailure.Deployed > 0 {
		s.ChangeFailure.Rate = new(float64(s.ChangeFailure.Failed) / float64(s.ChangeFailure.Deployed))
	}
	return s
}

func stats(xs []float64) report.Durations {
	d := report.Durations{Count: len(xs), MedianSeconds: mid(xs)}
	for i, x := range xs {
		if i == 0 || x > *d.MaxSeconds {
			d.MaxSeconds = new(x)
		}
	}
	return d
}

func mid(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return new(s[len(s)/2])
	}
	return new((s[len(s)/2-1] + s[len(s)/2]) / 2)
}

func renderHTML(t *testing.T, rep *report.Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := report.Write(&buf, rep, report.FormatHTML); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

var resourceURL = regexp.MustCompile(`(?i)(\b(src|href|action|srcset|poster|data|xlink:href)\s*=\s*["']?\s*(https?:)?//)|url\(\s*["']?\s*(https?:)?//|@import`)

// checkHTML holds a page to being one self-contained, script-free file
// with both charts.
func checkHTML(t *testing.T, page string) {
	t.Helper()
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("the HTML has a <script")
	}
	if m := resourceURL.FindString(page); m != "" {
		t.Errorf("the HTML loads an external resource: %q", m)
	}
	if strings.Contains(strings.ToLower(page), "<link") || strings.Contains(strings.ToLower(page), "<iframe") {
		t.Error("the HTML links another document")
	}
	for _, want := range []string{`<style>`, `@media print`, `id="chart-denials"`, `id="chart-days"`, `<svg class="chart"`, `class="integrity`} {
		if !strings.Contains(page, want) {
			t.Errorf("the HTML lacks %s", want)
		}
	}
}

// normalize replaces what changes with any edit of the policies (their
// revision, hence the ledger's hashes) so the golden files follow rule
// changes only.
func normalize(s string, eng *engine.Engine, rep *report.Report) string {
	rev := eng.Revision()
	r := strings.NewReplacer(rev, "sha256:<policy-revision>", strings.TrimPrefix(rev, "sha256:")[:12], "<policy-rev>",
		rep.Integrity.Head, "sha256:<head>", rep.Integrity.Root, "sha256:<root>")
	return r.Replace(s)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := gocmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

func fmtPtr(f *float64) string {
	if f == nil {
		return "nil"
	}
	return fmt.Sprint(*f)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
