package server

import (
	"github.com/localizevideos/shipgate/api"
	"net/http"
	"time"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/rollback"
	"github.com/localizevideos/shipgate/runner"
)

// DefaultWatchWindow is the monitoring window the policy is asked about
// when the query gives none: the release document's first 15 minutes.
const DefaultWatchWindow = 15 * time.Minute

// getAutoRollback answers AutoRollback for the release: the policy is
// asked with a probe Monitoring (no data yet, autoRollback set, collected
// now by the caller) and no other evidence, as a local watch asks before
// it starts; the hold is read from the ledger's Hold documents.
func (s *Server) getAutoRollback(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id := r.PathValue("id")
	window := DefaultWatchWindow
	if v := r.URL.Query().Get("window"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return badRequest("query window=%q: want a positive duration such as 15m", v)
		}
		window = d
	}
	rel, err := s.planRelease(r, id, "no watch to answer for")
	if err != nil {
		return err
	}
	env := runner.Envelope{ReleaseID: rel.ID, Service: rel.Service, Environment: rel.Environment,
		Repository: rel.Repository, Commit: rel.Commit, Version: s.cfg.Version, Actor: p.Name}
	refused, err := rollback.AutoRollbackRefusals(r.Context(), s.cfg.Engine, s.cfg.Validator, env, window, s.now())
	if err != nil {
		return err
	}
	out := api.AutoRollback{Release: rel, Allowed: len(refused) == 0, Refused: refused}
	h, err := rollback.RecordedHold(r.Context(), s.store, s.cfg.Validator, s.cfg.Engine, rel.ID)
	if err != nil {
		return storeError("read the release's holds", err)
	}
	out.Hold = holdState(h)
	writeJSON(w, http.StatusOK, out)
	return nil
}
