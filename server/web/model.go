package web

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/store"
)

// gates are the gates, in release order; a release's row shows each one's
// latest recorded (not dry-run) decision.
var gates = engine.Gates

// ruleApprovalRequired is the rule that denies a deploy nobody approved:
// such a release waits for an approver.
const ruleApprovalRequired = "approval.required"

// release is what the ledger holds about one release: all of it for the
// release page; for the lists, the store's summary (Decisions then holds
// each gate's latest decision, and Evidence is read only when a list needs
// a document's contents).
type release struct {
	ID, Service, Environment, Commit string
	Evidence                         []store.Evidence
	Decisions                        []store.Decision
	Violations                       []store.Violation
	Last                             time.Time
	// Kinds are the evidence kinds recorded.
	Kinds []string
	// summary, when set, is what the lists read instead of the records.
	summary *store.ReleaseSummary
}

// gateCell is one gate's latest decision about a release.
type gateCell struct {
	Gate     string
	Decision *store.Decision
}

// gateCells returns the latest non-dry-run decision of each gate.
func (r *release) gateCells() []gateCell {
	out := make([]gateCell, len(gates))
	for i, g := range gates {
		out[i].Gate = g
	}
	for i := range r.Decisions {
		d := &r.Decisions[i]
		if d.DryRun {
			continue
		}
		if j := slices.Index(gates, d.Gate); j >= 0 {
			out[j].Decision = d
		}
	}
	return out
}

// loadReleases reads the store's summary of every release, most recent
// activity first: no evidence document is read.
func loadReleases(ctx context.Context, s Store, now time.Time) ([]*release, error) {
	sums, err := s.Releases(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("read releases: %w", err)
	}
	out := make([]*release, len(sums))
	for i := range sums {
		sum := &sums[i]
		r := &release{ID: sum.ID, Service: sum.Service, Environment: sum.Environment, Commit: sum.Commit,
			Decisions: sum.Latest, Kinds: sum.Kinds, Last: sum.LastEvidenceAt, summary: sum}
		if sum.Last != nil {
			r.Last = latest(r.Last, sum.Last.EvaluatedAt)
		}
		for _, d := range sum.Latest {
			r.Last = latest(r.Last, d.EvaluatedAt)
		}
		out[i] = r
	}
	slices.SortStableFunc(out, func(a, b *release) int { return cmp.Or(b.Last.Compare(a.Last), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// openCount counts the release's open violations and obligations, and how
// many of them are past due at now.
func (r *release) openCount(now time.Time) (open, overdue int) {
	if r.summary != nil {
		return r.summary.Open, r.summary.Overdue
	}
	for _, v := range r.Violations {
		if v.Status == store.StatusOpen {
			open++
			if v.Due.Before(now) {
				overdue++
			}
		}
	}
	return open, overdue
}

// loadRelease reads one release; ok is false when the ledger knows
// nothing of it.
func loadRelease(ctx context.Context, s Store, id string) (*release, bool, error) {
	evs, err := s.Evidence(ctx, id)
	if err != nil {
		return nil, false, fmt.Errorf("read evidence of %s: %w", id, err)
	}
	ds, err := s.Decisions(ctx, id)
	if err != nil {
		return nil, false, fmt.Errorf("read decisions of %s: %w", id, err)
	}
	vs, err := s.Violations(ctx, store.Filter{ReleaseID: id})
	if err != nil {
		return nil, false, fmt.Errorf("read violations of %s: %w", id, err)
	}
	if len(evs) == 0 && len(ds) == 0 {
		return nil, false, nil
	}
	r := &release{ID: id, Evidence: evs, Decisions: ds, Violations: vs}
	for _, e := range evs {
		if !slices.Contains(r.Kinds, e.Kind) {
			r.Kinds = append(r.Kinds, e.Kind)
		}
		if r.Service == "" {
			r.Service, r.Environment = e.Service, e.Environment
		}
		if r.Commit == "" || e.Kind == "Plan" {
			r.Commit = e.Commit
		}
		r.Last = latest(r.Last, e.AddedAt)
	}
	for _, d := range ds {
		if r.Service == "" {
			r.Service, r.Environment = d.Service, d.Environment
		}
		r.Last = latest(r.Last, d.EvaluatedAt)
	}
	return r, true, nil
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// envelope is what the dashboard reads of an evidence document besides
// what the store indexes.
type envelope struct {
	Collector struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Host    string `json:"host"`
		Actor   string `json:"actor"`
	} `json:"collector"`
	Data struct {
		// Approval
		Approver string `json:"approver"`
		Decision string `json:"decision"`
		Gate     string `json:"gate"`
		Comment  string `json:"comment"`
		// Deploy
		Actor  string `json:"actor"`
		Status string `json:"status"`
	} `json:"data"`
}

func readEnvelope(e store.Evidence) (envelope, error) {
	var env envelope
	if err := json.Unmarshal(e.Body, &env); err != nil {
		return env, fmt.Errorf("recorded evidence %s: %w", e.Digest, err)
	}
	return env, nil
}

// record decodes a decision body as the gate wrote it.
func record(d store.Decision) (gate.Record, error) {
	rec := gate.Record{Decision: &engine.Decision{}}
	if err := json.Unmarshal(d.Body, &rec); err != nil {
		return rec, fmt.Errorf("recorded decision %s: %w", d.ID, err)
	}
	return rec, nil
}

// waiting says whether a release waits for an approver, and why: its
// latest deploy decision denied it for a missing approval and no approval
// was recorded since, or it is planned or built, has no approval and was
// never allowed to deploy. A release already allowed to deploy waits for
// nobody.
type waiting struct {
	Waiting bool
	Reason  string
	// DeniedBy is the deploy decision that asked for an approval.
	DeniedBy *store.Decision
	// Deployer is who asked to deploy (the latest Deploy's actor).
	Deployer string
}

func (r *release) waiting(ctx context.Context, s Store) (waiting, error) {
	var w waiting
	var lastDeploy *store.Decision
	for i := range r.Decisions {
		if d := &r.Decisions[i]; d.Gate == "deploy" && !d.DryRun {
			lastDeploy = d
		}
	}
	if lastDeploy != nil && lastDeploy.Allow {
		return w, nil
	}
	planned := slices.Contains(r.Kinds, "Plan") || slices.Contains(r.Kinds, "Build")
	if lastDeploy == nil && !planned {
		return w, nil
	}
	// Approvals and the deployer are read from the documents: a summary
	// reads them only for a release that may be waiting.
	if r.summary != nil && r.Evidence == nil && (slices.Contains(r.Kinds, "Approval") || slices.Contains(r.Kinds, "Deploy")) {
		evs, err := s.EvidenceOfKinds(ctx, r.ID, "Approval", "Deploy")
		if err != nil {
			return w, fmt.Errorf("read evidence of %s: %w", r.ID, err)
		}
		r.Evidence = evs
	}
	var approvedSeq int64 = -1
	for _, e := range r.Evidence {
		switch e.Kind {
		case "Approval":
			env, err := readEnvelope(e)
			if err != nil {
				return w, err
			}
			if env.Data.Decision == "approved" && env.Data.Gate == "deploy" {
				approvedSeq = max(approvedSeq, e.Seq)
			}
		case "Deploy":
			env, err := readEnvelope(e)
			if err != nil {
				return w, err
			}
			w.Deployer = cmp.Or(env.Data.Actor, env.Collector.Actor)
		}
	}
	if lastDeploy != nil {
		if lastDeploy.Body == nil { // a summary's: read the decision itself
			d, err := s.Decision(ctx, lastDeploy.ID)
			if err != nil {
				return w, fmt.Errorf("read decision %s: %w", lastDeploy.ID, err)
			}
			lastDeploy.Body = d.Body
		}
		rec, err := record(*lastDeploy)
		if err != nil {
			return w, err
		}
		for _, f := range rec.Violations {
			if f.Rule == ruleApprovalRequired && approvedSeq < lastDeploy.Seq {
				w.Waiting, w.DeniedBy = true, lastDeploy
				w.Reason = "the deploy gate denied it: " + strings.TrimRight(f.Message, ". ")
				return w, nil
			}
		}
	}
	if planned && approvedSeq < 0 {
		w.Waiting, w.Reason = true, "it is planned or built and nobody has approved its deploy yet"
	}
	return w, nil
}

// kindCount is one evidence kind and how many documents of it a release
// has.
type kindCount struct {
	Kind  string
	Count int
}

// evidenceRow is one recorded document as the release page lists it.
type evidenceRow struct {
	store.Evidence
	Collector string
	Actor     string
}

func evidenceRows(evs []store.Evidence) ([]evidenceRow, error) {
	out := make([]evidenceRow, 0, len(evs))
	for _, e := range evs {
		env, err := readEnvelope(e)
		if err != nil {
			return nil, err
		}
		c := env.Collector
		name := c.Name
		if c.Version != "" {
			name += " " + c.Version
		}
		if c.Host != "" {
			name += " on " + c.Host
		}
		out = append(out, evidenceRow{Evidence: e, Collector: name, Actor: c.Actor})
	}
	return out, nil
}

// decisionRow is a decision with its recorded body.
type decisionRow struct {
	store.Decision
	Rec gate.Record
}

func decisionRows(ds []store.Decision) ([]decisionRow, error) {
	out := make([]decisionRow, 0, len(ds))
	for _, d := range ds {
		rec, err := record(d)
		if err != nil {
			return nil, err
		}
		out = append(out, decisionRow{Decision: d, Rec: rec})
	}
	slices.Reverse(out) // newest first
	return out, nil
}

// debt is a violation or obligation as the debt list shows it.
type debt struct {
	store.Violation
	Overdue bool
	// Left is the time to the due date (negative: overdue) at the page's
	// time; Closed ones keep zero.
	Left time.Duration
}

// debts orders violations for the list: open ones first, overdue before
// the rest, each by due date (the most overdue first); then closed ones,
// the most recently closed first.
func debts(vs []store.Violation, now time.Time) (open, closed []debt) {
	for _, v := range vs {
		if v.Status == store.StatusOpen {
			open = append(open, debt{Violation: v, Overdue: v.Due.Before(now), Left: v.Due.Sub(now)})
		} else {
			closed = append(closed, debt{Violation: v})
		}
	}
	slices.SortStableFunc(open, func(a, b debt) int {
		if a.Overdue != b.Overdue {
			if a.Overdue {
				return -1
			}
			return 1
		}
		return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.ID, b.ID))
	})
	slices.SortStableFunc(closed, func(a, b debt) int { return cmp.Or(b.ClosedAt.Compare(a.ClosedAt), cmp.Compare(a.ID, b.ID)) })
	return open, closed
}
