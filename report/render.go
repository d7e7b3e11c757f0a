package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Formats Write renders.
const (
	FormatMarkdown = "md"
	FormatHTML     = "html"
	FormatJSON     = "json"
	FormatCSV      = "csv"
)

// Formats lists the formats, for flag help.
var Formats = []string{FormatMarkdown, FormatHTML, FormatJSON, FormatCSV}

// Write renders rep to w in format.
func Write(w io.Writer, rep *Report, format string) error {
	switch format {
	case FormatMarkdown:
		return writeMarkdown(w, rep)
	case FormatHTML:
		return writeHTML(w, rep)
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(rep)
	case FormatCSV:
		return writeCSV(w, rep)
	}
	return fmt.Errorf("report format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// Helpers shared by the human formats.

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return fmtTime(*t)
}

// fmtSeconds writes a duration for people: "8.4s", "1m36s", "2d 3h5m0s".
func fmtSeconds(s float64) string {
	if s < 60 {
		return strconv.FormatFloat(math.Round(s*10)/10, 'f', -1, 64) + "s"
	}
	d := time.Duration(s * float64(time.Second)).Round(time.Second)
	if d < 24*time.Hour {
		return d.String()
	}
	days := d / (24 * time.Hour)
	rest := d - days*24*time.Hour
	if rest == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %s", days, rest)
}

func fmtSecondsPtr(s *float64) string {
	if s == nil {
		return "–"
	}
	return fmtSeconds(*s)
}

func fmtRate(c ChangeFailure) string {
	if c.Rate == nil {
		return "– (no release deployed)"
	}
	return fmt.Sprintf("%s (%d of %d deployed releases)", fmtPercent(*c.Rate), c.Failed, c.Deployed)
}

// fmtFailed says how the deployed releases failed.
func fmtFailed(c ChangeFailure) string {
	return fmt.Sprintf("%d rolled back, %d failed verification, %d %s", c.RolledBack, c.VerifyDenied,
		c.MonitoringBreached, plural(c.MonitoringBreached, "monitoring breach", "monitoring breaches"))
}

func fmtDurations(d Durations) string {
	if d.Count == 0 {
		return "– (none)"
	}
	return fmt.Sprintf("median %s, max %s (%d)", fmtSecondsPtr(d.MedianSeconds), fmtSecondsPtr(d.MaxSeconds), d.Count)
}

func scope(rep *Report) string {
	svc, env := rep.Service, rep.Environment
	if svc == "" {
		svc = "all services"
	} else {
		svc = "service " + svc
	}
	if env == "" {
		env = "all environments"
	} else {
		env = "environment " + env
	}
	return svc + ", " + env
}

// flags names what happened to a release, for the line under its heading.
func flags(r Release) []string {
	var out []string
	if r.Deployed {
		out = append(out, "deployed")
	} else {
		out = append(out, "not deployed")
	}
	if r.Emergency {
		out = append(out, "emergency release")
	}
	if r.DuringFreeze {
		w := "during a freeze"
		if len(r.FreezeWindows) > 0 {
			w += " (" + strings.Join(r.FreezeWindows, ", ") + ")"
		}
		out = append(out, w)
	}
	if r.VerifyDenied {
		out = append(out, "failed verification")
	}
	if r.MonitoringBreached {
		out = append(out, "monitoring breach")
	}
	if r.RolledBack {
		out = append(out, "rolled back")
	}
	if r.TimeToRestoreSeconds != nil {
		out = append(out, "restored in "+fmtSeconds(*r.TimeToRestoreSeconds))
	}
	if slices.ContainsFunc(r.Decisions, func(d Decision) bool { return d.Gate == gateReconcile && !d.Allow }) {
		out = append(out, "drift found by reconcile")
	}
	return out
}

func verdict(d Decision) string {
	v := "DENY"
	switch {
	case d.Gate == gateReconcile && d.Allow:
		v = "NO DRIFT"
	case d.Gate == gateReconcile:
		v = "DRIFT"
	case d.Allow:
		v = "ALLOW"
	}
	if d.DryRun {
		v += " (dry run)"
	}
	return v
}

// isReconcile tells a reconcile, which observed what runs, from a gate
// decision, which a policy evaluated.
func isReconcile(d Decision) bool { return d.Gate == gateReconcile }

// reconcileNote introduces what a reconcile recorded in place of a policy
// revision and an input.
const reconcileNote = "a reconcile of what runs (no policy evaluation)"

// observation says in words what a reconcile saw.
func observation(o Observation) string {
	p, g := o.Process, o.Git
	started := "no start time"
	if p.StartedAt != nil {
		started = "started " + fmtTime(*p.StartedAt)
	}
	s := fmt.Sprintf("pm2 app %s (pid %d, restart #%d, %s, %s)", p.Name, p.PID, p.Restarts, started, p.Status)
	if e := o.Explained; e != nil {
		s += fmt.Sprintf(", started during the %s of %s", e.Kind, e.Release)
	} else if p.StartedAt != nil {
		s += ", started outside any allowed deploy or rollback"
	}
	state, where := "clean", "on main"
	if !g.Clean {
		state = "uncommitted changes"
	}
	switch {
	case !g.CommitKnown:
		where = "a commit the repository does not hold"
	case !g.OnMain:
		where = "not on main"
	}
	at := short(g.Commit)
	switch o.ExpectedCommit {
	case "":
	case g.Commit:
		at += " (the commit the last deploy or rollback left)"
	default:
		at += " (the last deploy or rollback left " + short(o.ExpectedCommit) + ")"
	}
	return s + fmt.Sprintf("; directory %s at %s, %s, %s", p.Cwd, at, state, where)
}

// sentence is a recorded message for people (human), ended with a full
// stop so that what the report adds after it reads apart.
func sentence(s string) string {
	s = human(strings.TrimSpace(s))
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

// docGroup is one counted document of an allowed decision and the rules
// it satisfied.
type docGroup struct {
	Kind, Digest, Actor string
	CollectedAt         time.Time
	Rules               []RuleOutcome
}

// attribution is an attributed decision's held rules regrouped by the
// document that satisfied them, in the decision's evidence order; Rest are
// the held rules no single document decided, Idle the counted documents no
// rule depended on alone.
type attribution struct {
	Groups []docGroup
	Rest   []RuleOutcome
	Idle   []docGroup
}

// AttributionMethod says how an allowed decision's rules are attributed.
const AttributionMethod = "For an allowed decision, each rule that held is attributed to the counted documents without which it would have fired: the report evaluates the decision again under the same policy revision (reproducing its recorded input digest), then once without each document."

func byDocument(r Release, d Decision) attribution {
	var groups []docGroup
	var rest []RuleOutcome
	info := map[string]Evidence{}
	for _, e := range r.Evidence {
		info[e.Digest] = e
	}
	index := map[string]int{}
	for _, ref := range d.Evidence {
		e := info[ref.Digest]
		index[ref.Digest] = len(groups)
		groups = append(groups, docGroup{Kind: ref.Kind, Digest: ref.Digest, Actor: e.Actor, CollectedAt: e.CollectedAt})
	}
	for _, o := range d.Explanation.Rules {
		if o.Outcome != Held {
			continue
		}
		if len(o.SatisfiedBy) == 0 {
			rest = append(rest, o)
			continue
		}
		for _, dg := range o.SatisfiedBy {
			if i, ok := index[dg]; ok {
				groups[i].Rules = append(groups[i].Rules, o)
			}
		}
	}
	a := attribution{Rest: rest}
	for _, g := range groups {
		if len(g.Rules) == 0 {
			a.Idle = append(a.Idle, g)
		} else {
			a.Groups = append(a.Groups, g)
		}
	}
	return a
}

// nonHeld are the outcomes of an explanation other than held.
func nonHeld(ex Explanation) []RuleOutcome {
	return slices.DeleteFunc(slices.Clone(ex.Rules), func(o RuleOutcome) bool { return o.Outcome == Held })
}

// held are the held outcomes.
func held(ex Explanation) []RuleOutcome {
	return slices.DeleteFunc(slices.Clone(ex.Rules), func(o RuleOutcome) bool { return o.Outcome != Held })
}

func ruleLabel(o RuleOutcome) string {
	if o.Title == "" {
		return o.Rule
	}
	return o.Title + " (" + o.Rule + ")"
}

func shortList(digests []string) string {
	out := make([]string, len(digests))
	for i, d := range digests {
		out[i] = short(d)
	}
	return strings.Join(out, ", ")
}
