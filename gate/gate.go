// Package gate is the use case behind `shipgate gate`: collect a release's
// evidence, resolve which release is meant, ask the engine, and fail closed
// on anything that goes wrong on the way.
package gate

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
)

// Request asks one gate about one release.
type Request struct {
	Gate string
	// Release must carry an ID. Service, Environment and Commit may be left
	// empty: they are then taken from the release's Plan.
	Release engine.Release
	// Evidence lists files and directories of evidence documents.
	EvidencePaths []string
	// Evidence adds documents already decoded (from a ledger, a server).
	Evidence   []*evidence.Document
	Violations []engine.OpenViolation
	Now        time.Time
	DryRun     bool
}

// Gate evaluates requests with one engine and one validator, both built
// once by the caller.
type Gate struct {
	Engine    *engine.Engine
	Validator *evidence.Validator
	// NewID names decisions; nil uses a time-ordered random id.
	NewID func(now time.Time) string
}

// Decide answers req. It always returns a Decision, and it denies whenever
// it also returns an error: invalid evidence (*evidence.ValidationErrors or a
// read error), an unresolvable release, or an engine fault (*engine.FaultError).
func (g *Gate) Decide(ctx context.Context, req Request) (*engine.Decision, error) {
	if req.Now.IsZero() {
		return nil, errors.New("gate: no evaluation time")
	}
	docs := append([]*evidence.Document(nil), req.Evidence...)
	if len(req.EvidencePaths) > 0 {
		loaded, err := g.Validator.LoadPaths(req.EvidencePaths)
		if err != nil {
			return g.denied(req, engine.ReasonEvidenceInvalid, engine.RuleEvidenceInvalid, err.Error(),
				"fix the evidence documents named above; nothing was evaluated"), err
		}
		docs = append(docs, loaded...)
	}
	rel, err := resolveRelease(req.Release, docs)
	if err != nil {
		req.Release = rel
		var ce *conflictError
		reason := engine.ReasonEvidenceMissing
		if errors.As(err, &ce) {
			reason = engine.ReasonEvidenceConflict
		}
		return g.denied(req, reason, engine.RuleEvidenceMissing, err.Error(),
			"record a Plan for the release, or give --service, --environment and --commit"), nil
	}
	d, err := g.Engine.Evaluate(ctx, engine.Input{
		Gate: req.Gate, Release: rel, Now: req.Now, Evidence: docs, Violations: req.Violations,
	})
	d.ID = g.id(req.Now)
	d.DryRun = req.DryRun
	return d, err
}

// Input returns the Rego input document req would be evaluated with, as
// JSON, for `opa eval -i`.
func (g *Gate) Input(req Request) ([]byte, error) {
	docs := append([]*evidence.Document(nil), req.Evidence...)
	if len(req.EvidencePaths) > 0 {
		loaded, err := g.Validator.LoadPaths(req.EvidencePaths)
		if err != nil {
			return nil, err
		}
		docs = append(docs, loaded...)
	}
	rel, err := resolveRelease(req.Release, docs)
	if err != nil {
		return nil, err
	}
	return g.Engine.InputDocument(engine.Input{Gate: req.Gate, Release: rel, Now: req.Now, Evidence: docs, Violations: req.Violations})
}

func (g *Gate) denied(req Request, reason, rule, msg, remediation string) *engine.Decision {
	return &engine.Decision{
		ID: g.id(req.Now), Gate: req.Gate, Release: req.Release, Allow: false, Reason: reason,
		Violations: []engine.Finding{{Rule: rule, Enforcement: engine.Hard, Message: msg, Evidence: []string{}, Remediation: remediation}},
		Overridden: []engine.Finding{}, Warnings: []engine.Finding{}, Obligations: []engine.Obligation{},
		Rules: []string{}, Ignored: []engine.Ignored{}, Evidence: []engine.EvidenceRef{},
		Policy: engine.PolicyRef{Revision: g.Engine.Revision()}, EvaluatedAt: req.Now.UTC(), DryRun: req.DryRun,
	}
}

func (g *Gate) id(now time.Time) string {
	if g.NewID != nil {
		return g.NewID(now)
	}
	return NewDecisionID(now)
}

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewDecisionID returns "dec_" and 26 characters: a millisecond timestamp
// then randomness, so ids sort by time and never collide across processes.
func NewDecisionID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	return "dec_" + idEncoding.EncodeToString(b[:])
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
