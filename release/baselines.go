package release

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/signals"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/watch"
)

// LastCompleted is the --baseline-from value naming the service's last
// completed release.
const LastCompleted = "last-completed"

// DecisionReader reads recorded evidence and decisions: a local ledger.
type DecisionReader interface {
	EvidenceLister
	Decisions(ctx context.Context, releaseID string) ([]store.Decision, error)
}

// Baselines are the baselines of a watch taken from a recorded Monitoring.
type Baselines struct {
	// Values are the medians of its samples by signal name.
	Values map[string]float64
	// From names the release and the Monitoring.
	From watch.RecordedWindow
}

// String lists the values in the order of set's signals.
func (b Baselines) String(set *signals.Set) string {
	names := make([]string, 0, len(b.Values))
	for _, sig := range set.Signals {
		if v, ok := b.Values[sig.Name]; ok {
			names = append(names, fmt.Sprintf("%s %.4g", sig.Name, v))
		}
	}
	return strings.Join(names, ", ")
}

// RecordedBaselines reads the baselines of --baseline-from: the newest
// healthy Monitoring recorded for that release (or for the last release
// of the same service and environment whose complete gate allowed, with
// LastCompleted). Anything missing is an error: a baseline is never zero
// for want of one.
func RecordedBaselines(ctx context.Context, db DecisionReader, v *evidence.Validator, set *signals.Set, rel engine.Release, from string) (Baselines, error) {
	id := from
	if from == LastCompleted {
		ds, err := db.Decisions(ctx, "")
		if err != nil {
			return Baselines{}, fmt.Errorf("--baseline-from %s: read decisions: %w", from, err)
		}
		var last *store.Decision
		for i, d := range ds {
			if d.Gate == "complete" && d.Allow && !d.DryRun && d.Service == rel.Service && d.Environment == rel.Environment &&
				d.ReleaseID != rel.ID && (last == nil || d.Seq > last.Seq) {
				last = &ds[i]
			}
		}
		if last == nil {
			return Baselines{}, fmt.Errorf("--baseline-from %s: no earlier release of %s in %s has completed (an allowed complete gate), so there is no recorded baseline: name a release, or leave --baseline-from out to read the baselines --baseline-offset before the watch",
				from, rel.Service, rel.Environment)
		}
		id = last.ReleaseID
	}
	if id == rel.ID {
		return Baselines{}, fmt.Errorf("--baseline-from %s: the watched release itself is no baseline", from)
	}
	stored, err := db.Evidence(ctx, id)
	if err != nil {
		return Baselines{}, fmt.Errorf("--baseline-from %s: read evidence of %s: %w", from, id, err)
	}
	var best *evidence.Document
	var data []byte
	var seen []string
	for _, e := range stored {
		if e.Kind != "Monitoring" {
			continue
		}
		doc, err := v.Decode(e.Source, e.Body)
		if err != nil {
			return Baselines{}, fmt.Errorf("--baseline-from %s: recorded Monitoring %s: %w", from, e.Digest, err)
		}
		var m struct {
			Data json.RawMessage `json:"data"`
		}
		var r struct {
			Result string `json:"result"`
		}
		if err := json.Unmarshal(doc.Canonical, &m); err != nil {
			return Baselines{}, fmt.Errorf("--baseline-from %s: recorded Monitoring %s: %w", from, e.Digest, err)
		}
		if err := json.Unmarshal(m.Data, &r); err != nil {
			return Baselines{}, fmt.Errorf("--baseline-from %s: recorded Monitoring %s: %w", from, e.Digest, err)
		}
		seen = append(seen, r.Result)
		if r.Result != watch.Healthy || (best != nil && !doc.CollectedAt.After(best.CollectedAt)) {
			continue
		}
		best, data = doc, m.Data
	}
	switch {
	case best == nil && len(seen) == 0:
		return Baselines{}, fmt.Errorf("--baseline-from %s: release %s has no Monitoring recorded: no baseline", from, id)
	case best == nil:
		return Baselines{}, fmt.Errorf("--baseline-from %s: release %s has no healthy Monitoring (recorded: %s): no baseline", from, id, strings.Join(seen, ", "))
	case best.Service != rel.Service:
		return Baselines{}, fmt.Errorf("--baseline-from %s: release %s is of service %s, not %s: no baseline", from, id, best.Service, rel.Service)
	}
	b, err := watch.RecordedBaselines(set, data)
	if err != nil {
		return Baselines{}, fmt.Errorf("--baseline-from %s: Monitoring %s of release %s: %w", from, best.Digest, id, err)
	}
	return Baselines{Values: b, From: watch.RecordedWindow{Release: id, Monitoring: best.Digest}}, nil
}
