package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/localizevideos/shipgate/api"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store"
)

// apiRoutes is the API. docs/openapi.yaml lists the same routes (a test
// holds them equal). Each names the permission it needs (package auth):
// the dashboard's pages ask the same ones.
func (s *Server) apiRoutes() []Route {
	type h = func(http.ResponseWriter, *http.Request, auth.Principal) error
	route := func(method, path string, perm auth.Permission, handler h) Route {
		return Route{Method: method, Path: path, Permission: perm, Roles: perm.Roles(), h: handler}
	}
	return []Route{
		route("POST", "/v1/evidence", auth.RecordEvidence, s.addEvidence),
		route("GET", "/v1/evidence/{digest}", auth.ReadLedger, s.getEvidence),
		route("POST", "/v1/gates/{gate}", auth.AskGate, s.decide),
		route("GET", "/v1/decisions/{id}", auth.ReadLedger, s.getDecision),
		route("GET", "/v1/releases", auth.ReadLedger, s.listReleases),
		route("GET", "/v1/releases/{id}", auth.ReadLedger, s.getRelease),
		route("GET", "/v1/releases/{id}/status", auth.ReadPlans, s.getStatus),
		route("GET", "/v1/releases/{id}/plans", auth.ReadPlans, s.listPlans),
		route("GET", "/v1/releases/{id}/rollback-target", auth.PlanRollback, s.getRollbackTarget),
		route("GET", "/v1/releases/{id}/auto-rollback", auth.PlanRollback, s.getAutoRollback),
		route("POST", "/v1/releases/{id}/approvals", auth.Approve, s.approve),
		route("POST", "/v1/releases/{id}/overrides", auth.Approve, s.override),
		route("POST", "/v1/releases/{id}/holds", auth.Approve, s.hold),
		route("GET", "/v1/violations", auth.ReadLedger, s.listViolations),
		route("GET", "/v1/violations/{id}", auth.ReadLedger, s.getViolation),
		route("GET", "/v1/postmortems", auth.ReadLedger, s.listPostmortems),
		route("POST", "/v1/postmortems", auth.RecordPostmortem, s.addPostmortem),
		route("GET", "/v1/ledger/verify", auth.VerifyLedger, s.verifyLedger),
		route("GET", "/v1/tokens", auth.ManageTokens, s.listTokens),
		route("POST", "/v1/tokens", auth.ManageTokens, s.createToken),
		route("DELETE", "/v1/tokens/{id}", auth.ManageTokens, s.revokeToken),
	}
}

// maxSource bounds a source name a client gives.
const maxSource = 1024

// checkSources checks the source names a client gave for its documents:
// none, or one per document, each printable and at most maxSource bytes.
func checkSources(member string, sources []string, n int) error {
	if len(sources) == 0 {
		return nil
	}
	if len(sources) != n {
		return badRequest("request body: /%s: %d names for %d documents; want one per document", member, len(sources), n)
	}
	for i, src := range sources {
		if src == "" || len(src) > maxSource || strings.IndexFunc(src, unicode.IsControl) >= 0 {
			return badRequest("request body: /%s/%d: want a name of 1 to %d bytes without control characters", member, i, maxSource)
		}
	}
	return nil
}

// decodeDocuments validates each raw document; its source is the name the
// client gave (sources, when given) or its place in the request. Any
// invalid document fails them all, and any grant (refuseGrants).
func (s *Server) decodeDocuments(p auth.Principal, prefix string, raws []json.RawMessage, sources []string) ([]*evidence.Document, error) {
	var all evidence.ValidationErrors
	docs := make([]*evidence.Document, 0, len(raws))
	for i, raw := range raws {
		src := fmt.Sprintf("%s/%d", prefix, i)
		switch {
		case len(sources) > 0:
			src = sources[i]
		case prefix == "":
			src = "(body)"
		}
		d, err := s.cfg.Validator.Decode(src, raw)
		if err != nil {
			var ves evidence.ValidationErrors
			if !errors.As(err, &ves) {
				return nil, invalidEvidence(err)
			}
			all = append(all, ves...)
			continue
		}
		docs = append(docs, d)
	}
	if len(all) > 0 {
		return nil, invalidEvidence(all)
	}
	if err := refuseGrants(p, docs); err != nil {
		return nil, err
	}
	return docs, nil
}

// refuseGrants refuses a request that carries an Approval, Override or
// Hold: the routes that take evidence documents are a pipeline's, and a
// pipeline never grants. Approvals, overrides and holds are recorded by the
// server itself from the approver's own token (POST
// /v1/releases/{id}/approvals, /overrides, /holds); the gate would ignore a
// posted one anyway (grant.unauthenticated), and refusing it says so
// before anything is recorded.
func refuseGrants(p auth.Principal, docs []*evidence.Document) error {
	for _, d := range docs {
		if slices.Contains(engine.GrantKinds, d.Kind) {
			route := map[string]string{"Approval": "approvals", "Override": "overrides", "Hold": "holds"}[d.Kind]
			return &Error{Status: http.StatusForbidden, Code: CodeForbidden,
				Message: fmt.Sprintf("%s: %s has the role %s, which cannot record an %s: an approver records it with their own token (POST /v1/releases/{id}/%s); nothing was recorded",
					d.Source, p.Name, p.Role, d.Kind, route)}
		}
	}
	return nil
}

// addEvidence records one document (a JSON object) or a batch (an array):
// all of it or, if any document is invalid, none.
func (s *Server) addEvidence(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	b, err := readRaw(r)
	if err != nil {
		return err
	}
	// The body is a document or a batch of them: read as strictly as
	// readBody reads any body, and refused as the evidence it is.
	if err := strictJSON(b); err != nil {
		var ves evidence.ValidationErrors
		if errors.As(err, &ves) {
			for i := range ves {
				ves[i].Source = "(body)"
			}
		}
		return invalidEvidence(err)
	}
	var raws []json.RawMessage
	var sources []string
	prefix := ""
	trimmed := bytesTrimLeft(b)
	var probe struct {
		Documents json.RawMessage `json:"documents"`
		Kind      json.RawMessage `json:"kind"`
	}
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		if err := json.Unmarshal(b, &raws); err != nil {
			return badRequest("request body: %v", err)
		}
		prefix = "body"
	case json.Unmarshal(b, &probe) == nil && probe.Documents != nil && probe.Kind == nil:
		var batch api.EvidenceBatch
		if err := decodeStrict(b, &batch); err != nil {
			return err
		}
		if err := checkSources("sources", batch.Sources, len(batch.Documents)); err != nil {
			return err
		}
		raws, sources, prefix = batch.Documents, batch.Sources, "/documents"
	default:
		raws = []json.RawMessage{b}
	}
	if len(raws) == 0 {
		return badRequest("request body: an empty batch")
	}
	docs, err := s.decodeDocuments(p, prefix, raws, sources)
	if err != nil {
		return err
	}
	in := make([]store.Evidence, len(docs))
	for i, d := range docs {
		in[i] = gate.StoreEvidence(d)
	}
	stored, err := s.store.AddEvidence(r.Context(), s.now(), in)
	if err != nil {
		return storeError("record evidence", err)
	}
	entry := map[string]int64{}
	for _, e := range stored {
		entry[e.Digest] = e.Seq
	}
	out := make([]api.AddedEvidence, len(docs))
	for i, d := range docs {
		out[i] = api.AddedEvidence{Kind: d.Kind, Digest: d.Digest, Source: d.Source, Release: d.ReleaseID, Entry: entry[d.Digest], New: entry[d.Digest] > 0}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func bytesTrimLeft(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

func (s *Server) getEvidence(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	digest := r.PathValue("digest")
	e, err := s.store.EvidenceByDigest(r.Context(), digest)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("evidence %s: not recorded", digest)
	case err != nil:
		return storeError("read evidence", err)
	}
	writeJSON(w, http.StatusOK, api.NewEvidenceView(e, true))
	return nil
}

func decisionView(d store.Decision) (api.DecisionView, error) {
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(d.Body, &rec); err != nil {
		return api.DecisionView{}, fmt.Errorf("decision %s: %w", d.ID, err)
	}
	replay := rec["replay"]
	delete(rec, "replay")
	body, err := json.Marshal(rec)
	if err != nil {
		return api.DecisionView{}, err
	}
	return api.DecisionView{Entry: d.Seq, Decision: body, Replay: replay}, nil
}

func (s *Server) getDecision(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	id := r.PathValue("id")
	d, err := s.store.Decision(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("decision %s: not recorded", id)
	case err != nil:
		return storeError("read decision", err)
	}
	v, err := decisionView(d)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) violationViews(vs []store.Violation) []api.ViolationView {
	now := s.now()
	out := make([]api.ViolationView, len(vs))
	for i, v := range vs {
		out[i] = api.NewViolationView(v, now)
	}
	return out
}

func (s *Server) getRelease(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	id := r.PathValue("id")
	ctx := r.Context()
	evs, err := s.store.Evidence(ctx, id)
	if err != nil {
		return storeError("read evidence", err)
	}
	ds, err := s.store.Decisions(ctx, id)
	if err != nil {
		return storeError("read decisions", err)
	}
	vs, err := s.store.Violations(ctx, store.Filter{ReleaseID: id})
	if err != nil {
		return storeError("read violations", err)
	}
	if len(evs) == 0 && len(ds) == 0 && len(vs) == 0 {
		return notFound("release %s: nothing recorded", id)
	}
	out := api.ReleaseView{ID: id, Evidence: make([]api.EvidenceView, len(evs)), Decisions: make([]api.DecisionSummary, len(ds)),
		Violations: s.violationViews(vs)}
	for i, e := range evs {
		out.Evidence[i] = api.NewEvidenceView(e, false)
	}
	for i, d := range ds {
		out.Decisions[i] = api.DecisionSummary{ID: d.ID, Gate: d.Gate, Allow: d.Allow, DryRun: d.DryRun, Reason: d.Reason,
			EvaluatedAt: d.EvaluatedAt, Entry: d.Seq}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listReleases lists every release the ledger knows, the most recently
// active first (by ledger entry).
func (s *Server) listReleases(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	ctx := r.Context()
	q := r.URL.Query()
	for k := range q {
		if k != "service" {
			return badRequest("query parameter %q: want service", k)
		}
	}
	// The store summarizes from its query tables: no document is read.
	sums, err := s.store.Releases(ctx, s.now())
	if err != nil {
		return storeError("read releases", err)
	}
	out := make([]api.ReleaseSummary, 0, len(sums))
	for _, rs := range sums {
		if svc := q.Get("service"); svc != "" && rs.Service != svc {
			continue
		}
		sum := api.ReleaseSummary{ID: rs.ID, Service: rs.Service, Environment: rs.Environment, Evidence: rs.Evidence,
			Decisions: rs.Decisions, OpenViolations: rs.Open, LastEntry: rs.LastEntry, LastEvidenceAt: rs.LastEvidenceAt}
		if d := rs.Last; d != nil {
			sum.LastDecision = &api.DecisionSummary{ID: d.ID, Gate: d.Gate, Allow: d.Allow, DryRun: d.DryRun, Reason: d.Reason,
				EvaluatedAt: d.EvaluatedAt, Entry: d.Seq}
		}
		out = append(out, sum)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	st, err := gate.Status(r.Context(), s.store, s.cfg.Validator, r.PathValue("id"))
	if err != nil {
		return storeError("read the release's status", err)
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) listViolations(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains([]string{"status", "service", "release"}, k) {
			return badRequest("query parameter %q: want status, service or release", k)
		}
	}
	f := store.Filter{Status: q.Get("status"), Service: q.Get("service"), ReleaseID: q.Get("release")}
	if f.Status != "" && f.Status != store.StatusOpen && f.Status != store.StatusClosed {
		return badRequest("status %q: want open or closed", f.Status)
	}
	vs, err := s.store.Violations(r.Context(), f)
	if err != nil {
		return storeError("read violations", err)
	}
	writeJSON(w, http.StatusOK, s.violationViews(vs))
	return nil
}

func (s *Server) getViolation(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	id := r.PathValue("id")
	v, err := s.store.Violation(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("violation %s: not recorded", id)
	case err != nil:
		return storeError("read violation", err)
	}
	writeJSON(w, http.StatusOK, api.NewViolationView(v, s.now()))
	return nil
}

func (s *Server) listPostmortems(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	q := r.URL.Query()
	vs, err := s.store.Violations(r.Context(), store.Filter{Status: store.StatusClosed, Service: q.Get("service"), ReleaseID: q.Get("release")})
	if err != nil {
		return storeError("read violations", err)
	}
	byDigest := map[string]*api.PostmortemView{}
	var order []string
	for _, v := range vs {
		pm, ok := byDigest[v.ClosedBy]
		if !ok {
			e, err := s.store.EvidenceByDigest(r.Context(), v.ClosedBy)
			if err != nil {
				return storeError("read postmortem", err)
			}
			pm = &api.PostmortemView{EvidenceView: api.NewEvidenceView(e, true)}
			byDigest[v.ClosedBy] = pm
			order = append(order, v.ClosedBy)
		}
		pm.Closes = append(pm.Closes, v.ID)
	}
	out := make([]api.PostmortemView, 0, len(order))
	for _, d := range order {
		out = append(out, *byDigest[d])
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// addPostmortem records a Postmortem and closes the violations it names
// (all of them, or those listed, each of which it must name).
func (s *Server) addPostmortem(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req api.PostmortemRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	for i, id := range req.Violations {
		if err := schemas.CheckName(fmt.Sprintf("/violations/%d", i), id); err != nil {
			return badRequest("request body: %v", err)
		}
	}
	if len(req.Document) == 0 {
		return badRequest("request body: /document: want the Postmortem evidence document")
	}
	doc, err := s.cfg.Validator.Decode("/document", req.Document)
	if err != nil {
		return invalidEvidence(err)
	}
	if err := refuseGrants(p, []*evidence.Document{doc}); err != nil {
		return err
	}
	if doc.Kind != "Postmortem" {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidEvidence,
			Message: fmt.Sprintf("/document/kind: %s: want a Postmortem", doc.Kind)}
	}
	ids, err := release.PostmortemCloses(doc, req.Violations)
	var nn *release.NotNamedError
	if errors.As(err, &nn) {
		return badRequest("/violations/%d: %s is not named in /document/data/violations", nn.Index, nn.ID)
	}
	if err != nil {
		return badRequest("%v", err)
	}
	closed, err := s.store.ClosePostmortem(r.Context(), s.now(), gate.StoreEvidence(doc), ids)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: err.Error()}
	case errors.Is(err, store.ErrClosed):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: err.Error()}
	case err != nil:
		return storeError("close violations", err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"postmortem": doc.Digest, "closed": s.violationViews(closed)})
	return nil
}

func (s *Server) verifyLedger(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	head, err := s.store.Verify(r.Context(), nil)
	if err != nil {
		var be *ledger.BreakError
		var pe *store.ProjectionError
		if errors.As(err, &be) || errors.As(err, &pe) {
			return &Error{Status: http.StatusConflict, Code: CodeLedgerBroken, Message: err.Error(), Cause: err}
		}
		return storeError("verify the ledger", err)
	}
	writeJSON(w, http.StatusOK, api.VerifyResult{Intact: true, Head: head})
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	ts, err := s.tokens.List(r.Context())
	if err != nil {
		return storeError("list tokens", err)
	}
	writeJSON(w, http.StatusOK, api.NewTokenViews(ts))
	return nil
}

type tokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req tokenRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	secret, t, err := s.tokens.Create(r.Context(), req.Name, req.Role, p.Name+" ("+p.TokenID+")")
	if err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: err.Error()}
		}
		if errors.Is(err, auth.ErrInvalid) {
			return badRequest("request body: %v", err)
		}
		return storeError("create token", err)
	}
	v := api.NewTokenView(t)
	v.Token = secret
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id := r.PathValue("id")
	t, err := s.tokens.Revoke(r.Context(), id, p.Name+" ("+p.TokenID+")")
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("token %s: unknown", id)
	case errors.Is(err, store.ErrRevoked):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: "token " + id + " is revoked already"}
	case err != nil:
		return storeError("revoke token", err)
	}
	writeJSON(w, http.StatusOK, api.NewTokenView(t))
	return nil
}
