package collect

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/localizevideos/shipgate/collect/incidents"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/signals"
	"github.com/localizevideos/shipgate/store"
)

// Recorder records the evidence shipgate produces itself about one
// release: it signs and decodes each document (Sealer) and writes it to
// the ledger.
type Recorder struct {
	Sealer
	Ledger Ledger
	// Release is the release the evidence is about, completed from its
	// Plans (service, environment, repository, commit).
	Release engine.Release
	// Version is shipgate's, named in each document's collector.
	Version string
	// Clock reads the wall clock; nil is time.Now.
	Clock func() time.Time
	// Timeout bounds a write that goes on after its context is cancelled
	// (Record).
	Timeout time.Duration
}

func (r *Recorder) now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock()
}

// Envelope is the envelope of the release's evidence that actor collects
// on this host.
func (r *Recorder) Envelope(actor string) runner.Envelope {
	host, _ := os.Hostname()
	return runner.Envelope{ReleaseID: r.Release.ID, Service: r.Release.Service, Environment: r.Release.Environment,
		Repository: r.Release.Repository, Commit: r.Release.Commit, Version: r.Version, Host: host, Actor: actor}
}

// Record writes doc to the ledger at now, bounded by Timeout, and goes on
// after ctx is cancelled (Record).
func (r *Recorder) Record(ctx context.Context, now time.Time, what string, doc *evidence.Document) error {
	return Record(ctx, r.Ledger, now, r.Timeout, what, doc)
}

// nothingRecorded ends the error of an incident list that was not read.
const nothingRecorded = "nothing recorded: an incident list that cannot be read is not \"no incidents\""

// Incidents reads the incident list at from (an http(s) URL, fetched
// within timeout, or a file), maps it with m and records it as the
// release's IncidentStatus, which actor collects. A source that cannot be
// read, mapped or validated records nothing.
func (r *Recorder) Incidents(ctx context.Context, from string, m *incidents.Mapping, timeout time.Duration, actor string) (*evidence.Document, []incidents.Incident, error) {
	env := r.Envelope(actor)
	fetchCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := incidents.Fetch(fetchCtx, &http.Client{Timeout: timeout}, from)
	if err != nil {
		return nil, nil, fmt.Errorf("%w; %s", err, nothingRecorded)
	}
	list, err := m.Apply(ctx, body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w; %s", from, err, nothingRecorded)
	}
	doc, err := r.IncidentStatus(ctx, env, from, list, r.now())
	if err != nil {
		return nil, nil, fmt.Errorf("%s: the mapped incidents are not valid IncidentStatus evidence: %w; %s", from, err, nothingRecorded)
	}
	if _, err := r.Ledger.AddEvidence(ctx, r.now(), []store.Evidence{gate.StoreEvidence(doc)}); err != nil {
		return nil, nil, fmt.Errorf("record IncidentStatus: %w", err)
	}
	return doc, list, nil
}

// ErrorBudget measures the error budget slo leaves and records it as the
// release's ErrorBudget, which actor measures. No data records nothing:
// an unmeasured budget is not an available one.
func (r *Recorder) ErrorBudget(ctx context.Context, slo *signals.SLO, actor string) (*signals.Budget, *evidence.Document, error) {
	now := r.now().UTC().Truncate(time.Millisecond)
	qctx, cancel := context.WithTimeout(ctx, signals.DefaultTimeout)
	budget, err := slo.Measure(qctx, &signals.Sources{}, now)
	cancel()
	if err != nil {
		return nil, nil, fmt.Errorf("measure the error budget: %w: nothing recorded, and an unmeasured budget is not available", err)
	}
	doc, err := r.Sealer.ErrorBudget(ctx, r.Envelope(actor), budget, now)
	if err != nil {
		return nil, nil, err
	}
	if err := r.Record(ctx, now, "the ErrorBudget", doc); err != nil {
		return nil, nil, err
	}
	return budget, doc, nil
}
