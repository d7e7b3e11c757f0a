package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/api"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/store"
)

// Violations lists the violations of b that f chooses, as they are shown
// at now (overdue or not), those due first.
func Violations(ctx context.Context, b Backend, f store.Filter, now time.Time) ([]api.ViolationView, error) {
	vs, err := b.Violations(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("read violations: %w", err)
	}
	views := make([]api.ViolationView, len(vs))
	for i, v := range vs {
		views[i] = api.NewViolationView(v, now)
	}
	return views, nil
}

// PostmortemFile checks that doc, read from path, is a Postmortem that
// names every violation asked, and answers the violations it closes
// (PostmortemCloses); path names the file in the errors.
func PostmortemFile(path string, doc *evidence.Document, asked []string) ([]string, error) {
	if doc.Kind != "Postmortem" {
		return nil, fmt.Errorf("%s: kind %s: want a Postmortem", path, doc.Kind)
	}
	ids, err := PostmortemCloses(doc, asked)
	var nn *NotNamedError
	if errors.As(err, &nn) {
		return nil, fmt.Errorf("%s: /data/violations: does not name %s (it names %s)", path, nn.ID, strings.Join(nn.Named, ", "))
	}
	return ids, err
}

// DecisionStore reads recorded decisions.
type DecisionStore interface {
	Decision(ctx context.Context, id string) (store.Decision, error)
}

// RecordedDecision is the decision id recorded in db: its ledger entry
// and the record it was made from.
func RecordedDecision(ctx context.Context, db DecisionStore, id string) (int64, *gate.Record, error) {
	d, err := db.Decision(ctx, id)
	if err != nil {
		return 0, nil, fmt.Errorf("decision %s: %w", id, err)
	}
	var rec gate.Record
	if err := json.Unmarshal(d.Body, &rec); err != nil {
		return 0, nil, fmt.Errorf("decision %s: %w", id, err)
	}
	return d.Seq, &rec, nil
}
