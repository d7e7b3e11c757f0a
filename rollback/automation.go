package rollback

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/store"
)

// Automated rollback (shipgate watch --auto-rollback) runs only where the
// policy allows it for the service, and never while a person holds the
// release. Both are answered here, for the CLI on its own ledger and for
// the server on its ledger alike.

// AutoRollbackRefusals asks the policy, before anything is watched,
// whether the release's service may be rolled back automatically: the
// automation.* violations of the complete gate given only the Monitoring
// an automated watch of window would record at first (a probe: no data
// yet, autoRollback set). None means the policy allows it. env names the
// release and who asks.
func AutoRollbackRefusals(ctx context.Context, eng *engine.Engine, v *evidence.Validator, env runner.Envelope, window time.Duration, now time.Time) ([]engine.Finding, error) {
	at := now.UTC().Format(time.RFC3339Nano)
	b, err := runner.Document(env, "Monitoring", now, map[string]any{
		"window":     map[string]any{"start": at, "end": at, "plannedSeconds": window.Seconds()},
		"result":     "no-data",
		"signals":    []map[string]any{{"name": "probe", "status": "no-data", "samples": 0, "minSamples": 0}},
		"samples":    []any{},
		"automation": map[string]any{"autoRollback": true},
	})
	if err != nil {
		return nil, fmt.Errorf("automated rollback probe: %w", err)
	}
	doc, err := v.Decode("automated rollback probe", b)
	if err != nil {
		return nil, fmt.Errorf("automated rollback probe: %w", err)
	}
	rel := engine.Release{ID: env.ReleaseID, Service: env.Service, Environment: env.Environment, Repository: env.Repository, Commit: env.Commit}
	d, err := eng.Evaluate(ctx, engine.Input{Gate: "complete", Release: rel, Now: now.UTC(), Evidence: []*evidence.Document{doc}, Probe: true})
	if err != nil {
		return nil, fmt.Errorf("check automated rollback against the policy: %w", err)
	}
	// A probe the policy did not see answers nothing: refuse.
	for _, ig := range d.Ignored {
		if ig.Digest == doc.Digest {
			return nil, fmt.Errorf("check automated rollback against the policy: the probe did not count: %s", ig.Message)
		}
	}
	refused := []engine.Finding{}
	for _, f := range d.Violations {
		if strings.HasPrefix(f.Rule, "automation.") {
			refused = append(refused, f)
		}
	}
	return refused, nil
}

// Hold is a person's hold on automated rollback of a release.
type Hold struct {
	By, Reason string
	At         time.Time
	// Digest is the Hold evidence that placed it.
	Digest string
}

// HoldEvent is one recorded Hold document: placed or lifted.
type HoldEvent struct {
	Lift       bool
	By, Reason string
	At         time.Time
	Digest     string
}

// ActiveHold is the hold in force after events: the newest event decides
// (a later lift ends a hold, a later placement starts one). Events at the
// same instant resolve to held: a human asking for a hold wins a tie.
func ActiveHold(events []HoldEvent) *Hold {
	if len(events) == 0 {
		return nil
	}
	ev := append([]HoldEvent(nil), events...)
	sort.SliceStable(ev, func(i, j int) bool {
		if !ev[i].At.Equal(ev[j].At) {
			return ev[i].At.Before(ev[j].At)
		}
		return ev[i].Lift && !ev[j].Lift
	})
	last := ev[len(ev)-1]
	if last.Lift {
		return nil
	}
	return &Hold{By: last.By, Reason: last.Reason, At: last.At, Digest: last.Digest}
}

// EvidenceReader reads a release's recorded evidence (a ledger).
type EvidenceReader interface {
	Evidence(ctx context.Context, releaseID string) ([]store.Evidence, error)
}

// Grantors authenticates grants as a gate does (an *engine.Engine): a
// Hold counts only when it is authenticated as its holder.
type Grantors interface {
	Grantor(service string, doc *evidence.Document) (*engine.Grantor, string)
}

// RecordedHold is the hold in force on the release, from the Hold
// documents the ledger holds (ActiveHold) that auth authenticates as their
// holder; nil when none. A Hold by someone it is not from holds nothing.
func RecordedHold(ctx context.Context, db EvidenceReader, v *evidence.Validator, auth Grantors, releaseID string) (*Hold, error) {
	events, err := HoldEvents(ctx, db, v, auth, releaseID)
	if err != nil {
		return nil, err
	}
	return ActiveHold(events), nil
}

// HoldEvents reads the release's Hold documents from the ledger, those
// that auth authenticates as their holder. Each is read from its envelope,
// so its signers are verified again with the keys v trusts now.
func HoldEvents(ctx context.Context, db EvidenceReader, v *evidence.Validator, auth Grantors, releaseID string) ([]HoldEvent, error) {
	stored, err := db.Evidence(ctx, releaseID)
	if err != nil {
		return nil, fmt.Errorf("read evidence of %s: %w", releaseID, err)
	}
	v = v.ForLedger()
	var events []HoldEvent
	for _, e := range stored {
		if e.Kind != "Hold" {
			continue
		}
		doc, err := v.Decode(e.Source, e.Recorded())
		if err != nil {
			return nil, fmt.Errorf("recorded Hold %s: %w", e.Digest, err)
		}
		if g, _ := auth.Grantor(doc.Service, doc); g == nil {
			continue
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
