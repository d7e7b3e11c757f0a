// Package gate is the use case behind `shipgate gate`: collect a release's
// evidence (from files and the ledger), resolve which release is meant, ask
// the engine, record the decision and the violations it opens, and only
// then answer. Anything that goes wrong on the way denies.
package gate

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store"
)

// Store is the ledger as the gate uses it.
type Store interface {
	Evidence(ctx context.Context, releaseID string) ([]store.Evidence, error)
	Violations(ctx context.Context, f store.Filter) ([]store.Violation, error)
	RecordDecision(ctx context.Context, now time.Time, d store.Decision, opened []store.Violation, ev []store.Evidence) error
	// ServiceEvidence and ServiceDecisions read across releases: the
	// sweep for deploys never verified (Sweep).
	ServiceEvidence(ctx context.Context, service, kind string) ([]store.Evidence, error)
	ServiceDecisions(ctx context.Context, service, gate string) ([]store.Decision, error)
}

// Request asks one gate about one release.
type Request struct {
	Gate string
	// Release must carry an ID. Service, Environment and Commit may be left
	// empty: they are then taken from the release's Plan.
	Release engine.Release
	// EvidencePaths lists files and directories of evidence documents; they
	// are recorded in the ledger with the decision.
	EvidencePaths []string
	// Evidence adds documents already decoded.
	Evidence []*evidence.Document
	// Actor is who asks (recorded on the violations a denial opens).
	Actor  string
	Now    time.Time
	DryRun bool
	// ID names the decision, when the caller chose it (a client that
	// retries with the same id must find its decision recorded once);
	// empty uses NewID.
	ID string
}

// Gate evaluates requests with one engine, one validator and, when Store is
// set, one ledger, all built once by the caller.
type Gate struct {
	Engine    *engine.Engine
	Validator *evidence.Validator
	// Store, when set, supplies the release's recorded evidence and open
	// violations, and records every decision before it is returned.
	Store Store
	// NewID names decisions and violations; nil uses time-ordered random ids.
	NewID func(prefix string, now time.Time) string
	// Clock stamps ledger entries; nil is time.Now. (Decisions are made at
	// Request.Now, which may be given.)
	Clock func() time.Time

	// Concurrency, when positive, bounds the decisions being prepared at
	// once (a server sets it): reading the release from the ledger,
	// sweeping its service and evaluating. The others wait their turn,
	// first come first served, and each turn ends before its decision
	// waits for its commit. That work is mostly processor work: more at
	// once only share the processors, so each takes longer, and the
	// scheduler, which favours the goroutine just woken, makes the
	// slowest far slower than the rest.
	Concurrency int

	// policies remembers the policy revisions Store is known to hold, so
	// the policy set goes to the store with the first decision only.
	policies sync.Map // policyKey → struct{}
	// deploys remembers the Deploy documents sweeps read.
	deploys deployCache
	// turns holds one token per decision being prepared (Concurrency).
	turnsOnce sync.Once
	turns     chan struct{}
}

// RecordError means the decision could not be made durable: it must not be
// acted on, and the Decision returned with it denies.
type RecordError struct{ Err error }

func (e *RecordError) Error() string { return "record decision: " + e.Err.Error() }
func (e *RecordError) Unwrap() error { return e.Err }

// Decide answers req. It always returns a Decision, and that Decision
// denies whenever an error is returned too: invalid evidence
// (evidence.ValidationErrors or a read error), an engine fault
// (*engine.FaultError), or a ledger that cannot be read or written
// (*RecordError). A usage error, an unknown gate (engine.ErrUnknownGate),
// a name outside its grammar (*schemas.NameError, see CheckRequest) or an
// evidence path that evidence.Files refuses, is not recorded.
func (g *Gate) Decide(ctx context.Context, req Request) (*engine.Decision, error) {
	if req.Now.IsZero() {
		return nil, errors.New("gate: no evaluation time")
	}
	// A usage error (an unknown gate, an evidence path that does not exist
	// or holds no evidence) is refused before anything is read or
	// recorded: it is a mistake in the request, not a decision.
	if err := engine.CheckGate(req.Gate); err != nil {
		return g.denied(req, engine.ReasonUndefined, engine.RuleEngineFault, err.Error(), "name one of the gates"), err
	}
	if err := CheckRequest(req); err != nil {
		// Named as asked would put the bad name in the decision itself.
		req.ID, req.Release, req.Actor = "", engine.Release{}, ""
		return g.denied(req, engine.ReasonUndefined, engine.RuleEngineFault, err.Error(), "give names of the documented grammar; nothing was evaluated or recorded"), err
	}
	paths, err := evidence.Files(req.EvidencePaths)
	if err != nil {
		return g.denied(req, engine.ReasonEvidenceInvalid, engine.RuleEvidenceInvalid, err.Error(),
			"give evidence files, or directories of *.json files, that exist; nothing was evaluated"), err
	}
	files, err := g.load(paths)
	if err != nil {
		d := g.denied(req, engine.ReasonEvidenceInvalid, engine.RuleEvidenceInvalid, err.Error(),
			"fix the evidence documents named above; nothing was evaluated")
		return g.record(ctx, req, d, nil, nil, nil, err)
	}
	docs := append(append([]*evidence.Document(nil), req.Evidence...), files...)
	done := g.turn(ctx)
	defer done()
	recorded, pre, err := g.recorded(ctx, req.Release.ID)
	if err != nil {
		return g.denied(req, engine.ReasonStore, engine.RuleEngineFault, err.Error(), "make the ledger readable"), &RecordError{Err: err}
	}
	docs = append(docs, recorded...)
	// What was read from the ledger is recorded already: the store is
	// given only the rest, so a decision does not re-check every document.
	known := make(map[string]bool, len(recorded))
	for _, d := range recorded {
		known[d.Digest] = true
	}

	rel, err := resolveRelease(req.Release, docs)
	if err != nil {
		req.Release = rel
		reason := engine.ReasonEvidenceMissing
		var ce *conflictError
		if errors.As(err, &ce) {
			reason = engine.ReasonEvidenceConflict
		}
		d := g.denied(req, reason, engine.RuleEvidenceMissing, err.Error(),
			"record a Plan for the release, or give --service, --environment and --commit")
		done()
		return g.record(ctx, req, d, docs, known, nil, nil)
	}
	// A deploy of the service that skipped its smoke tests is found here
	// too, not only when someone runs the sweep: its violation is then
	// among those the policies see. The sweep also says what the
	// service's open violations are, when what was read of them still
	// holds after it.
	var after swept
	if g.Store != nil {
		var err error
		after, err = g.sweep(ctx, SweepRequest{Service: rel.Service, Actor: req.Actor, Now: req.Now}, pre.of(rel.Service))
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				re = &RecordError{Err: err}
			}
			return g.denied(req, engine.ReasonStore, engine.RuleEngineFault, err.Error(), "make the ledger readable and writable"), re
		}
	}
	open, err := g.openViolations(ctx, rel.Service, after.serviceReads)
	if err != nil {
		return g.denied(req, engine.ReasonStore, engine.RuleEngineFault, err.Error(), "make the ledger readable"), &RecordError{Err: err}
	}
	in := engine.Input{Gate: req.Gate, Release: rel, Now: req.Now, Evidence: docs, Violations: open}
	d, evalErr := g.Engine.Evaluate(ctx, in)
	done()
	d.ID = g.decisionID(req)
	d.DryRun = req.DryRun
	return g.record(ctx, req, d, docs, known, open, evalErr)
}

// turn waits until fewer than Concurrency decisions are being prepared,
// in the order the callers came, and returns what ends this one's turn
// (calling it again does nothing). A caller whose ctx ends meanwhile goes
// on at once: the ledger and the engine answer it as they answer any
// ended context.
func (g *Gate) turn(ctx context.Context) (done func()) {
	if g.Concurrency <= 0 {
		return func() {}
	}
	g.turnsOnce.Do(func() { g.turns = make(chan struct{}, g.Concurrency) })
	// A channel's blocked senders are served in the order they came.
	select {
	case g.turns <- struct{}{}:
		return sync.OnceFunc(func() { <-g.turns })
	case <-ctx.Done():
		return func() {}
	}
}

func (g *Gate) load(paths []string) ([]*evidence.Document, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	return g.Validator.LoadPaths(paths)
}

// releaseReader is a Store that reads a release's evidence, and the
// Deploys and open violations of the services its Plans name, in one query
// (package sqlstore's).
type releaseReader interface {
	ReleaseReads(ctx context.Context, releaseID string) (store.ReleaseReads, error)
}

// prefetched are the Deploy documents and the open violations read with a
// release's evidence: those of every service a recorded Plan of the
// release names.
type prefetched struct {
	services map[string]bool
	deploys  []store.Evidence
	open     []store.Violation
	openRead bool
}

// serviceReads is what was read of one service before a sweep of it: its
// Deploys when deploys is set (ServiceEvidence(service, "Deploy")), and its
// open violations when violations is set (Violations(Filter{Status:
// StatusOpen, Service: service}), by due date then id).
type serviceReads struct {
	deploys, violations bool
	deployDocs          []store.Evidence
	open                []store.Violation
}

// of returns what was read of service: its Deploys, and its open
// violations if they were read, when a recorded Plan of the release names
// it; nothing otherwise.
func (p prefetched) of(service string) serviceReads {
	if !p.services[service] {
		return serviceReads{}
	}
	r := serviceReads{deploys: true, violations: p.openRead}
	for _, d := range p.deploys {
		if d.Service == service {
			r.deployDocs = append(r.deployDocs, d)
		}
	}
	for _, v := range p.open {
		if v.Service == service {
			r.open = append(r.open, v)
		}
	}
	return r
}

// recorded decodes the release's evidence from the ledger. It is validated
// again: the schemas may have tightened since it was recorded. (The
// ledger copy of the Validator remembers what it decoded, so each stored
// document is validated once per Validator, not once per decision.) A
// store that can (releaseReader) reads with it, in the same query, the
// Deploys a sweep of the release's service reads, and its open violations
// where the store folds them in.
func (g *Gate) recorded(ctx context.Context, releaseID string) ([]*evidence.Document, prefetched, error) {
	var pre prefetched
	if g.Store == nil || releaseID == "" {
		return nil, pre, nil
	}
	var stored []store.Evidence
	var err error
	if rr, ok := g.Store.(releaseReader); ok {
		var r store.ReleaseReads
		r, err = rr.ReleaseReads(ctx, releaseID)
		stored, pre.deploys, pre.open, pre.openRead = r.Evidence, r.Deploys, r.Open, r.OpenRead
		pre.services = map[string]bool{}
		for _, s := range stored {
			if s.Kind == "Plan" {
				pre.services[s.Service] = true
			}
		}
	} else {
		stored, err = g.Store.Evidence(ctx, releaseID)
	}
	if err != nil {
		return nil, prefetched{}, fmt.Errorf("read evidence of %s: %w", releaseID, err)
	}
	docs := make([]*evidence.Document, 0, len(stored))
	v := g.Validator.ForLedger()
	for _, s := range stored {
		src := s.Source
		if src == "" {
			src = fmt.Sprintf("ledger entry %d", s.Seq)
		}
		// A signed document is read from its envelope, so its signers are
		// verified again with the keys trusted now.
		d, err := v.Decode(src, s.Recorded())
		if err != nil {
			return nil, prefetched{}, fmt.Errorf("recorded evidence %s: %w", s.Digest, err)
		}
		docs = append(docs, d)
	}
	return docs, pre, nil
}

// openViolations returns the open violations of service: those known
// read, else those the store reads now.
func (g *Gate) openViolations(ctx context.Context, service string, known serviceReads) ([]engine.OpenViolation, error) {
	if g.Store == nil {
		return nil, nil
	}
	vs := known.open
	if !known.violations {
		var err error
		if vs, err = g.Store.Violations(ctx, store.Filter{Status: store.StatusOpen, Service: service}); err != nil {
			return nil, fmt.Errorf("read open violations of %s: %w", service, err)
		}
	}
	out := make([]engine.OpenViolation, 0, len(vs))
	for _, v := range vs {
		out = append(out, engine.OpenViolation{ID: v.ID, Release: v.ReleaseID, Gate: v.Gate, Rules: v.Rules,
			Status: v.Status, OpenedAt: v.OpenedAt, Due: v.Due})
	}
	return out, nil
}

// CheckRequest refuses a request whose release id, service, environment
// or decision id is not a name (schemas.CheckName), whose commit is not one
// (schemas.CheckCommit), or whose actor is not a person's name
// (schemas.CheckPerson): a *schemas.NameError. Decide
// checks it before anything is read or recorded; callers check it earlier
// to name their own flag or member.
func CheckRequest(req Request) error {
	if err := schemas.CheckName("release id", req.Release.ID); err != nil {
		return err
	}
	for _, f := range []struct{ what, v string }{
		{"service", req.Release.Service}, {"environment", req.Release.Environment}, {"decision id", req.ID},
	} {
		if f.v == "" {
			continue // taken from the Plan, or named by the gate
		}
		if err := schemas.CheckName(f.what, f.v); err != nil {
			return err
		}
	}
	if req.Release.Commit != "" {
		if err := schemas.CheckCommit("commit", req.Release.Commit); err != nil {
			return err
		}
	}
	if req.Actor != "" {
		if err := schemas.CheckPerson("actor", req.Actor); err != nil {
			return err
		}
	}
	return nil
}

func (g *Gate) denied(req Request, reason, rule, msg, remediation string) *engine.Decision {
	return &engine.Decision{
		ID: g.decisionID(req), Gate: req.Gate, Release: req.Release, Allow: false, Reason: reason,
		Violations: []engine.Finding{{Rule: rule, Enforcement: engine.Hard, Message: msg, Evidence: []string{}, Remediation: remediation}},
		Overridden: []engine.Finding{}, Warnings: []engine.Finding{}, Obligations: []engine.Obligation{},
		Rules: []string{}, Ignored: []engine.Ignored{}, Evidence: []engine.EvidenceRef{},
		Policy: engine.PolicyRef{Revision: g.Engine.Revision(), Bundle: g.Engine.BundleRevision()}, EvaluatedAt: req.Now.UTC(), DryRun: req.DryRun,
	}
}

func (g *Gate) decisionID(req Request) string {
	if req.ID != "" {
		return req.ID
	}
	return g.id("dec", g.now())
}

func (g *Gate) id(prefix string, now time.Time) string {
	if g.NewID != nil {
		return g.NewID(prefix, now)
	}
	return NewID(prefix, now)
}

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns prefix, "_" and 26 characters: a millisecond timestamp then
// randomness, so ids sort by time and never collide across processes.
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

type conflictError struct{ msg string }

func (e *conflictError) Error() string { return e.msg }

// resolveRelease fills what the request left empty from the release's Plan
// documents: the Plan declares the release. Several Plans that disagree are
// a conflict, not a choice.
func resolveRelease(r engine.Release, docs []*evidence.Document) (engine.Release, error) {
	if r.ID == "" {
		return r, errors.New("no release id")
	}
	if r.Service != "" && r.Environment != "" && r.Commit != "" {
		return r, nil
	}
	var plans []*evidence.Document
	for _, d := range docs {
		if d.Kind == "Plan" && d.ReleaseID == r.ID &&
			(r.Service == "" || d.Service == r.Service) &&
			(r.Environment == "" || d.Environment == r.Environment) &&
			(r.Commit == "" || d.Commit == r.Commit) {
			plans = append(plans, d)
		}
	}
	if len(plans) == 0 {
		return r, fmt.Errorf("release %s: no Plan evidence declares its service, environment and commit", r.ID)
	}
	p := plans[0]
	for _, q := range plans[1:] {
		if q.Service != p.Service || q.Environment != p.Environment || q.Commit != p.Commit || q.Repository != p.Repository {
			return r, &conflictError{fmt.Sprintf("release %s: Plans disagree: %s says %s/%s@%s, %s says %s/%s@%s",
				r.ID, p.Source, p.Service, p.Environment, p.Commit, q.Source, q.Service, q.Environment, q.Commit)}
		}
	}
	r.Service, r.Environment, r.Commit = p.Service, p.Environment, p.Commit
	if r.Repository == "" {
		r.Repository = p.Repository
	}
	return r, nil
}

// Input returns the Rego input document req would be evaluated with, as
// JSON, for `opa eval -i`.
func (g *Gate) Input(ctx context.Context, req Request) ([]byte, error) {
	files, err := g.load(req.EvidencePaths)
	if err != nil {
		return nil, err
	}
	recorded, pre, err := g.recorded(ctx, req.Release.ID)
	if err != nil {
		return nil, err
	}
	docs := append(append(append([]*evidence.Document(nil), req.Evidence...), files...), recorded...)
	rel, err := resolveRelease(req.Release, docs)
	if err != nil {
		return nil, err
	}
	open, err := g.openViolations(ctx, rel.Service, pre.of(rel.Service))
	if err != nil {
		return nil, err
	}
	return g.Engine.InputDocument(engine.Input{Gate: req.Gate, Release: rel, Now: req.Now, Evidence: docs, Violations: open})
}

// Summary is a one-line description of a decision for logs.
func Summary(d *engine.Decision) string {
	verdict := "DENY"
	if d.Allow {
		verdict = "ALLOW"
	}
	rules := make([]string, 0, len(d.Violations))
	for _, v := range d.Violations {
		rules = append(rules, v.Rule)
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s %s %s", verdict, d.Gate, d.Release.ID, strings.Join(rules, ",")))
}
