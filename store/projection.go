package store

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"

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
}

// NewProjection returns the projection of an empty ledger.
func NewProjection() *Projection {
	return &Projection{Evidence: map[string]Evidence{}, Decisions: map[string]Decision{},
		Violations: map[string]Violation{}, Opened: map[string]int64{}, Policies: map[string]Policy{}}
}

// Apply adds the effect of the next entry. An entry that does not follow
// from the ones before (a second decision with one id, a violation of an
// unknown decision, the close of an unknown or closed violation) is an error.
func (p *Projection) Apply(e ledger.Entry) error {
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
