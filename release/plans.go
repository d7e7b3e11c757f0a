package release

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/store"
)

// EvidenceLister reads a release's recorded evidence: a ledger, or a
// Backend (whose Plans is all OfPlans and PlanRelease read).
type EvidenceLister interface {
	Evidence(ctx context.Context, releaseID string) ([]store.Evidence, error)
}

// PlansOf lists through b's Plans.
func PlansOf(b Backend) EvidenceLister { return plansOf{b} }

type plansOf struct{ b Backend }

func (p plansOf) Evidence(ctx context.Context, releaseID string) ([]store.Evidence, error) {
	return p.b.Plans(ctx, releaseID)
}

// OfPlans completes rel from the release's Plans in the ledger: what a
// step records must be bound to the release the Plan declares.
// rel's service, environment and commit, when set, choose among several.
func OfPlans(ctx context.Context, db EvidenceLister, v *evidence.Validator, rel engine.Release) (engine.Release, error) {
	stored, err := db.Evidence(ctx, rel.ID)
	if err != nil {
		return rel, fmt.Errorf("read evidence of %s: %w", rel.ID, err)
	}
	var plan *evidence.Document
	for _, e := range stored {
		if e.Kind != "Plan" || (rel.Service != "" && e.Service != rel.Service) ||
			(rel.Environment != "" && e.Environment != rel.Environment) || (rel.Commit != "" && e.Commit != rel.Commit) {
			continue
		}
		doc, err := v.Decode(e.Source, e.Body)
		if err != nil {
			return rel, fmt.Errorf("recorded evidence %s: %w", e.Digest, err)
		}
		if plan != nil && (doc.Service != plan.Service || doc.Environment != plan.Environment || doc.Commit != plan.Commit || doc.Repository != plan.Repository) {
			return rel, fmt.Errorf("release %s: its Plans disagree (%s/%s@%s in %s, %s/%s@%s in %s): give --service, --environment and --commit",
				rel.ID, plan.Service, plan.Environment, ShortHex(plan.Commit), plan.Digest, doc.Service, doc.Environment, ShortHex(doc.Commit), doc.Digest)
		}
		plan = doc
	}
	if plan == nil {
		return rel, fmt.Errorf("release %s: no Plan in the ledger declares it: record the release's Plan first (shipgate evidence add plan.json)", rel.ID)
	}
	rel.Service, rel.Environment, rel.Commit, rel.Repository = plan.Service, plan.Environment, plan.Commit, plan.Repository
	return rel, nil
}

// PlanRelease fills the service and environment rel leaves empty from the
// release's recorded Plans, as the gate would, and pins the commit to
// head. The repository is the one the Plans for head declare, when they
// agree. It also reports whether any Plan declares head. configFile names
// where the service and environment can be set.
func PlanRelease(ctx context.Context, db EvidenceLister, v *evidence.Validator, rel engine.Release, head, configFile string) (engine.Release, bool, error) {
	stored, err := db.Evidence(ctx, rel.ID)
	if err != nil {
		return rel, false, fmt.Errorf("read evidence of %s: %w", rel.ID, err)
	}
	var names, repos []string
	for _, e := range stored {
		if e.Kind != "Plan" || (rel.Service != "" && e.Service != rel.Service) || (rel.Environment != "" && e.Environment != rel.Environment) {
			continue
		}
		if n := e.Service + "/" + e.Environment; !slices.Contains(names, n) {
			names = append(names, n)
		}
		if e.Commit != head {
			continue
		}
		doc, err := v.Decode(e.Source, e.Body)
		if err != nil {
			return rel, false, fmt.Errorf("recorded evidence %s: %w", e.Digest, err)
		}
		if !slices.Contains(repos, doc.Repository) {
			repos = append(repos, doc.Repository)
		}
	}
	declared := len(repos) > 0
	if len(repos) == 1 {
		rel.Repository = repos[0]
	}
	rel.Commit = head
	switch {
	case rel.Service != "" && rel.Environment != "":
		return rel, declared, nil
	case len(names) == 0:
		return rel, false, fmt.Errorf("release %s: no service and environment: give --service and --environment, set them in %s, or record the release's Plan first", rel.ID, configFile)
	case len(names) > 1:
		return rel, false, fmt.Errorf("release %s: its Plans disagree on the service and environment (%s): give --service and --environment", rel.ID, strings.Join(names, ", "))
	}
	rel.Service, rel.Environment, _ = strings.Cut(names[0], "/")
	return rel, declared, nil
}

// ShortHex is the first 12 characters of a commit or digest.
func ShortHex(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
