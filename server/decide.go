package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/localizevideos/shipgate/api"
	"net/http"
	"slices"
	"time"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store"
)

func (s *Server) decide(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	start := time.Now()
	gateName := r.PathValue("gate")
	label := gateName
	if !slices.Contains(engine.Gates, gateName) {
		label = "unknown"
	}
	result := resultError
	defer func() { s.metrics.decision(label, result, time.Since(start)) }()

	var req api.GateRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if req.Release.ID == "" {
		return badRequest("request body: /release/id: want the release id")
	}
	for _, f := range []struct{ pointer, v string }{
		{"/release/id", req.Release.ID}, {"/release/service", req.Release.Service},
		{"/release/environment", req.Release.Environment}, {"/id", req.ID},
	} {
		if f.v == "" {
			continue
		}
		if err := schemas.CheckName(f.pointer, f.v); err != nil {
			return badRequest("request body: %v", err)
		}
	}
	if c := req.Release.Commit; c != "" {
		if err := schemas.CheckCommit("/release/commit", c); err != nil {
			return badRequest("request body: %v", err)
		}
	}
	if err := engine.CheckGate(gateName); err != nil {
		return notFound("%v", err)
	}
	if err := checkSources("sources", req.Sources, len(req.Evidence)); err != nil {
		return err
	}
	docs, err := s.decodeDocuments(p, "/evidence", req.Evidence, req.Sources)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if req.ID != "" {
		// A retry of a recorded decision: answer it again.
		rec, err := s.recorded(ctx, req, gateName)
		if err == nil {
			result = resultOf(rec)
			w.Header().Set(api.Replayed, "true")
			writeJSON(w, http.StatusOK, rec)
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	d, err := s.gate.Decide(ctx, gate.Request{Gate: gateName, Release: req.Release, Evidence: docs, Actor: p.Name,
		Now: s.now().UTC(), DryRun: req.DryRun, ID: req.ID})
	var re *gate.RecordError
	var fe *engine.FaultError
	switch {
	case err == nil:
		result = resultOf(d)
		writeJSON(w, http.StatusOK, d)
		return nil
	case errors.As(err, &re) && req.ID != "" && errors.Is(err, store.ErrDuplicate):
		// Another replica recorded this id meanwhile: its answer stands.
		rec, rerr := s.recorded(ctx, req, gateName)
		if rerr != nil {
			return rerr
		}
		result = resultOf(rec)
		w.Header().Set(api.Replayed, "true")
		writeJSON(w, http.StatusOK, rec)
		return nil
	case errors.As(err, &re):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeStoreUnavailable,
			Message: "the decision could not be recorded, so it must not be acted on (deny)", Decision: d, Cause: err}
	case errors.As(err, &fe):
		return &Error{Status: http.StatusInternalServerError, Code: CodeEngineFault,
			Message: fmt.Sprintf("the policies gave no trustworthy answer (%s); the recorded decision denies", fe.Reason), Decision: d, Cause: err}
	case errors.Is(err, engine.ErrUnknownGate):
		return notFound("%v", err)
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "the gate failed; deny", Decision: d, Cause: err}
}

func resultOf(d *engine.Decision) string {
	if d.Allow {
		return resultAllow
	}
	return resultDeny
}

// recorded returns the decision recorded under req.ID, which must be for
// the same gate and release; store.ErrNotFound when there is none.
func (s *Server) recorded(ctx context.Context, req api.GateRequest, gateName string) (*engine.Decision, error) {
	sd, err := s.store.Decision(ctx, req.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err != nil {
		return nil, storeError("read the recorded decision", err)
	}
	var rec gate.Record
	if err := json.Unmarshal(sd.Body, &rec); err != nil || rec.Decision == nil {
		return nil, &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "read the recorded decision", Cause: err}
	}
	if sd.Gate != gateName || sd.ReleaseID != req.Release.ID || sd.DryRun != req.DryRun {
		return nil, &Error{Status: http.StatusConflict, Code: CodeIdempotency,
			Message: fmt.Sprintf("decision id %s is recorded for the %s gate of release %s (dry run %t); give a new id for a new decision",
				req.ID, sd.Gate, sd.ReleaseID, sd.DryRun)}
	}
	return rec.Decision, nil
}
