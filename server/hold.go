package server

import (
	"fmt"
	"net/http"

	"github.com/localizevideos/shipgate/api"
	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/rollback"
)

// hold records a Hold on the release by the approver p (shipgate hold
// --server): while one is placed, a breach only alerts; a lift ends it.
// A hold is a person's: it is recorded as the token's name.
func (s *Server) hold(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req api.HoldRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	switch req.Action {
	case "":
		req.Action = api.HoldPlace
	case api.HoldPlace, api.HoldLift:
	default:
		return badRequest("action %q: want %s or %s", req.Action, api.HoldPlace, api.HoldLift)
	}
	if req.Action == api.HoldPlace && req.Reason == "" {
		return badRequest("reason: say why the release is held")
	}
	if req.By != "" && req.By != p.Name {
		return &Error{Status: http.StatusForbidden, Code: CodeForbidden,
			Message: fmt.Sprintf("the token is %s's: it cannot hold for %s", p.Name, req.By)}
	}
	id := r.PathValue("id")
	plan, _, err := s.planned(r.Context(), id)
	if err != nil {
		return approvalError(err)
	}
	before, err := rollback.RecordedHold(r.Context(), s.store, s.cfg.Validator, s.cfg.Engine, id)
	if err != nil {
		return storeError("read the release's holds", err)
	}
	now := s.now().UTC()
	doc := s.envelope(p, plan, "Hold", now)
	doc["data"] = release.HoldData(req.Action, p.Name, req.Reason, now)
	d, err := s.record(r.Context(), "hold by "+p.Name, doc)
	if err != nil {
		return approvalError(err)
	}
	after, err := rollback.RecordedHold(r.Context(), s.store, s.cfg.Validator, s.cfg.Engine, id)
	if err != nil {
		return storeError("read the release's holds", err)
	}
	writeJSON(w, http.StatusCreated, api.HoldResult{Kind: d.Kind, Digest: d.Digest, Release: d.ReleaseID, By: p.Name, Action: req.Action,
		Before: holdState(before), After: holdState(after)})
	return nil
}

func holdState(h *rollback.Hold) *api.HoldState {
	if h == nil {
		return nil
	}
	return &api.HoldState{By: h.By, Reason: h.Reason, At: h.At, Digest: h.Digest}
}
