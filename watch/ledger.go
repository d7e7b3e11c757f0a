package watch

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/store"
)

// MonitoringDocument is the Monitoring evidence document of res, with the
// envelope env, collected at at, decoded and validated by v.
func MonitoringDocument(v *evidence.Validator, env runner.Envelope, res *Result, autoRollback bool, at time.Time) (*evidence.Document, error) {
	b, err := runner.Document(env, "Monitoring", at, res.Data(autoRollback))
	if err != nil {
		return nil, fmt.Errorf("monitoring evidence: %w", err)
	}
	doc, err := v.Decode("shipgate watch", b)
	if err != nil {
		return nil, fmt.Errorf("monitoring evidence: %w", err)
	}
	return doc, nil
}

// AutoRollbackRefusals asks the policy, before anything is watched,
// whether the release's service may be rolled back automatically: the
// automation.* violations of the complete gate given only the Monitoring
// an automated watch of window would record (a probe: no data yet). None
// means the policy allows it. env names the release and who asks.
func AutoRollbackRefusals(ctx context.Context, eng *engine.Engine, v *evidence.Validator, env runner.Envelope, window time.Duration, now time.Time) ([]engine.Finding, error) {
	probe := &Result{Start: now, End: now, Planned: window, Status: NoData,
		Signals: []SignalResult{{Name: "probe", Status: NoData}}}
	doc, err := MonitoringDocument(v, env, probe, true, now)
	if err != nil {
		return nil, err
	}
	rel := engine.Release{ID: env.ReleaseID, Service: env.Service, Environment: env.Environment, Repository: env.Repository, Commit: env.Commit}
	d, err := eng.Evaluate(ctx, engine.Input{Gate: "complete", Release: rel, Now: now.UTC(), Evidence: []*evidence.Document{doc}})
	if err != nil {
		return nil, fmt.Errorf("check automated rollback against the policy: %w", err)
	}
	refused := []engine.Finding{}
	for _, f := range d.Violations {
		if strings.HasPrefix(f.Rule, "automation.") {
			refused = append(refused, f)
		}
	}
	return refused, nil
}

// EvidenceReader reads a release's recorded evidence (a ledger).
type EvidenceReader interface {
	Evidence(ctx context.Context, releaseID string) ([]store.Evidence, error)
}

// RecordedHold is the hold in force on the release, from the Hold
// documents the ledger holds (ActiveHold); nil when none.
func RecordedHold(ctx context.Context, db EvidenceReader, v *evidence.Validator, releaseID string) (*Hold, error) {
	events, err := HoldEvents(ctx, db, v, releaseID)
	if err != nil {
		return nil, err
	}
	return ActiveHold(events), nil
}

// HoldEvents reads the release's Hold documents from the ledger.
func HoldEvents(ctx context.Context, db EvidenceReader, v *evidence.Validator, releaseID string) ([]HoldEvent, error) {
	stored, err := db.Evidence(ctx, releaseID)
	if err != nil {
		return nil, fmt.Errorf("read evidence of %s: %w", releaseID, err)
	}
	var events []HoldEvent
	for _, e := range stored {
		if e.Kind != "Hold" {
			continue
		}
		doc, err := v.Decode(e.Source, e.Body)
		if err != nil {
			return nil, fmt.Errorf("recorded Hold %s: %w", e.Digest, err)
		}
		var h struct {
			Data struct {
				Action, By, Reason string
				At                 time.Time
			} `json:"data"`
		}
		if err := json.Unmarshal(doc.Canonical, &h); err != nil {
			return nil, fmt.Errorf("recorded Hold %s: %w", e.Digest, err)
		}
		events = append(events, HoldEvent{Lift: h.Data.Action == "lift", By: h.Data.By, Reason: h.Data.Reason, At: h.Data.At, Digest: doc.Digest})
	}
	return events, nil
}
