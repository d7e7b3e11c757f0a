// Package api holds the JSON documents of the HTTP API of `shipgate serve`
// (docs/openapi.yaml is the contract): the server writes them and the
// client reads them, and neither needs the other to do so.
package api

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
)

// Hold actions.
const (
	HoldPlace = "place"
	HoldLift  = "lift"
)

// EvidenceBatch is the named form of an evidence batch: the documents and,
// optionally, a name for each (its file, say), recorded as its source.
type EvidenceBatch struct {
	Documents []json.RawMessage `json:"documents"`
	Sources   []string          `json:"sources,omitempty"`
}

// AddedEvidence is one document of an evidence request as recorded.
type AddedEvidence struct {
	Kind    string `json:"kind"`
	Digest  string `json:"digest"`
	Source  string `json:"source"`
	Release string `json:"release"`
	Entry   int64  `json:"entry,omitempty"`
	New     bool   `json:"new"`
}

// EvidenceView is a stored evidence document.
type EvidenceView struct {
	Digest      string          `json:"digest"`
	Kind        string          `json:"kind"`
	Release     string          `json:"release"`
	Service     string          `json:"service"`
	Environment string          `json:"environment"`
	Commit      string          `json:"commit"`
	Source      string          `json:"source"`
	Actor       string          `json:"actor,omitempty"`
	CollectedAt time.Time       `json:"collectedAt"`
	Entry       int64           `json:"entry"`
	AddedAt     time.Time       `json:"addedAt"`
	Document    json.RawMessage `json:"document,omitempty"`
}

// DecisionView is a recorded decision with the ledger entry that holds it.
type DecisionView struct {
	Entry    int64           `json:"entry"`
	Decision json.RawMessage `json:"decision"`
	Replay   json.RawMessage `json:"replay"`
}

// DecisionSummary is a decision as a release lists it.
type DecisionSummary struct {
	ID          string    `json:"id"`
	Gate        string    `json:"gate"`
	Allow       bool      `json:"allow"`
	DryRun      bool      `json:"dryRun"`
	Reason      string    `json:"reason"`
	EvaluatedAt time.Time `json:"evaluatedAt"`
	Entry       int64     `json:"entry"`
}

// ViolationView is a violation or obligation.
type ViolationView struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Status      string    `json:"status"`
	Release     string    `json:"release"`
	Service     string    `json:"service"`
	Environment string    `json:"environment"`
	Gate        string    `json:"gate"`
	Decision    string    `json:"decision"`
	Rules       []string  `json:"rules"`
	Actor       string    `json:"actor"`
	Message     string    `json:"message"`
	OpenedAt    time.Time `json:"openedAt"`
	Due         time.Time `json:"due"`
	Overdue     bool      `json:"overdue"`
	ClosedAt    string    `json:"closedAt,omitempty"`
	ClosedBy    string    `json:"closedBy,omitempty"`
}

// NewViolationView is v as the API and the CLI show it at now (overdue
// when still open after its due time).
func NewViolationView(v store.Violation, now time.Time) ViolationView {
	out := ViolationView{ID: v.ID, Kind: v.Kind, Status: v.Status, Release: v.ReleaseID, Service: v.Service,
		Environment: v.Environment, Gate: v.Gate, Decision: v.DecisionID, Rules: v.Rules, Actor: v.Actor,
		Message: v.Message, OpenedAt: v.OpenedAt, Due: v.Due, ClosedBy: v.ClosedBy,
		Overdue: v.Status == store.StatusOpen && now.After(v.Due)}
	if out.Rules == nil {
		out.Rules = []string{}
	}
	if !v.ClosedAt.IsZero() {
		out.ClosedAt = v.ClosedAt.UTC().Format(time.RFC3339Nano)
	}
	return out
}

// ReleaseView is everything the ledger holds of one release.
type ReleaseView struct {
	ID         string            `json:"id"`
	Evidence   []EvidenceView    `json:"evidence"`
	Decisions  []DecisionSummary `json:"decisions"`
	Violations []ViolationView   `json:"violations"`
}

// ReleaseSummary is one release as the list shows it.
type ReleaseSummary struct {
	ID             string           `json:"id"`
	Service        string           `json:"service"`
	Environment    string           `json:"environment"`
	Evidence       int              `json:"evidence"`
	Decisions      int              `json:"decisions"`
	OpenViolations int              `json:"openViolations"`
	LastDecision   *DecisionSummary `json:"lastDecision,omitempty"`
	LastEntry      int64            `json:"lastEntry"`
	LastEvidenceAt time.Time        `json:"lastEvidenceAt"`
}

// PostmortemView is a recorded Postmortem and the violations it closed.
type PostmortemView struct {
	EvidenceView
	Closes []string `json:"closes"`
}

// PostmortemRequest is the body of POST /v1/postmortems: the Postmortem
// document and, optionally, the violations it closes (default: all it names).
type PostmortemRequest struct {
	Document   json.RawMessage `json:"document"`
	Violations []string        `json:"violations,omitempty"`
}

// VerifyResult is the answer of a ledger verification that passed.
type VerifyResult struct {
	Intact bool `json:"intact"`
	ledger.Head
}

// TokenView is a token as the API shows it: never its secret or hash.
type TokenView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	CreatedAt string `json:"createdAt"`
	CreatedBy string `json:"createdBy"`
	Active    bool   `json:"active"`
	RevokedAt string `json:"revokedAt,omitempty"`
	RevokedBy string `json:"revokedBy,omitempty"`
	// Token is the secret, in the answer that creates it only.
	Token string `json:"token,omitempty"`
}

// NewTokenView returns the API view of t.
func NewTokenView(t store.Token) TokenView {
	v := TokenView{ID: t.ID, Name: t.Name, Role: t.Role, CreatedAt: t.CreatedAt.UTC().Format(time.RFC3339Nano),
		CreatedBy: t.CreatedBy, Active: t.Active(), RevokedBy: t.RevokedBy}
	if !t.Active() {
		v.RevokedAt = t.RevokedAt.UTC().Format(time.RFC3339Nano)
	}
	return v
}

// NewTokenViews returns the API views of ts, in order.
func NewTokenViews(ts []store.Token) []TokenView {
	views := make([]TokenView, len(ts))
	for i, t := range ts {
		views[i] = NewTokenView(t)
	}
	return views
}

// GateRequest is the body of POST /v1/gates/{gate}.
type GateRequest struct {
	// ID names the decision. A client that may retry gives one (unique per
	// decision): a request whose id is recorded already is answered with
	// the recorded decision and records nothing. Empty: the server names it.
	ID string `json:"id,omitempty"`
	// Release must carry an id; service, environment and commit default to
	// the release's Plan.
	Release engine.Release `json:"release"`
	// Evidence documents recorded with the decision.
	Evidence []json.RawMessage `json:"evidence,omitempty"`
	// Sources optionally names each of Evidence (its file, say): the name
	// recorded as its source and used in errors.
	Sources []string `json:"sources,omitempty"`
	// DryRun records the decision as a dry run: it opens no violation.
	DryRun bool `json:"dryRun,omitempty"`
}

// Replayed is the header set on the answer to a retried request: the
// decision was recorded by an earlier request with the same id.
const Replayed = "Shipgate-Replayed"

// AutoRollback says whether `shipgate watch --auto-rollback --server` may
// roll the release back by itself: what the server's policy answers for an
// automated watch of the release (rollback.AutoRollbackRefusals), and the
// hold in force on the release in the server's ledger. A pipeline token
// cannot read either itself.
type AutoRollback struct {
	// Release is the release, as its Plan declares it.
	Release engine.Release `json:"release"`
	// Allowed is true when the policy refuses nothing.
	Allowed bool `json:"allowed"`
	// Refused are the automation.* violations the policy answers.
	Refused []engine.Finding `json:"refused"`
	// Hold is the hold in force (shipgate hold), absent when none: a
	// held release is not rolled back automatically.
	Hold *HoldState `json:"hold,omitempty"`
}

// HoldState is a hold in force on a release.
type HoldState struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	// Digest is the Hold evidence that placed it.
	Digest string `json:"digest"`
}

// HoldRequest is the body of POST /v1/releases/{id}/holds.
type HoldRequest struct {
	// Action is place (the default) or lift.
	Action string `json:"action,omitempty"`
	// By, when given, must be the token's name: a hold is recorded as
	// the person who holds.
	By     string `json:"by,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// HoldResult is a recorded Hold and the hold in force after it.
type HoldResult struct {
	Kind    string `json:"kind"`
	Digest  string `json:"digest"`
	Release string `json:"release"`
	By      string `json:"by"`
	Action  string `json:"action"`
	// Before and After are the holds in force before and after (absent
	// when none).
	Before *HoldState `json:"before,omitempty"`
	After  *HoldState `json:"after,omitempty"`
}

// RollbackTarget is where a fast rollback of a release goes, as the
// server's ledger and policy data say: what `shipgate rollback --server`
// needs and a pipeline token cannot read itself.
type RollbackTarget struct {
	// Release is the release rolled back, as its Plan declares it.
	Release engine.Release `json:"release"`
	// Target is the newest other release of the same service and
	// environment whose verify gate allowed and that was not rolled back
	// since (rollback.FindTarget); absent with strategy=emergency.
	Target *RollbackTargetRelease `json:"target,omitempty"`
	// Artifact is the build output the target was verified with (the last
	// passed Build at its commit before that decision); absent, with
	// ArtifactError saying why, when there is none: the rollback rebuilds.
	Artifact      *RollbackArtifact `json:"artifact,omitempty"`
	ArtifactError string            `json:"artifactError,omitempty"`
	// Restart is the approved deploy command of the service (the first of
	// the policy data's services.<service>.deploy_commands); absent when
	// the policy approves none, and the rollback then fails.
	Restart []string `json:"restart,omitempty"`
}

// RollbackTargetRelease is the release a fast rollback returns to.
type RollbackTargetRelease struct {
	ID     string `json:"id"`
	Commit string `json:"commit"`
	// Decision is the verify decision that allowed it.
	Decision   string    `json:"decision"`
	VerifiedAt time.Time `json:"verifiedAt"`
}

// RollbackArtifact is a target's verified build output.
type RollbackArtifact struct {
	Digest string   `json:"digest"`
	Paths  []string `json:"paths"`
	// Build is the digest of the Build evidence that recorded it.
	Build string `json:"build"`
}

// ErrorBody is the JSON of every error answer.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details any    `json:"details,omitempty"`
	} `json:"error"`
	Decision any `json:"decision,omitempty"`
}

// ValidationDetail is one validation error as the API reports it.
type ValidationDetail struct {
	Source  string `json:"source"`
	Pointer string `json:"pointer"`
	Keyword string `json:"keyword"`
	Message string `json:"message"`
}

// NewEvidenceView is e as the API shows it, with its document when
// withBody; the actor is the one its collector names.
func NewEvidenceView(e store.Evidence, withBody bool) EvidenceView {
	v := EvidenceView{Digest: e.Digest, Kind: e.Kind, Release: e.ReleaseID, Service: e.Service, Environment: e.Environment,
		Commit: e.Commit, Source: e.Source, CollectedAt: e.CollectedAt, Entry: e.Seq, AddedAt: e.AddedAt}
	var env struct {
		Collector struct {
			Actor string `json:"actor"`
		} `json:"collector"`
	}
	if json.Unmarshal(e.Body, &env) == nil {
		v.Actor = env.Collector.Actor
	}
	if withBody {
		v.Document = e.Body
	}
	return v
}

// Evidence is v as the store holds it.
func (v EvidenceView) Evidence() store.Evidence {
	return store.Evidence{Digest: v.Digest, Kind: v.Kind, ReleaseID: v.Release, Service: v.Service, Environment: v.Environment,
		Commit: v.Commit, Source: v.Source, CollectedAt: v.CollectedAt, Seq: v.Entry, AddedAt: v.AddedAt, Body: v.Document}
}

// Violations are views as the store holds them; a closedAt that is not
// RFC 3339 is an error.
func Violations(views []ViolationView) ([]store.Violation, error) {
	out := make([]store.Violation, len(views))
	for i, v := range views {
		out[i] = store.Violation{ID: v.ID, Kind: v.Kind, ReleaseID: v.Release, Service: v.Service, Environment: v.Environment,
			Gate: v.Gate, DecisionID: v.Decision, Rules: v.Rules, Actor: v.Actor, Message: v.Message, OpenedAt: v.OpenedAt,
			Due: v.Due, Status: v.Status, ClosedBy: v.ClosedBy}
		if len(out[i].Rules) == 0 {
			out[i].Rules = nil
		}
		if v.ClosedAt != "" {
			t, err := time.Parse(time.RFC3339Nano, v.ClosedAt)
			if err != nil {
				return nil, fmt.Errorf("violation %s: closedAt %q: %w", v.ID, v.ClosedAt, err)
			}
			out[i].ClosedAt = t
		}
	}
	return out, nil
}
