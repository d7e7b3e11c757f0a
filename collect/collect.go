// Package collect makes and records the evidence shipgate produces itself
// (collect incidents, collect error-budget, hold): the document of the
// release, signed in a DSSE envelope, decoded as the gate will read it, and
// written to the ledger. The packages below it (incidents, prom, ...) read
// one outside source each.
package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/localizevideos/shipgate/collect/incidents"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/signals"
	"github.com/localizevideos/shipgate/store"
)

// Ledger is where recorded evidence goes.
type Ledger interface {
	AddEvidence(ctx context.Context, now time.Time, docs []store.Evidence) ([]store.Evidence, error)
}

// Sealer signs and decodes the documents it is given: a validator that
// trusts the signer's key (evidence.Validator.WithKeys), and the signer.
type Sealer struct {
	Validator *evidence.Validator
	Signer    *evidence.Signer
}

// Seal signs the evidence document b in a DSSE envelope and decodes that:
// the document comes back with its verified signer, and
// gate.StoreEvidence keeps the envelope in the ledger beside it. source
// names the document in errors.
func (s Sealer) Seal(ctx context.Context, source string, b []byte) (*evidence.Document, error) {
	env, err := s.Signer.Seal(ctx, b)
	if err != nil {
		return nil, err
	}
	return s.Validator.Decode(source, env)
}

// Document is the signed evidence document of kind with data, collected
// at at as env says, decoded and validated (source names it in errors;
// what names it in a signing or validation error).
func (s Sealer) Document(ctx context.Context, env runner.Envelope, kind, source, what string, data any, at time.Time) (*evidence.Document, error) {
	b, err := json.Marshal(map[string]any{
		"apiVersion":  runner.APIVersion,
		"kind":        kind,
		"release":     map[string]string{"id": env.ReleaseID, "service": env.Service, "environment": env.Environment},
		"subject":     map[string]string{"repository": env.Repository, "commit": env.Commit},
		"collectedAt": at.Format(time.RFC3339Nano),
		"collector":   collector(env),
		"data":        data,
	})
	if err != nil {
		return nil, err
	}
	doc, err := s.Seal(ctx, source, b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return doc, nil
}

func collector(env runner.Envelope) any {
	return struct {
		Name    string `json:"name"`
		Version string `json:"version,omitempty"`
		Host    string `json:"host,omitempty"`
		Actor   string `json:"actor"`
	}{"shipgate", env.Version, env.Host, env.Actor}
}

// Record writes doc to db at now; the write is bounded by timeout, and
// goes on after ctx is cancelled. what names the document in the error.
func Record(ctx context.Context, db Ledger, now time.Time, timeout time.Duration, what string, doc *evidence.Document) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if _, err := db.AddEvidence(ctx, now, []store.Evidence{gate.StoreEvidence(doc)}); err != nil {
		return fmt.Errorf("record %s: %w", what, err)
	}
	return nil
}

// IncidentStatus is the signed IncidentStatus document of the incidents
// list read from source, decoded and validated.
func (s Sealer) IncidentStatus(ctx context.Context, env runner.Envelope, source string, list []incidents.Incident, at time.Time) (*evidence.Document, error) {
	b, err := runner.Document(env, "IncidentStatus", at, map[string]any{"source": source, "incidents": list})
	if err != nil {
		return nil, err
	}
	return s.Seal(ctx, "shipgate collect incidents", b)
}

// ErrorBudget is the signed ErrorBudget document of the measured budget b.
func (s Sealer) ErrorBudget(ctx context.Context, env runner.Envelope, b *signals.Budget, at time.Time) (*evidence.Document, error) {
	data, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	m["measuredAt"] = b.MeasuredAt.Truncate(time.Millisecond).Format(time.RFC3339Nano)
	return s.Document(ctx, env, "ErrorBudget", "shipgate collect error-budget", "error budget evidence", m, at)
}
