package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/localizevideos/shipgate/engine"
)

// history is what the ledger says about a service in an environment: the
// restarts it explains, and the previous reconcile.
type history struct {
	events   []Event // by end time
	previous *Observation
	// drift is the previous reconcile's findings, by message, and the
	// violation it opened or repeated: the same drift seen again is the
	// same violation.
	drift    []string
	driftVio string
	// latest is the release of the newest decision about the service.
	latest string
}

// driftKey is what identifies a drift: its findings' messages, which name
// the process, its start, the commits and the directory, sorted.
func driftKey(fs []engine.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule+": "+f.Message)
	}
	slices.Sort(out)
	return out
}

// readHistory reads every decision of the service and environment, and
// the evidence of their releases.
func readHistory(ctx context.Context, st Store, service, environment string) (*history, error) {
	ds, err := st.Decisions(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	h := &history{}
	allowed := map[string]time.Time{} // release -> first allowed deploy decision
	var releases []string
	for _, d := range ds {
		if d.Service != service || d.Environment != environment {
			continue
		}
		h.latest = d.ReleaseID
		if !slices.Contains(releases, d.ReleaseID) {
			releases = append(releases, d.ReleaseID)
		}
		switch {
		case d.Gate == "deploy" && d.Allow && !d.DryRun:
			if t, ok := allowed[d.ReleaseID]; !ok || d.EvaluatedAt.Before(t) {
				allowed[d.ReleaseID] = d.EvaluatedAt
			}
		case d.Gate == Gate:
			var rec struct {
				Observed   *Observation     `json:"observed"`
				Violations []engine.Finding `json:"violations"`
				Opened     []string         `json:"opened"`
				Recurs     string           `json:"recurs"`
			}
			if err := json.Unmarshal(d.Body, &rec); err != nil {
				return nil, fmt.Errorf("decision %s: %w", d.ID, err)
			}
			if rec.Observed != nil {
				h.previous = rec.Observed
			}
			h.drift, h.driftVio = driftKey(rec.Violations), rec.Recurs
			if len(rec.Opened) > 0 {
				h.driftVio = rec.Opened[0]
			}
		}
	}
	for _, id := range releases {
		evs, err := st.Evidence(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("read evidence of %s: %w", id, err)
		}
		for _, e := range evs {
			if e.Service != service || e.Environment != environment || (e.Kind != "Deploy" && e.Kind != "Rollback") {
				continue
			}
			var doc struct {
				Data struct {
					Status     string     `json:"status"`
					StartedAt  *time.Time `json:"startedAt"`
					FinishedAt *time.Time `json:"finishedAt"`
					FromCommit string     `json:"fromCommit"`
					ToCommit   string     `json:"toCommit"`
					Strategy   string     `json:"strategy"`
					Artifact   *Output    `json:"artifact"`
				} `json:"data"`
			}
			if err := json.Unmarshal(e.Body, &doc); err != nil {
				return nil, fmt.Errorf("recorded evidence %s: %w", e.Digest, err)
			}
			dd := doc.Data
			if dd.StartedAt == nil || dd.FinishedAt == nil {
				continue // a deploy request: it has not run
			}
			ev := Event{Kind: e.Kind, Release: id, Commit: e.Commit, StartedAt: dd.StartedAt.UTC(), EndedAt: dd.FinishedAt.UTC(), Evidence: e.Digest,
				Strategy: dd.Strategy, Output: dd.Artifact}
			if ev.Output != nil && ev.Output.Tree == "" {
				ev.Output = nil
			}
			if e.Kind == "Deploy" {
				// Only a deploy the gate allowed explains a restart: a
				// Deploy document added by hand does not.
				at, ok := allowed[id]
				if !ok || at.After(ev.StartedAt) {
					continue
				}
			} else {
				ev.Commit = dd.FromCommit
				if dd.Strategy == "fast" && dd.ToCommit != "" {
					ev.Commit = dd.ToCommit
				}
			}
			h.events = append(h.events, ev)
		}
	}
	slices.SortStableFunc(h.events, func(a, b Event) int { return a.EndedAt.Compare(b.EndedAt) })
	return h, nil
}

// explaining returns the event during which a process started at t.
func (h *history) explaining(t time.Time, tol time.Duration) *Event {
	for i := len(h.events) - 1; i >= 0; i-- {
		e := h.events[i]
		if !t.Before(e.StartedAt.Add(-tol)) && !t.After(e.EndedAt.Add(tol)) {
			return &e
		}
	}
	return nil
}

// eventsBetween counts the events that ran between after and before.
func (h *history) eventsBetween(after, before time.Time) int {
	n := 0
	for _, e := range h.events {
		if e.EndedAt.After(after) && !e.StartedAt.After(before) {
			n++
		}
	}
	return n
}

// lastOutput is the newest event that put build output in place: a
// deploy or a fast rollback. An emergency rollback turns a flag off and
// leaves the build output as it was. Nil when there is none.
func (h *history) lastOutput() *Event {
	for i := len(h.events) - 1; i >= 0; i-- {
		if e := h.events[i]; e.Kind != "Rollback" || e.Strategy != "emergency" {
			return &e
		}
	}
	return nil
}

// last is the newest event.
func (h *history) last() *Event {
	if len(h.events) == 0 {
		return nil
	}
	e := h.events[len(h.events)-1]
	return &e
}
