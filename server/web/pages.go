package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store"
)

// pageSize bounds the releases one page lists.
const pageSize = 50

func (d *dashboard) show(w http.ResponseWriter, r *http.Request, s *signedIn, page, title, nav string, data any) {
	d.render(w, r, http.StatusOK, page, &view{Title: title, Nav: nav, Principal: &s.Principal, CSRF: s.CSRF, Data: data})
}

type releaseListRow struct {
	*release
	Gates          []gateCell
	Open, Overdue  int
	Waiting        bool
	EvidenceCount  int
	DecisionsCount int
}

type releasesView struct {
	Rows       []releaseListRow
	Total      int
	Page, Last int
	Service    string
}

// releasesPage lists the releases, most recent activity first, with each
// gate's latest result.
func (d *dashboard) releasesPage(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	now := d.now()
	rels, err := loadReleases(r.Context(), d.cfg.Store, now)
	if err != nil {
		return err
	}
	v := releasesView{Service: r.URL.Query().Get("service"), Page: 1}
	if v.Service != "" {
		if err := schemas.CheckName("service", v.Service); err != nil {
			return badRequest("The " + err.Error() + ".")
		}
		kept := rels[:0]
		for _, rel := range rels {
			if rel.Service == v.Service {
				kept = append(kept, rel)
			}
		}
		rels = kept
	}
	if p := r.URL.Query().Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return badRequest(fmt.Sprintf("page %q: want a page number from 1", p))
		}
		v.Page = n
	}
	v.Total = len(rels)
	v.Last = max(1, (v.Total+pageSize-1)/pageSize)
	from := min((v.Page-1)*pageSize, v.Total)
	for _, rel := range rels[from:min(from+pageSize, v.Total)] {
		wt, err := rel.waiting(r.Context(), d.cfg.Store)
		if err != nil {
			return err
		}
		row := releaseListRow{release: rel, Gates: rel.gateCells(), Waiting: wt.Waiting,
			EvidenceCount: rel.summary.Evidence, DecisionsCount: rel.summary.Decisions}
		row.Open, row.Overdue = rel.openCount(now)
		v.Rows = append(v.Rows, row)
	}
	d.show(w, r, s, "releases.html", "Releases", "releases", v)
	return nil
}

type releaseView struct {
	*release
	Gates      []gateCell
	Status     *gate.ReleaseStatus
	Kinds      []kindCount
	Missing    []string
	Rows       []evidenceRow
	Decided    []decisionRow
	Open       []debt
	Closed     []debt
	Waiting    waiting
	CanApprove bool
}

// releasePage shows one release: checklist, evidence, decisions with
// every finding, and its violations.
func (d *dashboard) releasePage(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	id := r.PathValue("id")
	if err := schemas.CheckName("release id", id); err != nil {
		return badRequest("The " + err.Error() + ".")
	}
	rel, ok, err := loadRelease(r.Context(), d.cfg.Store, id)
	if err != nil {
		return err
	}
	if !ok {
		return &pageError{Status: http.StatusNotFound, Message: fmt.Sprintf("The ledger holds nothing about release %q.", id)}
	}
	v := releaseView{release: rel, Gates: rel.gateCells(), CanApprove: auth.Approve.Allows(s.Role)}
	if v.Status, err = gate.Status(r.Context(), d.cfg.Store, d.validate, id); err != nil {
		return err
	}
	counts := map[string]int{}
	for _, e := range rel.Evidence {
		counts[e.Kind]++
	}
	for _, k := range schemas.Kinds {
		v.Kinds = append(v.Kinds, kindCount{Kind: k, Count: counts[k]})
		if counts[k] == 0 {
			v.Missing = append(v.Missing, k)
		}
	}
	if v.Rows, err = evidenceRows(rel.Evidence); err != nil {
		return err
	}
	if v.Decided, err = decisionRows(rel.Decisions); err != nil {
		return err
	}
	v.Open, v.Closed = debts(rel.Violations, d.now())
	if v.Waiting, err = rel.waiting(r.Context(), d.cfg.Store); err != nil {
		return err
	}
	flash := ""
	if r.URL.Query().Get("approved") == "1" {
		flash = "Your approval was recorded in the ledger. The deploy gate counts it the next time it is asked."
	}
	d.render(w, r, http.StatusOK, "release.html", &view{Title: "Release " + id, Nav: "releases", Principal: &s.Principal, CSRF: s.CSRF, Flash: flash, Data: v})
	return nil
}

type approvalRow struct {
	*release
	waiting
}

type approvalsView struct {
	Rows       []approvalRow
	CanApprove bool
}

// approvalsPage lists the releases waiting for an approver.
func (d *dashboard) approvalsPage(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	rels, err := loadReleases(r.Context(), d.cfg.Store, d.now())
	if err != nil {
		return err
	}
	v := approvalsView{CanApprove: auth.Approve.Allows(s.Role)}
	for _, rel := range rels {
		wt, err := rel.waiting(r.Context(), d.cfg.Store)
		if err != nil {
			return err
		}
		if wt.Waiting {
			v.Rows = append(v.Rows, approvalRow{release: rel, waiting: wt})
		}
	}
	d.show(w, r, s, "approvals.html", "Approvals", "approvals", v)
	return nil
}

// approve records the signed-in approver's approval through Config.Approve.
// Only a role that holds auth.Approve gets here (signedIn); Approve owns
// the other rules.
func (d *dashboard) approve(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	id := r.PathValue("id")
	if err := schemas.CheckName("release id", id); err != nil {
		return badRequest("The " + err.Error() + ". Nothing was recorded.")
	}
	note, err := cleanNote(r.PostForm.Get("note"))
	if err != nil {
		return err
	}
	switch err := d.cfg.Approve(r.Context(), s.Principal, id, note); {
	case errors.Is(err, auth.ErrForbidden):
		return forbidden("Approval refused: "+err.Error()+". Nothing was recorded.", err)
	case errors.Is(err, store.ErrNotFound):
		return &pageError{Status: http.StatusNotFound, Message: fmt.Sprintf("Release %q is not in the ledger, so it cannot be approved.", id), Err: err}
	case err != nil:
		return &pageError{Status: http.StatusInternalServerError, Message: "The approval could not be recorded, so the release is still not approved; the cause is in the server's log.", Err: err}
	}
	d.log.Info("dashboard approval", "release", id, "approver", s.Name)
	http.Redirect(w, r, "/releases/"+url.PathEscape(id)+"?approved=1", http.StatusSeeOther)
	return nil
}

type violationsView struct {
	Open, Closed []debt
	Overdue      int
	ClosedShown  int
	ClosedTotal  int
}

// closedShown bounds the closed violations listed.
const closedShown = 50

// violationsPage lists the open violations and obligations, overdue
// first, then the most recently closed.
func (d *dashboard) violationsPage(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	vs, err := d.cfg.Store.Violations(r.Context(), store.Filter{})
	if err != nil {
		return err
	}
	v := violationsView{}
	v.Open, v.Closed = debts(vs, d.now())
	for _, o := range v.Open {
		if o.Overdue {
			v.Overdue++
		}
	}
	v.ClosedTotal = len(v.Closed)
	v.Closed = v.Closed[:min(len(v.Closed), closedShown)]
	v.ClosedShown = len(v.Closed)
	d.show(w, r, s, "violations.html", "Violations and postmortems", "violations", v)
	return nil
}

// trendsPage draws decisions and violations per rule over the chosen
// number of days.
func (d *dashboard) trendsPage(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	days := 30
	if q := r.URL.Query().Get("days"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 730 {
			return badRequest(fmt.Sprintf("days %q: want a number of days from 1 to 730", q))
		}
		days = n
	}
	ds, err := d.cfg.Store.Decisions(r.Context(), "")
	if err != nil {
		return err
	}
	t, err := newTrends(ds, d.now(), days)
	if err != nil {
		return err
	}
	d.show(w, r, s, "trends.html", "Trends", "trends", t)
	return nil
}
