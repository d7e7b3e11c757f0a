package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/localizevideos/shipgate/api"
	"net/http"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/rollback"
	"github.com/localizevideos/shipgate/store"
)

// getRollbackTarget answers the rollback target of the release: the same
// rollback.FindTarget and rollback.VerifiedArtifact a local rollback runs,
// on the server's ledger. The release is the one its Plans declare (the
// query's service, environment and commit choose among several); a
// release without a Plan, or without a target, is 404: there is nothing
// known-good to return to, and the answer never makes one up.
func (s *Server) getRollbackTarget(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	id := r.PathValue("id")
	strategy := r.URL.Query().Get("strategy")
	switch strategy {
	case "", rollback.Fast:
		strategy = rollback.Fast
	case rollback.Emergency:
	default:
		return badRequest("query strategy=%q: want %s or %s", strategy, rollback.Fast, rollback.Emergency)
	}
	rel, err := s.planRelease(r, id, "nothing to roll back")
	if err != nil {
		return err
	}
	out := api.RollbackTarget{Release: rel}
	if cmds := s.cfg.Engine.DeployCommands(rel.Service); len(cmds) > 0 {
		out.Restart = cmds[0]
	}
	if strategy == rollback.Fast {
		t, err := rollback.FindTarget(r.Context(), s.store, rel)
		switch {
		case errors.Is(err, rollback.ErrNoTarget):
			return notFound("%v", err)
		case err != nil:
			return storeError("find the rollback target", err)
		}
		out.Target = &api.RollbackTargetRelease{ID: t.ReleaseID, Commit: t.Commit, Decision: t.Decision, VerifiedAt: t.VerifiedAt}
		a, err := rollback.VerifiedArtifact(r.Context(), s.store, t)
		switch {
		case errors.Is(err, rollback.ErrNoArtifact):
			out.ArtifactError = err.Error()
		case err != nil:
			return storeError("find the verified artifact", err)
		default:
			out.Artifact = &api.RollbackArtifact{Digest: a.Digest, Paths: a.Paths, Build: a.Build}
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// planRelease is the release id as its Plans declare it; the query's
// service, environment and commit choose among several. No Plan is 404
// ("release id: no Plan declares it ...: " + none), Plans that disagree
// without the query choosing 409.
func (s *Server) planRelease(r *http.Request, id, none string) (engine.Release, error) {
	q := r.URL.Query()
	evs, err := s.store.Evidence(r.Context(), id)
	if err != nil {
		return engine.Release{}, storeError("read evidence", err)
	}
	rel := engine.Release{ID: id, Service: q.Get("service"), Environment: q.Get("environment"), Commit: q.Get("commit")}
	var plan *store.Evidence
	for i, e := range evs {
		if e.Kind != "Plan" || (rel.Service != "" && e.Service != rel.Service) ||
			(rel.Environment != "" && e.Environment != rel.Environment) || (rel.Commit != "" && e.Commit != rel.Commit) {
			continue
		}
		if plan != nil && (e.Service != rel.Service || e.Environment != rel.Environment || e.Commit != rel.Commit) {
			return engine.Release{}, &Error{Status: http.StatusConflict, Code: CodeConflict,
				Message: "release " + id + ": its Plans disagree on service, environment or commit: give service, environment and commit in the query"}
		}
		rel.Service, rel.Environment, rel.Commit = e.Service, e.Environment, e.Commit
		plan = &evs[i]
	}
	if plan == nil {
		return engine.Release{}, notFound("release %s: no Plan declares it (with the service, environment and commit asked): %s", id, none)
	}
	var doc struct {
		Subject struct {
			Repository string `json:"repository"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(plan.Body, &doc); err != nil {
		return engine.Release{}, fmt.Errorf("recorded Plan %s: %w", plan.Digest, err)
	}
	rel.Repository = doc.Subject.Repository
	return rel, nil
}
