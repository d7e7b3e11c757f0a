package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/localizevideos/shipgate/ledger"
)

// Projection is the state the query tables hold, rebuilt from ledger
// entries alone: what a store's Verify compares its tables with. Evidence
// and decisions are kept without their Body, which stays in the ledger;
// Opened holds the seq of each violation's opening entry, which a Violation
// does not carry.
type Projection struct {
	Evidence   map[string]Evidence
	Decisions  map[string]Decision
	Violations map[string]Violation
	Opened     map[string]int64
	// Policies are the recorded policy sets by revision, without their
	// Data.
	Policies map[string]Policy

	// named holds, for each decision that lists the violations it opened,
	// that list; pending is the last decision entry while the entries of
	// the violations it opened are still to come (they follow it in the
	// same transaction).
	named   map[string][]string
	pending *pendingOpened
}

// pendingOpened is a decision whose opened violations have not all been
// seen yet.
type pendingOpened struct {
	seq  int64
	id   string
	want []string
	seen map[string]bool
}

// NewProjection returns the projection of an empty ledger.
func NewProjection() *Projection {
	return &Projection{Evidence: map[string]Evidence{}, Decisions: map[string]Decision{},
		Violations: map[string]Violation{}, Opened: map[string]int64{}, Policies: map[string]Policy{},
		named: map[string][]string{}}
}

// Apply adds the effect of the next entry. An entry that does not follow
// from the ones before (a second decision with one id, a violation of an
// unknown decision, the close of an unknown or closed violation, a decision
// naming evidence or a violation the ledger does not hold) is an error. A
// decision whose opened violations do not follow it is a *ledger.BreakError
// naming that decision, returned with the next entry (or by Finish).
func (p *Projection) Apply(e ledger.Entry) error {
	if err := p.settle(&e); err != nil {
		return err
	}
	switch e.Type {
	case ledger.TypeEvidence:
		ev, err := EvidenceOf(e)
		if err != nil {
			return err
		}
		if _, ok := p.Evidence[ev.Digest]; ok {
			return fmt.Errorf("evidence %s: %w", ev.Digest, ErrDuplicate)
		}
		ev.Body, ev.Envelope = nil, nil
		p.Evidence[ev.Digest] = ev
	case ledger.TypeDecision:
		d, err := DecisionOf(e)
		if err != nil {
			return err
		}
		if _, ok := p.Decisions[d.ID]; ok {
			return fmt.Errorf("decision %s: %w", d.ID, ErrDuplicate)
		}
		if err := p.checkRefs(e.Seq, d); err != nil {
			return err
		}
		d.Body = nil
		p.Decisions[d.ID] = d
	case TypePolicy:
		pol, err := PolicyOf(e)
		if err != nil {
			return err
		}
		if _, ok := p.Policies[pol.Revision]; ok {
			return fmt.Errorf("policy %s: %w", pol.Revision, ErrDuplicate)
		}
		pol.Data = nil
		p.Policies[pol.Revision] = pol
	case ledger.TypeViolationOpened, ledger.TypeObligation:
		v, err := ViolationOf(e)
		if err != nil {
			return err
		}
		if _, ok := p.Violations[v.ID]; ok {
			return fmt.Errorf("violation %s: %w", v.ID, ErrDuplicate)
		}
		if _, ok := p.Decisions[v.DecisionID]; !ok {
			return fmt.Errorf("violation %s: decision %s: %w", v.ID, v.DecisionID, ErrNotFound)
		}
		if list, ok := p.named[v.DecisionID]; ok && !slices.Contains(list, v.ID) {
			return fmt.Errorf("violation %s: decision %s lists the violations it opened, and not this one", v.ID, v.DecisionID)
		}
		if p.pending != nil && p.pending.id == v.DecisionID {
			p.pending.seen[v.ID] = true
		}
		p.Violations[v.ID], p.Opened[v.ID] = v, e.Seq
	case ledger.TypeViolationClosed, ledger.TypeObligationDone:
		v, ok := p.Violations[e.Key]
		if !ok {
			return fmt.Errorf("violation %s: %w", e.Key, ErrNotFound)
		}
		v, err := Closed(v, e)
		if err != nil {
			return err
		}
		if _, ok := p.Evidence[v.ClosedBy]; !ok {
			return fmt.Errorf("violation %s: postmortem %s: %w", v.ID, v.ClosedBy, ErrNotFound)
		}
		p.Violations[v.ID] = v
	default:
		return fmt.Errorf("unknown entry type %q", e.Type)
	}
	return nil
}

// decisionRefs is what a decision's body names besides itself: the
// evidence that counted, that did not, and that findings cite; what the
// gate was given and the open violations the policies saw (replay); and
// the violations it opened.
type decisionRefs struct {
	Evidence []struct {
		Digest string `json:"digest"`
	} `json:"evidence"`
	Ignored []struct {
		Digest string `json:"digest"`
	} `json:"ignored"`
	Violations []findingRefs `json:"violations"`
	Overridden []findingRefs `json:"overridden"`
	Warnings   []findingRefs `json:"warnings"`
	Opened     []string      `json:"opened"`
	Replay     struct {
		Evidence   []string `json:"evidence"`
		Violations []struct {
			ID string `json:"id"`
		} `json:"violations"`
	} `json:"replay"`
}

type findingRefs struct {
	Evidence []string `json:"evidence"`
}

// checkRefs fails when the decision d (at seq) names evidence or a
// violation the ledger does not hold before it: a decision is recorded
// after every document it was given and every violation the policies saw,
// so a missing one was removed. It also notes the violations d opened,
// which must follow it.
func (p *Projection) checkRefs(seq int64, d Decision) error {
	var r decisionRefs
	if err := json.Unmarshal(d.Body, &r); err != nil {
		return fmt.Errorf("decision %s: %w", d.ID, err)
	}
	type ref struct{ digest, where string }
	var refs []ref
	for i, e := range r.Evidence {
		refs = append(refs, ref{e.Digest, fmt.Sprintf("/evidence/%d", i)})
	}
	for i, e := range r.Ignored {
		refs = append(refs, ref{e.Digest, fmt.Sprintf("/ignored/%d", i)})
	}
	for i, dg := range r.Replay.Evidence {
		refs = append(refs, ref{dg, fmt.Sprintf("/replay/evidence/%d", i)})
	}
	for _, fs := range []struct {
		name string
		list []findingRefs
	}{{"violations", r.Violations}, {"overridden", r.Overridden}, {"warnings", r.Warnings}} {
		for i, f := range fs.list {
			for j, dg := range f.Evidence {
				// A finding may cite something other than a document;
				// a digest it cites must be one the ledger holds.
				if strings.HasPrefix(dg, "sha256:") {
					refs = append(refs, ref{dg, fmt.Sprintf("/%s/%d/evidence/%d", fs.name, i, j)})
				}
			}
		}
	}
	for _, rf := range refs {
		if _, ok := p.Evidence[rf.digest]; !ok {
			return fmt.Errorf("decision %s names evidence %q (at %s) that the ledger does not hold", d.ID, rf.digest, rf.where)
		}
	}
	for i, v := range r.Replay.Violations {
		if _, ok := p.Violations[v.ID]; !ok {
			return fmt.Errorf("decision %s names open violation %q (at /replay/violations/%d) that the ledger does not hold", d.ID, v.ID, i)
		}
	}
	if len(r.Opened) > 0 {
		p.named[d.ID] = r.Opened
		p.pending = &pendingOpened{seq: seq, id: d.ID, want: r.Opened, seen: map[string]bool{}}
	}
	return nil
}

// settle checks, before entry e, that the decision still waiting for its
// opened violations got them all: e is one of them, or they all came.
func (p *Projection) settle(e *ledger.Entry) error {
	pd := p.pending
	if pd == nil {
		return nil
	}
	if e != nil && (e.Type == ledger.TypeViolationOpened || e.Type == ledger.TypeObligation) {
		var v struct {
			Decision string `json:"decisionId"`
		}
		if json.Unmarshal(e.Payload, &v) == nil && v.Decision == pd.id {
			return nil
		}
	}
	p.pending = nil
	for _, id := range pd.want {
		if !pd.seen[id] {
			return &ledger.BreakError{Seq: pd.seq, Reason: fmt.Sprintf("decision %s names violation %q as opened, which the ledger does not hold", pd.id, id)}
		}
	}
	return nil
}

// Finish ends the projection: the last decision's opened violations must
// all have come (see Apply).
func (p *Projection) Finish() error { return p.settle(nil) }

// ApplyStored applies the entry a store keeps at seq, with the columns it
// keeps beside the body (type, key, hash). A body that does not parse, or
// an entry that does not follow from the ones before, is a
// *ledger.BreakError naming it; a column that disagrees with the body is a
// *ProjectionError of the table "entries".
func (p *Projection) ApplyStored(seq int64, typ, key, hash string, body []byte) error {
	e, err := ledger.Parse(body)
	if err != nil {
		return &ledger.BreakError{Seq: seq, Reason: err.Error()}
	}
	for _, c := range [...]struct{ name, got, want string }{{"type", typ, e.Type}, {"key", key, e.Key}, {"hash", hash, e.Hash}} {
		if c.got != c.want {
			return &ProjectionError{Table: "entries", Key: strconv.FormatInt(seq, 10),
				Reason: fmt.Sprintf("column %s is %q; the entry says %q", c.name, c.got, c.want)}
		}
	}
	if err := p.Apply(e); err != nil {
		if be := (*ledger.BreakError)(nil); errors.As(err, &be) {
			return be // an earlier entry's, found only now
		}
		return &ledger.BreakError{Seq: seq, Reason: err.Error()}
	}
	return nil
}

// ProjectEntriesSQL selects what ProjectRows reads, every entry in ledger
// order.
const ProjectEntriesSQL = "SELECT seq, type, key, hash, body FROM entries ORDER BY seq"

// ProjectRows rebuilds the query tables from the rows of ProjectEntriesSQL,
// checking each entry's columns against its body on the way (ApplyStored).
// The caller closes rows.
func ProjectRows(rows Rows) (*Projection, error) {
	p := NewProjection()
	for rows.Next() {
		var seq int64
		var typ, key, hash string
		var body []byte
		if err := rows.Scan(&seq, &typ, &key, &hash, &body); err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		if err := p.ApplyStored(seq, typ, key, hash, body); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if err := p.Finish(); err != nil {
		return nil, err
	}
	return p, nil
}

// RowsOf gives the rows the ledger says a query table should hold: each
// record of records as row gives its values, under its key. A store passes
// the result to CompareRows as want.
func RowsOf[T any](records map[string]T, row func(T) []any) map[string][]any {
	want := make(map[string][]any, len(records))
	for k, r := range records {
		want[k] = row(r)
	}
	return want
}

// CompareRows compares the rows a store holds in its query table (got)
// with the rows the ledger says it should hold (want), both keyed by the
// table's key column and each holding the values of cols in order, and
// reports the first difference in key order as a *ProjectionError.
func CompareRows(table string, cols []string, got, want map[string][]any) error {
	keys := make([]string, 0, len(want)+len(got))
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		w, inLedger := want[k]
		g, stored := got[k]
		switch {
		case !stored:
			return &ProjectionError{Table: table, Key: k, Reason: "missing: the ledger records it"}
		case !inLedger:
			return &ProjectionError{Table: table, Key: k, Reason: "not in the ledger"}
		}
		for i := range cols {
			if !reflect.DeepEqual(g[i], w[i]) {
				return &ProjectionError{Table: table, Key: k,
					Reason: fmt.Sprintf("column %s is %s; the ledger says %s", cols[i], show(g[i]), show(w[i]))}
			}
		}
	}
	return nil
}

func show(v any) string {
	if v == nil {
		return "NULL"
	}
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}
