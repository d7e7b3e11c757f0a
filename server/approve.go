package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/store"
)

// Errors of approvals and overrides.
var (
	// ErrSelfApproval: the approver deployed the release (four eyes). It
	// wraps auth.ErrForbidden.
	ErrSelfApproval = fmt.Errorf("%w: an approver cannot approve or override a release they deployed", auth.ErrForbidden)
	// ErrNoPlan: the release has no Plan evidence, so there is nothing an
	// approval could be bound to.
	ErrNoPlan = fmt.Errorf("the release has no Plan evidence: %w", store.ErrNotFound)
)

// collectorName names the server as the collector of the evidence it
// writes itself: with the server's signature, it tells the engine that
// collector.actor is the person whose token the server took.
const collectorName = engine.ServerCollector

// Approve records an Approval of the release's deploy gate by p, with the
// note as its comment: an Approval evidence document bound to the release's
// id, service, environment and commit as its Plan declares them. p must be
// an approver who did not deploy the release (the actor of any of its
// Deploy evidence); otherwise the error wraps auth.ErrForbidden
// (ErrSelfApproval for the deployer). The dashboard calls it too.
func (s *Server) Approve(ctx context.Context, p auth.Principal, releaseID, note string) error {
	_, err := s.approve1(ctx, p, releaseID, "deploy", note)
	return err
}

// planned returns the release's Plan (the latest) and every deployer.
func (s *Server) planned(ctx context.Context, releaseID string) (*evidence.Document, []string, error) {
	evs, err := s.store.Evidence(ctx, releaseID)
	if err != nil {
		return nil, nil, fmt.Errorf("read evidence of %s: %w", releaseID, err)
	}
	var plan *evidence.Document
	var deployers []string
	for _, e := range evs {
		if e.Kind != "Plan" && e.Kind != "Deploy" {
			continue
		}
		d, err := s.cfg.Validator.Decode(e.Source, e.Body)
		if err != nil {
			return nil, nil, fmt.Errorf("recorded evidence %s: %w", e.Digest, err)
		}
		switch d.Kind {
		case "Plan":
			if plan == nil || !d.CollectedAt.Before(plan.CollectedAt) {
				plan = d
			}
		case "Deploy":
			deployers = append(deployers, d.Actor)
			if data, ok := d.Value["data"].(map[string]any); ok {
				if a, ok := data["actor"].(string); ok {
					deployers = append(deployers, a)
				}
			}
		}
	}
	if plan == nil {
		return nil, nil, fmt.Errorf("release %s: %w", releaseID, ErrNoPlan)
	}
	return plan, deployers, nil
}

// record signs a document the server wrote, validates it and records it,
// with its envelope: the server's signature is what makes an approval,
// override or hold it recorded count as the token's person's.
func (s *Server) record(ctx context.Context, source string, v map[string]any) (*evidence.Document, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	env, err := s.cfg.Signer.Seal(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", source, err)
	}
	doc, err := s.cfg.Validator.Decode(source, env)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.AddEvidence(ctx, s.now(), []store.Evidence{gate.StoreEvidence(doc)}); err != nil {
		return nil, &Error{Status: http.StatusServiceUnavailable, Code: CodeStoreUnavailable,
			Message: "record " + doc.Kind + ": the ledger store is unavailable", Cause: err}
	}
	return doc, nil
}

// bound checks p may approve or override the release and returns the
// envelope of a document of kind bound to it.
func (s *Server) bound(ctx context.Context, p auth.Principal, releaseID, kind string, now time.Time) (map[string]any, error) {
	if err := p.Authorize(auth.Approve); err != nil {
		return nil, err
	}
	plan, deployers, err := s.planned(ctx, releaseID)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(deployers, func(d string) bool { return strings.EqualFold(strings.TrimSpace(d), p.Name) }) {
		return nil, fmt.Errorf("%s, release %s: %w", p.Name, releaseID, ErrSelfApproval)
	}
	return s.envelope(p, plan, kind, now), nil
}

// envelope is the envelope of a document of kind about plan's release,
// collected by p at now.
func (s *Server) envelope(p auth.Principal, plan *evidence.Document, kind string, now time.Time) map[string]any {
	return map[string]any{
		"apiVersion":  "shipgate.dev/v1",
		"kind":        kind,
		"release":     map[string]any{"id": plan.ReleaseID, "service": plan.Service, "environment": plan.Environment},
		"subject":     map[string]any{"repository": plan.Repository, "commit": plan.Commit},
		"collectedAt": now.Format(time.RFC3339Nano),
		"collector":   map[string]any{"name": collectorName, "version": s.cfg.Version, "actor": p.Name},
	}
}

func (s *Server) approve1(ctx context.Context, p auth.Principal, releaseID, gateName, note string) (*evidence.Document, error) {
	now := s.now().UTC()
	doc, err := s.bound(ctx, p, releaseID, "Approval", now)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"approver": p.Name, "decision": "approved", "gate": gateName, "approvedAt": now.Format(time.RFC3339Nano)}
	if note != "" {
		data["comment"] = note
	}
	doc["data"] = data
	return s.record(ctx, "approval by "+p.Name, doc)
}

type approvalRequest struct {
	Note string `json:"note,omitempty"`
	Gate string `json:"gate,omitempty"`
}

// approvalError maps the errors of Approve to answers.
func approvalError(err error) error {
	var e *Error
	var ves evidence.ValidationErrors
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, ErrSelfApproval):
		return &Error{Status: http.StatusForbidden, Code: CodeSelfApproval, Message: err.Error()}
	case errors.Is(err, auth.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: err.Error()}
	case errors.Is(err, ErrNoPlan):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: err.Error() + ": record its Plan first"}
	case errors.As(err, &ves):
		return invalidEvidence(err)
	}
	return storeError("approve", err)
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req approvalRequest
	if r.ContentLength != 0 {
		if err := readJSON(r, &req); err != nil {
			return err
		}
	}
	if req.Gate == "" {
		req.Gate = "deploy"
	}
	doc, err := s.approve1(r.Context(), p, r.PathValue("id"), req.Gate, req.Note)
	if err != nil {
		return approvalError(err)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"kind": doc.Kind, "digest": doc.Digest, "release": doc.ReleaseID, "approver": p.Name})
	return nil
}

type overrideRequest struct {
	Rule      string `json:"rule"`
	Reason    string `json:"reason"`
	ExpiresAt string `json:"expiresAt"`
	Gate      string `json:"gate,omitempty"`
}

// override records an Override of one soft rule by the approver p.
func (s *Server) override(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req overrideRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	now := s.now().UTC()
	doc, err := s.bound(r.Context(), p, r.PathValue("id"), "Override", now)
	if err != nil {
		return approvalError(err)
	}
	data := map[string]any{"rule": req.Rule, "approver": p.Name, "reason": req.Reason,
		"createdAt": now.Format(time.RFC3339Nano), "expiresAt": req.ExpiresAt}
	if req.Gate != "" {
		data["gate"] = req.Gate
	}
	doc["data"] = data
	d, err := s.record(r.Context(), "override by "+p.Name, doc)
	if err != nil {
		return approvalError(err)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"kind": d.Kind, "digest": d.Digest, "release": d.ReleaseID, "approver": p.Name})
	return nil
}
