package release

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/store"
)

// NotNamedError is an id asked to be closed that the Postmortem does not
// name in its data.violations.
type NotNamedError struct {
	// Index is the id's place among those asked.
	Index int
	ID    string
	// Named are the ids the Postmortem names.
	Named []string
}

// Error says which id is not named.
func (e *NotNamedError) Error() string {
	return fmt.Sprintf("%s is not named in the Postmortem's data.violations", e.ID)
}

// PostmortemNames are the violation ids the Postmortem doc names
// (data.violations).
func PostmortemNames(doc *evidence.Document) []string {
	var named []string
	if data, ok := doc.Value["data"].(map[string]any); ok {
		if list, ok := data["violations"].([]any); ok {
			for _, x := range list {
				if id, ok := x.(string); ok {
					named = append(named, id)
				}
			}
		}
	}
	return named
}

// PostmortemCloses chooses the violations the Postmortem doc closes:
// those asked, each of which it must name (else a *NotNamedError), or,
// when none is asked, every one it names. The CLI and the server both
// close what it answers.
func PostmortemCloses(doc *evidence.Document, asked []string) ([]string, error) {
	named := PostmortemNames(doc)
	if len(asked) == 0 {
		return named, nil
	}
	for i, id := range asked {
		if !slices.Contains(named, id) {
			return nil, &NotNamedError{Index: i, ID: id, Named: named}
		}
	}
	return asked, nil
}

// PostmortemDraft asks for the Postmortem document of open violations.
type PostmortemDraft struct {
	// Violations are the ids it closes; with Release, every open
	// violation and obligation of the release is added.
	Violations []string
	Release    string
	Summary    string
	Author     string
	// Version is the collector's version.
	Version string
	Now     time.Time
}

// NewPostmortem writes the Postmortem document of the draft's open
// violations, all of one release, bound to the release's newest Plan, and
// decodes it with b's validator. It records nothing. It answers the ids
// it names.
func NewPostmortem(ctx context.Context, b Backend, d PostmortemDraft) (*evidence.Document, []string, error) {
	db := b
	ids := slices.Clone(d.Violations)
	if d.Release != "" {
		open, err := db.Violations(ctx, store.Filter{Status: store.StatusOpen, ReleaseID: d.Release})
		if err != nil {
			return nil, nil, err
		}
		if len(open) == 0 {
			return nil, nil, fmt.Errorf("release %s has no open violation or obligation", d.Release)
		}
		for _, v := range open {
			ids = append(ids, v.ID)
		}
	}
	var first store.Violation
	for i, id := range ids {
		vio, err := db.Violation(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case vio.Status != store.StatusOpen:
			return nil, nil, fmt.Errorf("%s is %s: a postmortem closes open violations", id, vio.Status)
		case i > 0 && vio.ReleaseID != first.ReleaseID:
			return nil, nil, fmt.Errorf("%s is of release %s, %s of release %s: write one postmortem a release", first.ID, first.ReleaseID, id, vio.ReleaseID)
		case i == 0:
			first = vio
		}
	}
	env, err := PostmortemEnvelope(ctx, PlansOf(b), first)
	if err != nil {
		return nil, nil, err
	}
	env.Actor, env.Version = d.Author, d.Version
	raw, err := runner.Document(env, "Postmortem", d.Now, map[string]any{
		"violations": ids, "summary": d.Summary, "author": d.Author,
		"completedAt": d.Now.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano),
	})
	if err != nil {
		return nil, nil, err
	}
	doc, err := b.Validator().Decode("postmortem", raw)
	return doc, ids, err
}

// PostmortemEnvelope binds a postmortem to the violation's release: its
// commit and repository are the newest Plan's.
func PostmortemEnvelope(ctx context.Context, db EvidenceLister, vio store.Violation) (runner.Envelope, error) {
	stored, err := db.Evidence(ctx, vio.ReleaseID)
	if err != nil {
		return runner.Envelope{}, fmt.Errorf("read evidence: %w", err)
	}
	var plan *store.Evidence
	for i, e := range stored {
		if e.Kind == "Plan" && (plan == nil || !e.CollectedAt.Before(plan.CollectedAt)) {
			plan = &stored[i]
		}
	}
	if plan == nil {
		return runner.Envelope{}, fmt.Errorf("release %s has no Plan in the ledger to take its commit from: write the Postmortem by hand (docs/evidence.md)", vio.ReleaseID)
	}
	var doc struct {
		Subject struct {
			Repository string `json:"repository"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(plan.Body, &doc); err != nil {
		return runner.Envelope{}, fmt.Errorf("recorded Plan %s: %w", plan.Digest, err)
	}
	return runner.Envelope{ReleaseID: vio.ReleaseID, Service: plan.Service, Environment: plan.Environment,
		Repository: doc.Subject.Repository, Commit: plan.Commit}, nil
}
