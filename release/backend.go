package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/localizevideos/shipgate/api"
	"github.com/localizevideos/shipgate/client"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/rollback"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/store"
)

// Backend is where a release step records evidence, reads it back and
// asks a gate: the local ledger (Local) or a server (Remote).
type Backend interface {
	// AddEvidence records docs, signed envelopes included, all or none,
	// and returns the ledger entry of each new one by digest. at is the
	// local ledger's entry time (zero: now); a server stamps its own.
	AddEvidence(ctx context.Context, at time.Time, docs []*evidence.Document) (map[string]int64, error)
	// Plans reads what the release's Plans need: its evidence (a server
	// answers its Plans only, which is all OfPlans and PlanRelease read).
	Plans(ctx context.Context, releaseID string) ([]store.Evidence, error)
	// Decide asks req.Gate. An error that came with a recorded (denying)
	// decision returns both.
	Decide(ctx context.Context, req gate.Request) (*engine.Decision, error)
	// Status is the release's checklist.
	Status(ctx context.Context, releaseID string) (*gate.ReleaseStatus, error)
	// Violations and Violation read violations and obligations.
	Violations(ctx context.Context, f store.Filter) ([]store.Violation, error)
	Violation(ctx context.Context, id string) (store.Violation, error)
	// ClosePostmortem records the Postmortem doc and closes the
	// violations ids (PostmortemCloses chooses them).
	ClosePostmortem(ctx context.Context, doc *evidence.Document, ids []string) ([]store.Violation, error)
	// RollbackPlan sets p.Restart (the approved deploy command) and, for
	// a fast rollback, p.Target or p.TargetErr and then the target's
	// verified artifact, p.Artifact or p.ArtifactErr.
	RollbackPlan(ctx context.Context, rel engine.Release, p *rollback.Plan)
	// DeployDuration names the duration of the release's latest
	// succeeded Deploy, " (the deploy took 1.234s)", or "".
	DeployDuration(ctx context.Context, rel engine.Release) string
	// AutoRollbackRefusals asks the policy whether the release may be
	// rolled back automatically after a watch of window
	// (rollback.AutoRollbackRefusals): nothing refused is allowed.
	AutoRollbackRefusals(ctx context.Context, env runner.Envelope, rel engine.Release, window time.Duration, now time.Time) ([]engine.Finding, error)
	// CurrentHold is the hold in force on the release, nil when none.
	CurrentHold(ctx context.Context, rel engine.Release) (*rollback.Hold, error)
	// Hold places or lifts a hold on the release's automated rollback.
	Hold(ctx context.Context, req HoldRequest) (*HoldResult, error)
	// Validator checks the documents the step produces: with Remote, only
	// those; the server checks what it records against its own keys.
	Validator() *evidence.Validator
	// SetValidator replaces it (one that also trusts the step's signer).
	SetValidator(v *evidence.Validator)
	// Close releases the ledger.
	Close() error
}

// Body is what goes over the API for a document: its DSSE envelope when
// it is signed, so that the server verifies the signature against its own
// trusted keys and keeps the envelope in the ledger as a local store
// does; else its canonical form.
func Body(d *evidence.Document) json.RawMessage {
	if d.Envelope != nil {
		return d.Envelope
	}
	return d.Canonical
}

// Local records in a local ledger and decides with local policies.
type Local struct {
	// Gate decides; its Validator checks evidence. Its Engine may be nil
	// until a decision when LoadEngine is set.
	Gate *gate.Gate
	// Store is the ledger; Gate.Store is set to it.
	Store store.Store
	// LoadEngine loads the policies at the first use of the engine, when
	// Gate.Engine is nil: a step that decides nothing does not need them.
	LoadEngine func(context.Context) (*engine.Engine, error)
	// Clock stamps what is recorded (time.Now when nil).
	Clock func() time.Time
}

// NewLocal is the backend of the ledger db, deciding with g (whose Store
// becomes db).
func NewLocal(g *gate.Gate, db store.Store) *Local {
	g.Store = db
	return &Local{Gate: g, Store: db, Clock: g.Clock}
}

func (l *Local) now() time.Time {
	if l.Clock != nil {
		return l.Clock()
	}
	return time.Now()
}

func (l *Local) engine(ctx context.Context) (*engine.Engine, error) {
	if l.Gate.Engine == nil && l.LoadEngine != nil {
		eng, err := l.LoadEngine(ctx)
		if err != nil {
			return nil, err
		}
		l.Gate.Engine = eng
	}
	if l.Gate.Engine == nil {
		return nil, errors.New("no policies loaded")
	}
	return l.Gate.Engine, nil
}

// AddEvidence implements Backend.
func (l *Local) AddEvidence(ctx context.Context, at time.Time, docs []*evidence.Document) (map[string]int64, error) {
	if at.IsZero() {
		at = l.now()
	}
	in := make([]store.Evidence, len(docs))
	for i, d := range docs {
		in[i] = gate.StoreEvidence(d)
	}
	stored, err := l.Store.AddEvidence(ctx, at, in)
	if err != nil {
		return nil, err
	}
	entry := map[string]int64{}
	for _, e := range stored {
		entry[e.Digest] = e.Seq
	}
	return entry, nil
}

// Plans implements Backend: all of the release's evidence.
func (l *Local) Plans(ctx context.Context, releaseID string) ([]store.Evidence, error) {
	return l.Store.Evidence(ctx, releaseID)
}

// Decide implements Backend.
func (l *Local) Decide(ctx context.Context, req gate.Request) (*engine.Decision, error) {
	if _, err := l.engine(ctx); err != nil {
		return nil, err
	}
	return l.Gate.Decide(ctx, req)
}

// Status implements Backend.
func (l *Local) Status(ctx context.Context, releaseID string) (*gate.ReleaseStatus, error) {
	return gate.Status(ctx, l.Store, l.Gate.Validator, releaseID)
}

// Violations implements Backend.
func (l *Local) Violations(ctx context.Context, f store.Filter) ([]store.Violation, error) {
	return l.Store.Violations(ctx, f)
}

// Violation implements Backend.
func (l *Local) Violation(ctx context.Context, id string) (store.Violation, error) {
	return l.Store.Violation(ctx, id)
}

// ClosePostmortem implements Backend.
func (l *Local) ClosePostmortem(ctx context.Context, doc *evidence.Document, ids []string) ([]store.Violation, error) {
	return l.Store.ClosePostmortem(ctx, l.now(), gate.StoreEvidence(doc), ids)
}

// RollbackPlan implements Backend with the local ledger and policy data.
func (l *Local) RollbackPlan(ctx context.Context, rel engine.Release, p *rollback.Plan) {
	eng, err := l.engine(ctx)
	if err != nil {
		p.TargetErr = err
		return
	}
	if cmds := eng.DeployCommands(rel.Service); len(cmds) > 0 {
		p.Restart = cmds[0]
	}
	if p.Strategy != rollback.Fast {
		return
	}
	if p.Target, p.TargetErr = rollback.FindTarget(ctx, l.Store, rel); p.TargetErr == nil {
		p.Artifact, p.ArtifactErr = rollback.VerifiedArtifact(ctx, l.Store, p.Target)
	}
}

// DeployDuration implements Backend.
func (l *Local) DeployDuration(ctx context.Context, rel engine.Release) string {
	evs, err := l.Store.Evidence(ctx, rel.ID)
	if err != nil {
		return ""
	}
	out := ""
	for _, e := range evs {
		if e.Kind != "Deploy" || e.Commit != rel.Commit {
			continue
		}
		var doc struct {
			Data struct {
				Status          string   `json:"status"`
				DurationSeconds *float64 `json:"durationSeconds"`
			} `json:"data"`
		}
		if json.Unmarshal(e.Body, &doc) == nil && doc.Data.Status == "succeeded" && doc.Data.DurationSeconds != nil {
			out = fmt.Sprintf(" (the deploy took %.3fs)", *doc.Data.DurationSeconds)
		}
	}
	return out
}

// AutoRollbackRefusals implements Backend with the local policies.
func (l *Local) AutoRollbackRefusals(ctx context.Context, env runner.Envelope, _ engine.Release, window time.Duration, now time.Time) ([]engine.Finding, error) {
	eng, err := l.engine(ctx)
	if err != nil {
		return nil, err
	}
	return rollback.AutoRollbackRefusals(ctx, eng, l.Gate.Validator, env, window, now)
}

// CurrentHold implements Backend with the local ledger.
func (l *Local) CurrentHold(ctx context.Context, rel engine.Release) (*rollback.Hold, error) {
	eng, err := l.engine(ctx)
	if err != nil {
		return nil, err
	}
	return rollback.RecordedHold(ctx, l.Store, l.Gate.Validator, eng, rel.ID)
}

// Validator implements Backend.
func (l *Local) Validator() *evidence.Validator { return l.Gate.Validator }

// SetValidator implements Backend.
func (l *Local) SetValidator(v *evidence.Validator) { l.Gate.Validator = v }

// Catalog is the rule catalog of the policies l decides with (their
// METADATA annotations); nil when they cannot be loaded.
func (l *Local) Catalog(ctx context.Context) engine.Catalog {
	e, err := l.engine(ctx)
	if err != nil {
		return nil
	}
	return e.Catalog()
}

// Close implements Backend: it closes the ledger.
func (l *Local) Close() error { return l.Store.Close() }

// Remote records and decides on shipgate serve.
type Remote struct {
	Client *client.Client
	// V checks the documents the step produces before they are sent.
	V *evidence.Validator
}

// AddEvidence implements Backend: the server records each document as
// its DSSE envelope when signed.
func (r *Remote) AddEvidence(ctx context.Context, _ time.Time, docs []*evidence.Document) (map[string]int64, error) {
	raws, sources := bodies(docs)
	added, err := r.Client.AddEvidence(ctx, raws, sources)
	if err != nil {
		return nil, err
	}
	entry := map[string]int64{}
	for _, a := range added {
		if a.New {
			entry[a.Digest] = a.Entry
		}
	}
	return entry, nil
}

func bodies(docs []*evidence.Document) ([]json.RawMessage, []string) {
	raws, sources := make([]json.RawMessage, len(docs)), make([]string, len(docs))
	for i, d := range docs {
		raws[i], sources[i] = Body(d), d.Source
	}
	return raws, sources
}

// Plans implements Backend: the release's Plans on the server.
func (r *Remote) Plans(ctx context.Context, releaseID string) ([]store.Evidence, error) {
	return r.Client.Plans(ctx, releaseID)
}

// Decide implements Backend: the server decides at its own time and
// records the token's name as the actor, so req.Now and req.Actor are not
// sent; the evidence of req (its documents and the files of
// EvidencePaths, checked here) is. The client names the decision, so a
// retry after a lost answer is answered with the decision recorded first.
func (r *Remote) Decide(ctx context.Context, req gate.Request) (*engine.Decision, error) {
	docs := req.Evidence
	if len(req.EvidencePaths) > 0 {
		loaded, err := r.V.LoadPaths(req.EvidencePaths)
		if err != nil {
			return nil, err
		}
		docs = append(docs, loaded...)
	}
	gr := api.GateRequest{Release: req.Release, DryRun: req.DryRun, ID: req.ID}
	if len(docs) > 0 {
		gr.Evidence, gr.Sources = bodies(docs)
	}
	d, err := r.Client.Decide(ctx, req.Gate, gr)
	var ce *client.Error
	if errors.As(err, &ce) && ce.Decision != nil {
		d = ce.Decision
	}
	return d, err
}

// Status implements Backend.
func (r *Remote) Status(ctx context.Context, releaseID string) (*gate.ReleaseStatus, error) {
	return r.Client.Status(ctx, releaseID)
}

// Violations implements Backend.
func (r *Remote) Violations(ctx context.Context, f store.Filter) ([]store.Violation, error) {
	return r.Client.Violations(ctx, f)
}

// Violation implements Backend.
func (r *Remote) Violation(ctx context.Context, id string) (store.Violation, error) {
	return r.Client.Violation(ctx, id)
}

// ClosePostmortem implements Backend.
func (r *Remote) ClosePostmortem(ctx context.Context, doc *evidence.Document, ids []string) ([]store.Violation, error) {
	return r.Client.ClosePostmortem(ctx, Body(doc), ids)
}

// RollbackPlan implements Backend: the server runs the same
// rollback.FindTarget and rollback.VerifiedArtifact on its ledger and
// answers the approved deploy command of its policy data.
func (r *Remote) RollbackPlan(ctx context.Context, rel engine.Release, p *rollback.Plan) {
	t, err := r.Client.RollbackTarget(ctx, rel, p.Strategy)
	var ce *client.Error
	switch {
	case errors.As(err, &ce) && ce.Status == http.StatusNotFound && p.Strategy == rollback.Fast:
		p.TargetErr = fmt.Errorf("server answered 404: %w", noTarget(ce.Message))
		return
	case err != nil:
		// Nothing known: a fast rollback goes nowhere, an emergency one
		// has no approved command to restart with. Either is recorded as
		// failed.
		p.TargetErr = fmt.Errorf("ask the server for the rollback target: %w", err)
		return
	}
	p.Restart = t.Restart
	if p.Strategy != rollback.Fast {
		return
	}
	p.Target = rollback.Target{ReleaseID: t.Target.ID, Commit: t.Target.Commit, Decision: t.Target.Decision, VerifiedAt: t.Target.VerifiedAt}
	switch a := t.Artifact; {
	case a != nil && a.Digest != "" && len(a.Paths) > 0:
		p.Artifact = rollback.Artifact{Digest: a.Digest, Paths: a.Paths, Build: a.Build}
	case t.ArtifactError != "":
		p.ArtifactErr = fmt.Errorf("%w (the server answered: %s)", rollback.ErrNoArtifact, t.ArtifactError)
	default:
		p.ArtifactErr = fmt.Errorf("%w: the server answered none", rollback.ErrNoArtifact)
	}
}

// noTarget is the server's word that there is no target: it is
// rollback.ErrNoTarget.
type noTarget string

func (e noTarget) Error() string { return string(e) }

func (noTarget) Is(target error) bool { return target == rollback.ErrNoTarget }

// DeployDuration implements Backend: "" remotely, where the release's
// Deploy stays on the server beside the Rollback.
func (*Remote) DeployDuration(context.Context, engine.Release) string { return "" }

// AutoRollbackRefusals implements Backend with the server's policy.
func (r *Remote) AutoRollbackRefusals(ctx context.Context, _ runner.Envelope, rel engine.Release, window time.Duration, _ time.Time) ([]engine.Finding, error) {
	a, err := r.Client.AutoRollback(ctx, rel, window)
	if err != nil {
		return nil, fmt.Errorf("check --auto-rollback against the server's policy: %w", err)
	}
	return a.Refused, nil
}

// CurrentHold implements Backend with the server's ledger.
func (r *Remote) CurrentHold(ctx context.Context, rel engine.Release) (*rollback.Hold, error) {
	a, err := r.Client.AutoRollback(ctx, rel, 0)
	if err != nil || a.Hold == nil {
		return nil, err
	}
	return &rollback.Hold{By: a.Hold.By, Reason: a.Hold.Reason, At: a.Hold.At, Digest: a.Hold.Digest}, nil
}

// Validator implements Backend.
func (r *Remote) Validator() *evidence.Validator { return r.V }

// SetValidator implements Backend.
func (r *Remote) SetValidator(v *evidence.Validator) { r.V = v }

// Close implements Backend; a client holds nothing open.
func (*Remote) Close() error { return nil }
