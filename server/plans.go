package server

import (
	"github.com/localizevideos/shipgate/api"
	"net/http"

	"github.com/localizevideos/shipgate/auth"
)

// listPlans answers the release's recorded Plan documents, oldest first:
// what a pipeline needs to bind the evidence it produces (shipgate run,
// verify, watch against a server) to the release's service, environment,
// commit and repository, without reading the rest of the release.
func (s *Server) listPlans(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	evs, err := s.store.Evidence(r.Context(), r.PathValue("id"))
	if err != nil {
		return storeError("read evidence", err)
	}
	out := []api.EvidenceView{}
	for _, e := range evs {
		if e.Kind == "Plan" {
			out = append(out, api.NewEvidenceView(e, true))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
