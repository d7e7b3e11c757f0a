package report

import (
	"cmp"
	"slices"
	"time"

	"github.com/localizevideos/shipgate/store"
)

// summarize computes the period's figures from the releases. Dry runs
// count only as DryRuns: they allowed nothing and opened nothing.
func summarize(rep *Report, title func(string) string) Summary {
	s := Summary{Releases: len(rep.Releases), DenialsByRule: []RuleCount{}, DenialReasons: map[string]int{},
		Gates: map[string]GateCount{}, Rollbacks: RollbackFigures{Items: []RollbackItem{}}}
	denials := map[string]int{}
	var lead, restore, rollbacks, deploys []float64
	for _, r := range rep.Releases {
		frozenAllowed := false
		for _, d := range r.Decisions {
			if d.DryRun {
				s.DryRuns++
				continue
			}
			s.Decisions++
			g := s.Gates[d.Gate]
			if d.Allow {
				s.Allowed++
				g.Allowed++
			} else {
				s.Denied++
				g.Denied++
				s.DenialReasons[d.Reason]++
				var seen []string
				for _, f := range d.Violations {
					if !slices.Contains(seen, f.Rule) {
						seen = append(seen, f.Rule)
						denials[f.Rule]++
					}
				}
			}
			s.Gates[d.Gate] = g
			s.Overrides += len(d.Overridden)
			if d.Gate == "deploy" && d.Allow && (d.Emergency || len(d.Freeze) > 0) {
				frozenAllowed = true
			}
		}
		if r.Emergency {
			s.EmergencyReleases++
		}
		if r.DuringFreeze {
			s.Freeze.Releases++
			if frozenAllowed {
				s.Freeze.Allowed++
			}
			if r.Emergency {
				s.Freeze.Emergency++
			}
		}
		for _, v := range r.Violations {
			s.Violations.Opened++
			if v.Kind == store.KindObligation {
				s.Violations.Obligations++
			}
			switch {
			case v.Status == store.StatusClosed:
				s.Violations.Closed++
				if v.Late {
					s.Violations.ClosedLate++
				}
				lead = append(lead, *v.LeadTimeSeconds)
			default:
				s.Violations.Open++
				if v.Overdue {
					s.Violations.Overdue++
				}
			}
		}
		if r.Deployed {
			s.ChangeFailure.Deployed++
			if r.Failed {
				s.ChangeFailure.Failed++
			}
			if r.RolledBack {
				s.ChangeFailure.RolledBack++
			}
			if r.VerificationFailed {
				s.ChangeFailure.Verify++
			}
			if r.VerifyDenied {
				s.ChangeFailure.VerifyDenied++
			}
			if r.MonitoringBreached {
				s.ChangeFailure.MonitoringBreached++
			}
		}
		if r.TimeToRestoreSeconds != nil {
			restore = append(restore, *r.TimeToRestoreSeconds)
		}
		if r.RollbackSeconds != nil {
			it := RollbackItem{Release: r.ID, RollbackSeconds: *r.RollbackSeconds, DeploySeconds: r.DeploySeconds}
			rollbacks = append(rollbacks, it.RollbackSeconds)
			if r.DeploySeconds != nil {
				deploys = append(deploys, *r.DeploySeconds)
				it.Slower = it.RollbackSeconds > *r.DeploySeconds
			}
			if it.Slower {
				s.Rollbacks.SlowerThanDeploy++
			}
			s.Rollbacks.Items = append(s.Rollbacks.Items, it)
		}
	}
	for rule, n := range denials {
		s.DenialsByRule = append(s.DenialsByRule, RuleCount{Rule: rule, Title: title(rule), Denials: n})
	}
	slices.SortFunc(s.DenialsByRule, func(a, b RuleCount) int {
		return cmp.Or(cmp.Compare(b.Denials, a.Denials), cmp.Compare(a.Rule, b.Rule))
	})
	s.PostmortemLead = durations(lead)
	s.TimeToRestore = durations(restore)
	s.Rollbacks.Count = len(rollbacks)
	s.Rollbacks.MedianRollbackSeconds = median(rollbacks)
	s.Rollbacks.MedianDeploySeconds = median(deploys)
	if s.ChangeFailure.Deployed > 0 {
		s.ChangeFailure.Rate = ptr(float64(s.ChangeFailure.Failed) / float64(s.ChangeFailure.Deployed))
	}
	return s
}

func durations(xs []float64) Durations {
	d := Durations{Count: len(xs), MedianSeconds: median(xs)}
	if len(xs) > 0 {
		d.MaxSeconds = ptr(slices.Max(xs))
	}
	return d
}

// median is the middle value, or the mean of the two middle ones; nil for
// none.
func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return ptr(s[n/2])
	}
	return ptr((s[n/2-1] + s[n/2]) / 2)
}

// days counts the decisions (dry runs aside) of every UTC day of the
// period, up to the day of AsOf (or of the last decision): a period that
// ends in the future has no decisions there.
func days(rep *Report) []Day {
	start := rep.Period.Since.UTC().Truncate(24 * time.Hour)
	last := rep.Period.AsOf
	for _, r := range rep.Releases {
		for _, d := range r.Decisions {
			if d.EvaluatedAt.After(last) {
				last = d.EvaluatedAt
			}
		}
	}
	end := rep.Period.Until
	if last.Before(end) {
		end = last.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	}
	var out []Day
	index := map[string]int{}
	for t := start; t.Before(end); t = t.AddDate(0, 0, 1) {
		index[t.Format(time.DateOnly)] = len(out)
		out = append(out, Day{Date: t.Format(time.DateOnly)})
	}
	for _, r := range rep.Releases {
		for _, d := range r.Decisions {
			if d.DryRun {
				continue
			}
			i, ok := index[d.EvaluatedAt.UTC().Format(time.DateOnly)]
			if !ok {
				continue
			}
			if d.Allow {
				out[i].Allowed++
			} else {
				out[i].Denied++
			}
		}
	}
	if out == nil {
		out = []Day{}
	}
	return out
}
