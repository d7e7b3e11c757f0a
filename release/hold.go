package release

import (
	"context"
	"fmt"
	"time"

	"github.com/localizevideos/shipgate/api"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/rollback"
	"github.com/localizevideos/shipgate/runner"
)

// HoldRequest places (or, with Lift, lifts) a hold on a release's
// automated rollback.
type HoldRequest struct {
	// Release is the release: completed from its Plans locally; a server
	// needs only its ID.
	Release engine.Release
	Lift    bool
	By      string
	Reason  string
	// Env, Signer and Now make the signed Hold document locally (Signer's
	// key must be bound to By in the policy data, or the Hold counts for
	// nothing and is refused); a server records it as the token's person.
	Env    runner.Envelope
	Signer *evidence.Signer
	Now    time.Time
}

// HoldResult is a recorded Hold.
type HoldResult struct {
	Digest string
	// By is who holds or lifts: the token's person on a server.
	By string
	// Before is the hold in force before, nil when none.
	Before *rollback.Hold
	// SignedBy are the document's verified signers, locally; empty when a
	// server recorded it.
	SignedBy []string
}

// HoldData is the data of a Hold document: action (api.HoldPlace or
// api.HoldLift) by the person by at at, with the reason when one is given.
// The CLI signs it; the server records it as the token's person.
func HoldData(action, by, reason string, at time.Time) map[string]any {
	data := map[string]any{"action": action, "by": by, "at": at.Format(time.RFC3339Nano)}
	if reason != "" {
		data["reason"] = reason
	}
	return data
}

// Hold implements Backend: the Hold is signed here and recorded only if
// the policy authenticates it as its holder.
func (l *Local) Hold(ctx context.Context, req HoldRequest) (*HoldResult, error) {
	eng, err := l.engine(ctx)
	if err != nil {
		return nil, err
	}
	v := l.Gate.Validator
	before, err := rollback.RecordedHold(ctx, l.Store, v, eng, req.Release.ID)
	if err != nil {
		return nil, err
	}
	now := req.Now.UTC().Truncate(time.Millisecond)
	action := api.HoldPlace
	if req.Lift {
		action = api.HoldLift
	}
	b, err := runner.Document(req.Env, "Hold", now, HoldData(action, req.By, req.Reason, now))
	if err == nil {
		var doc *evidence.Document
		if doc, err = Seal(ctx, v, req.Signer, "shipgate hold", b); err == nil {
			return l.recordHold(ctx, eng, req, doc, before, now)
		}
	}
	return nil, fmt.Errorf("hold evidence: %w", err)
}

func (l *Local) recordHold(ctx context.Context, eng *engine.Engine, req HoldRequest, doc *evidence.Document, before *rollback.Hold, now time.Time) (*HoldResult, error) {
	// A Hold someone cannot be authenticated for holds nothing: say so
	// rather than record it.
	if g, why := eng.Grantor(req.Release.Service, doc); g == nil {
		return nil, fmt.Errorf("the Hold %s: %s; sign it with %s's own key (--signing-key, bound in signing.people), or place it with --server and %s's approver token; nothing was recorded", req.By, why, req.By, req.By)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RecordTimeout)
	defer cancel()
	if _, err := l.AddEvidence(ctx, now, []*evidence.Document{doc}); err != nil {
		return nil, fmt.Errorf("record the Hold: %w", err)
	}
	return &HoldResult{Digest: doc.Digest, By: req.By, Before: before, SignedBy: doc.SignedBy}, nil
}

// Hold implements Backend: POST /v1/releases/{id}/holds, recorded by the
// server as the token's person (req.By must be that name).
func (r *Remote) Hold(ctx context.Context, req HoldRequest) (*HoldResult, error) {
	action := api.HoldPlace
	if req.Lift {
		action = api.HoldLift
	}
	h, err := r.Client.Hold(ctx, req.Release.ID, action, req.By, req.Reason)
	if err != nil {
		return nil, err
	}
	out := &HoldResult{Digest: h.Digest, By: h.By}
	if b := h.Before; b != nil {
		out.Before = &rollback.Hold{By: b.By, Reason: b.Reason, At: b.At, Digest: b.Digest}
	}
	return out, nil
}
