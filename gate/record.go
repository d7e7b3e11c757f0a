package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/store"
)

// Replay is what a recorded decision was made from: the gate, the release,
// the time, every evidence digest offered and the open violations, enough
// to evaluate it again against another policy set.
type Replay struct {
	Gate       string                 `json:"gate"`
	Release    engine.Release         `json:"release"`
	Now        time.Time              `json:"now"`
	Evidence   []string               `json:"evidence"`
	Violations []engine.OpenViolation `json:"violations"`
}

// Record is the body of a decision entry in the ledger: the decision as the
// gate answered it, and what it was made from under "replay".
type Record struct {
	*engine.Decision
	Replay Replay `json:"replay"`
}

// denials that are production violations. Faults and invalid input are the
// gate failing, not the release.
var violationReasons = []string{engine.ReasonDeny, engine.ReasonEvidenceMissing, engine.ReasonEvidenceBinding, engine.ReasonEvidenceConflict}

// record makes d durable with the violations it opens and the evidence it
// was given, before anyone sees it. Without a store it only passes d on.
// The replay names every document in docs; the store is sent only those
// whose digest known does not hold (the ones read from the ledger are
// recorded already: an append-only ledger keeps them).
func (g *Gate) record(ctx context.Context, req Request, d *engine.Decision, docs []*evidence.Document, known map[string]bool, open []engine.OpenViolation, cause error) (*engine.Decision, error) {
	if g.Store == nil {
		return d, cause
	}
	opened := g.opens(req, d, open)
	for _, v := range opened {
		d.Opened = append(d.Opened, v.ID)
	}
	replay := Replay{Gate: d.Gate, Release: d.Release, Now: req.Now.UTC(), Evidence: []string{}, Violations: open}
	if replay.Violations == nil {
		replay.Violations = []engine.OpenViolation{}
	}
	var ev []store.Evidence
	seen := map[string]bool{}
	for _, doc := range docs {
		if seen[doc.Digest] {
			continue
		}
		seen[doc.Digest] = true
		replay.Evidence = append(replay.Evidence, doc.Digest)
		if !known[doc.Digest] {
			ev = append(ev, StoreEvidence(doc))
		}
	}
	slices.Sort(replay.Evidence)
	body, err := json.Marshal(Record{Decision: d, Replay: replay})
	if err == nil {
		pol, key := g.policy(ctx, d)
		err = g.Store.RecordDecision(ctx, g.now(), store.Decision{
			ID: d.ID, ReleaseID: d.Release.ID, Service: d.Release.Service, Environment: d.Release.Environment,
			Gate: d.Gate, Allow: d.Allow, DryRun: d.DryRun, Reason: d.Reason, EvaluatedAt: d.EvaluatedAt, Body: body,
			Policy: pol,
		}, opened, ev)
		if err == nil && pol != nil && reflect.TypeOf(g.Store).Comparable() {
			g.policies.Store(key, struct{}{})
		}
	}
	if err != nil {
		d.Allow, d.Reason, d.Opened = false, engine.ReasonStore, nil
		d.Violations = append(d.Violations, engine.Finding{
			Rule: engine.RuleEngineFault, Enforcement: engine.Hard, Evidence: []string{},
			Message:     "the decision could not be recorded: " + err.Error(),
			Remediation: "make the ledger writable; nothing is allowed until it records",
		})
		return d, &RecordError{Err: err}
	}
	return d, cause
}

// recurs finds the open violation a denial repeats: of the same release
// and gate, for the same rules. Obligations never match: they are owed, not
// repeated.
func recurs(open []engine.OpenViolation, d *engine.Decision, rules []string) string {
	want := slices.Sorted(slices.Values(rules))
	for _, o := range open {
		if o.Status == store.StatusOpen && strings.HasPrefix(o.ID, "vio_") && o.Release == d.Release.ID && o.Gate == d.Gate &&
			slices.Equal(slices.Sorted(slices.Values(o.Rules)), want) {
			return o.ID
		}
	}
	return ""
}

// policyKey names a policy revision in one store.
type policyKey struct {
	store    Store
	revision string
}

// policyHolder is a Store that tells whether it records a policy
// revision (sqlstore's stores do).
type policyHolder interface {
	HoldsPolicy(ctx context.Context, revision string) (bool, error)
}

// policy returns the policy set d was made under, for the store to record
// with d, or nil when this Gate already saw the store record it, or the
// store says it holds it (the store itself skips a revision it holds, so a
// nil here only saves the work: the entry that records a policy set holds
// every module, and building it costs more than the rest of recording a
// decision, each time a new process, such as one `shipgate gate`, records
// its first decision). When the store cannot tell, the set goes with d.
func (g *Gate) policy(ctx context.Context, d *engine.Decision) (*store.Policy, policyKey) {
	set := g.Engine.PolicySet()
	key := policyKey{g.Store, d.Policy.Revision}
	if set == nil || set.Revision != d.Policy.Revision {
		return nil, key
	}
	// A store of a type that cannot be a map key is simply asked each time.
	cacheable := reflect.TypeOf(g.Store).Comparable()
	if cacheable {
		if _, ok := g.policies.Load(key); ok {
			return nil, key
		}
	}
	if h, ok := g.Store.(policyHolder); ok {
		if held, err := h.HoldsPolicy(ctx, set.Revision); err == nil && held {
			if cacheable {
				g.policies.Store(key, struct{}{})
			}
			return nil, key
		}
	}
	return StorePolicy(set), key
}

// StorePolicy converts an engine's policy set to its stored form.
func StorePolicy(set *policyset.Record) *store.Policy {
	mods := make([]store.PolicyModule, len(set.Modules))
	for i, m := range set.Modules {
		mods[i] = store.PolicyModule{Path: m.Path, Source: m.Source}
	}
	return &store.Policy{Revision: set.Revision, Modules: mods, Data: set.Data}
}

// opens lists the violation a denial opens, or the obligations (a
// postmortem owed by an emergency release) an allowed decision carries.
// Dry runs open nothing.
func (g *Gate) opens(req Request, d *engine.Decision, open []engine.OpenViolation) []store.Violation {
	// A dry run opens nothing; nor does a request that names no known
	// release: there is no service to hold the violation against.
	if d.DryRun || d.Release.Service == "" {
		return nil
	}
	base := store.Violation{ReleaseID: d.Release.ID, Service: d.Release.Service, Environment: d.Release.Environment,
		Gate: d.Gate, DecisionID: d.ID, Actor: req.Actor, OpenedAt: d.EvaluatedAt, Status: store.StatusOpen,
		Due: d.EvaluatedAt.Add(g.Engine.PostmortemDue())}
	if !d.Allow {
		if !slices.Contains(violationReasons, d.Reason) {
			return nil
		}
		v := base
		v.Kind = store.KindViolation
		var msgs []string
		for _, f := range d.Violations {
			if !slices.Contains(v.Rules, f.Rule) {
				v.Rules = append(v.Rules, f.Rule)
			}
			msgs = append(msgs, f.Rule+": "+f.Message)
		}
		if id := recurs(open, d, v.Rules); id != "" {
			d.Recurs = id
			return nil
		}
		v.ID = g.id("vio", g.now())
		v.Message = fmt.Sprintf("%s gate denied: %s", d.Gate, strings.Join(msgs, "; "))
		return []store.Violation{v}
	}
	var out []store.Violation
	for _, o := range d.Obligations {
		if o.Kind != "postmortem" {
			continue
		}
		v := base
		v.ID, v.Kind, v.Rules, v.Message = g.id("obl", g.now()), store.KindObligation, []string{o.Rule}, o.Message
		if due, err := time.Parse(time.RFC3339, o.Due); err == nil {
			v.Due = due.UTC()
		}
		out = append(out, v)
	}
	return out
}

func (g *Gate) now() time.Time {
	if g.Clock != nil {
		return g.Clock()
	}
	return time.Now()
}

// StoreEvidence converts a decoded document to its stored form.
func StoreEvidence(doc *evidence.Document) store.Evidence {
	return store.Evidence{Digest: doc.Digest, Kind: doc.Kind, ReleaseID: doc.ReleaseID, Service: doc.Service,
		Environment: doc.Environment, Commit: doc.Commit, Source: doc.Source, CollectedAt: doc.CollectedAt, Body: doc.Canonical,
		Envelope: doc.Envelope}
}
