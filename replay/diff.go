package replay

import (
	"cmp"
	"slices"
	"time"

	"github.com/localizevideos/shipgate/engine"
)

// Kinds of change between two replays of a decision.
const (
	Denied     = "allow-to-deny"
	Allowed    = "deny-to-allow"
	Violations = "violations"
)

// Change is one decision the two policy sets answer differently.
type Change struct {
	Kind        string         `json:"kind"`
	Decision    string         `json:"decision"`
	Gate        string         `json:"gate"`
	Release     engine.Release `json:"release"`
	EvaluatedAt time.Time      `json:"evaluatedAt"`
	DryRun      bool           `json:"dryRun,omitempty"`
	BaseAllow   bool           `json:"baseAllow"`
	HeadAllow   bool           `json:"headAllow"`
	// Added are the head's violations of rules the base did not report;
	// Removed the base's violations of rules the head no longer reports.
	Added   []engine.Finding `json:"added"`
	Removed []engine.Finding `json:"removed"`
	// Fault is an engine fault of the head's replay.
	Fault string `json:"fault,omitempty"`
}

// Report compares the replays of the same decisions under two policy sets.
type Report struct {
	BaseRevision string `json:"baseRevision"`
	HeadRevision string `json:"headRevision"`
	// Replayed counts the decisions evaluated on both sides, DryRuns those
	// of them that were dry runs.
	Replayed int `json:"replayed"`
	DryRuns  int `json:"dryRuns"`
	// Evaluated and Cached count the answers of the replayed decisions,
	// base and head together: evaluated by the policies, or the recorded
	// decision reused because that policy set made it on the same input
	// (Options.NoCache).
	Evaluated int `json:"evaluated"`
	Cached    int `json:"cached"`
	// Reused counts the head's answers that are the base's, because the
	// rule files the head changes answer that input as the base's do.
	Reused int `json:"reused"`
	// Skipped counts the decisions not replayed, by reason.
	Skipped map[string]int `json:"skipped"`
	// Changes are in evaluation order.
	Changes []Change `json:"changes"`
}

// Blocking lists the changes that turn a past allow into a deny, dry runs
// excepted: a dry run allowed nothing.
func (r Report) Blocking() []Change {
	var out []Change
	for _, c := range r.Changes {
		if c.Kind == Denied && !c.DryRun {
			out = append(out, c)
		}
	}
	return out
}

// Count returns the number of changes of kind.
func (r Report) Count(kind string) int {
	n := 0
	for _, c := range r.Changes {
		if c.Kind == kind {
			n++
		}
	}
	return n
}

// Diff pairs the results of two replays of the same history by decision and
// reports every decision whose verdict or violated rules differ. Violations
// are compared by rule id: a message that names a different time or count
// is the same violation.
func Diff(base, head []Result) Report {
	r := Report{Skipped: map[string]int{}, Changes: []Change{}}
	byID := make(map[string]Result, len(base))
	for _, b := range base {
		byID[b.Recorded.ID] = b
	}
	for _, h := range head {
		b, ok := byID[h.Recorded.ID]
		switch {
		case h.Skipped != "":
			r.Skipped[h.Skipped]++
			continue
		case !ok || b.Skipped != "":
			r.Skipped["not replayed on the base"]++
			continue
		}
		if r.BaseRevision == "" {
			r.BaseRevision, r.HeadRevision = b.Decision.Policy.Revision, h.Decision.Policy.Revision
		}
		r.Replayed++
		for _, x := range [2]Result{b, h} {
			switch {
			case x.Cached:
				r.Cached++
			case x.Reused:
				r.Reused++
			default:
				r.Evaluated++
			}
		}
		if h.DryRun {
			r.DryRuns++
		}
		if c, changed := compare(b, h); changed {
			r.Changes = append(r.Changes, c)
		}
	}
	slices.SortStableFunc(r.Changes, func(a, b Change) int {
		return cmp.Or(a.EvaluatedAt.Compare(b.EvaluatedAt), cmp.Compare(a.Decision, b.Decision))
	})
	return r
}

func compare(b, h Result) (Change, bool) {
	bd, hd := b.Decision, h.Decision
	c := Change{Decision: h.Recorded.ID, Gate: hd.Gate, Release: hd.Release, EvaluatedAt: hd.EvaluatedAt,
		DryRun: h.DryRun, BaseAllow: bd.Allow, HeadAllow: hd.Allow, Fault: h.Fault,
		Added: missing(hd.Violations, bd.Violations), Removed: missing(bd.Violations, hd.Violations)}
	switch {
	case bd.Allow && !hd.Allow:
		c.Kind = Denied
	case !bd.Allow && hd.Allow:
		c.Kind = Allowed
	case len(c.Added) > 0 || len(c.Removed) > 0:
		c.Kind = Violations
	default:
		return c, false
	}
	return c, true
}

// missing returns the findings of a whose rule no finding of b has.
func missing(a, b []engine.Finding) []engine.Finding {
	out := []engine.Finding{}
	for _, f := range a {
		if !slices.ContainsFunc(b, func(g engine.Finding) bool { return g.Rule == f.Rule }) &&
			!slices.ContainsFunc(out, func(g engine.Finding) bool { return g.Rule == f.Rule }) {
			out = append(out, f)
		}
	}
	return out
}
