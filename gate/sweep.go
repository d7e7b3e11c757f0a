package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/store"
)

// SweepGate is the pseudo-gate a sweep records its findings under. No
// policy evaluated them, so a replay skips them as it skips a reconcile.
const SweepGate = "sweep"

// RuleSkippedSmokeTests is the rule a sweep reports; the deploy gate's
// policy blocks the service while a violation of it is open.
const RuleSkippedSmokeTests = "forbidden.skipped-smoke-tests"

const (
	skippedTitle       = "No skipped smoke tests"
	skippedRemediation = "write the postmortem of this deploy and close the violation (`shipgate postmortem add --violation ID FILE`): the service deploys again only then. Next time run `shipgate verify` right after the deploy, and roll back if it fails"
)

// SweepRequest asks for one sweep.
type SweepRequest struct {
	// Service limits the sweep to one service's deploys; "" sweeps them all.
	Service string
	// Actor is who sweeps, recorded on the violations it opens.
	Actor string
	// Now is the time of the sweep: a deploy is unverified once Now is past
	// its finishedAt plus the policy's verification deadline.
	Now time.Time
}

// Unverified is what a sweep found about one succeeded Deploy: when it
// finished, by when a verify gate had to judge its smoke tests, and the
// verify decisions of its release in that time that did not.
type Unverified struct {
	Deploy     string    `json:"deploy"`
	Deployer   string    `json:"deployer,omitempty"`
	FinishedAt time.Time `json:"finishedAt"`
	Deadline   string    `json:"deadline"`
	VerifyBy   time.Time `json:"verifyBy"`
	// Verify names the verify decisions (not dry runs) about the release
	// between FinishedAt and VerifyBy, each "id (reason)": each denied
	// before the policies judged a Verification (evidence missing or
	// invalid, a fault).
	Verify []string `json:"verify"`
}

// Skipped is one deploy a sweep found with its smoke tests skipped, and
// the violation it opened for it.
type Skipped struct {
	Release engine.Release `json:"release"`
	Unverified
	Decision  string `json:"decision"`
	Violation string `json:"violation"`
	Message   string `json:"message"`
}

// SweepRecord is the body of a sweep decision in the ledger: a decision
// (so every reader of decisions reads it, denying with the rule) plus what
// the sweep found. Its replay names the Deploy but no gate: no policy made
// it.
type SweepRecord struct {
	*engine.Decision
	Replay Replay     `json:"replay"`
	Swept  Unverified `json:"swept"`
}

// SkippedViolationID is the id of the violation a sweep opens for the
// Deploy whose digest is given: one per Deploy, so a second sweep, or one
// running at the same time in another process, opens nothing more.
func SkippedViolationID(deploy string) string {
	hex := strings.TrimPrefix(deploy, "sha256:")
	if len(hex) > 26 {
		hex = hex[:26]
	}
	return "vio_skip_" + hex
}

// Sweep finds every succeeded Deploy (of req.Service, or of every service)
// whose smoke tests no verify gate judged (a recorded decision, not a dry
// run, between the Deploy's finishedAt and verification.deadline later)
// once that deadline is past at req.Now; and records, for each one it has
// not recorded before, a denying decision of the pseudo-gate "sweep" with
// a hard violation of forbidden.skipped-smoke-tests, due like any other.
// Each is durable before Sweep returns it. On an error, what was recorded
// before it is returned with it.
//
// A verify gate judged the smoke tests when it allowed, or when its
// policies denied (policy.deny): the tests ran and failed, that denial is
// a violation of its own with a rollback owed, and "roll back, fix,
// release again" must stay open. A denial before the policies ran (no
// Verification, invalid evidence, a fault) judged nothing.
func (g *Gate) Sweep(ctx context.Context, req SweepRequest) ([]Skipped, error) {
	known, err := g.sweep(ctx, req, serviceReads{})
	return known.skipped, err
}

// swept is what a sweep did, and what it knows after of the open
// violations of its service (violations and open, as in serviceReads).
type swept struct {
	serviceReads
	skipped []Skipped
}

// sweep is Sweep, given what was read of req.Service already. It reports
// the service's open violations as read when nothing it did or saw made
// that read stale: it recorded none, and found none recorded by another
// writer since (those read then, when it read the service's violations).
func (g *Gate) sweep(ctx context.Context, req SweepRequest, read serviceReads) (swept, error) {
	if g.Store == nil {
		return swept{}, errors.New("sweep: no ledger")
	}
	if req.Now.IsZero() {
		return swept{}, errors.New("sweep: no time")
	}
	deadline := g.Engine.VerificationDeadline()
	deploys := read.deployDocs
	if !read.deploys {
		var err error
		if deploys, err = g.Store.ServiceEvidence(ctx, req.Service, "Deploy"); err != nil {
			return swept{}, fmt.Errorf("sweep: %w", err)
		}
	}
	known := swept{serviceReads: serviceReads{violations: read.violations, open: read.open}}
	type candidate struct {
		ev store.Evidence
		u  Unverified
	}
	var due []candidate
	for _, e := range deploys {
		doc, err := g.deploys.read(e.Body)
		if err != nil {
			return swept{}, fmt.Errorf("sweep: recorded evidence %s: %w", e.Digest, err)
		}
		if doc.Data.Status != "succeeded" {
			continue
		}
		// The schema requires finishedAt on a deploy that ran; a document
		// without one is judged from when it was collected.
		finished := e.CollectedAt
		if doc.Data.FinishedAt != nil {
			finished = *doc.Data.FinishedAt
		}
		finished = finished.UTC()
		by := finished.Add(deadline)
		if !req.Now.After(by) {
			continue
		}
		due = append(due, candidate{e, Unverified{Deploy: e.Digest, Deployer: doc.Data.Actor, FinishedAt: finished,
			Deadline: deadline.String(), VerifyBy: by, Verify: []string{}}})
	}
	if len(due) == 0 {
		return known, nil
	}
	decisions, err := g.Store.ServiceDecisions(ctx, req.Service, "verify")
	if err != nil {
		return swept{}, fmt.Errorf("sweep: %w", err)
	}
	verifies := map[string][]store.Decision{}
	for _, d := range decisions {
		if !d.DryRun {
			verifies[d.ReleaseID] = append(verifies[d.ReleaseID], d)
		}
	}
	vs, err := g.Store.Violations(ctx, store.Filter{Service: req.Service})
	if err != nil {
		return swept{}, fmt.Errorf("sweep: %w", err)
	}
	// Read later than what the sweep was given: the open ones among them
	// (in the same order) are what is known now.
	known.violations, known.open = true, nil
	opened := make(map[string]bool, len(vs))
	for _, v := range vs {
		opened[v.ID] = true
		if v.Status == store.StatusOpen {
			known.open = append(known.open, v)
		}
	}
	for _, c := range due {
		if opened[SkippedViolationID(c.ev.Digest)] {
			continue
		}
		judged := false
		for _, d := range verifies[c.ev.ReleaseID] {
			if d.Service != c.ev.Service || d.Environment != c.ev.Environment ||
				d.EvaluatedAt.Before(c.u.FinishedAt) || d.EvaluatedAt.After(c.u.VerifyBy) {
				continue
			}
			if d.Allow || d.Reason == engine.ReasonDeny {
				judged = true
				break
			}
			c.u.Verify = append(c.u.Verify, d.ID+" ("+d.Reason+")")
		}
		if judged {
			continue
		}
		s, err := g.recordSkipped(ctx, req, c.ev, c.u)
		// What it recorded, or another sweep recorded first, is open now.
		known.violations, known.open = false, nil
		if errors.Is(err, store.ErrDuplicate) {
			continue // another sweep recorded it first
		}
		if err != nil {
			return known, &RecordError{Err: err}
		}
		known.skipped = append(known.skipped, s)
	}
	return known, nil
}

// deployFacts is what a sweep reads of a Deploy document.
type deployFacts struct {
	Data struct {
		Status     string     `json:"status"`
		Actor      string     `json:"actor"`
		FinishedAt *time.Time `json:"finishedAt"`
	} `json:"data"`
}

// maxDeploys bounds a deployCache.
const maxDeploys = 4096

// deployCache remembers what a sweep read of the Deploy documents it saw,
// by their very bytes (found by their hash, compared on a hit): every
// decision sweeps its service, whose deploys accumulate, and a document's
// facts are a function of its bytes. The zero value is ready to use.
type deployCache struct {
	seedOnce sync.Once
	seed     maphash.Seed
	mu       sync.Mutex
	docs     map[uint64]cachedDeploy
}

type cachedDeploy struct {
	body  []byte
	facts deployFacts
}

// read returns the facts of the Deploy document body.
func (c *deployCache) read(body []byte) (deployFacts, error) {
	c.seedOnce.Do(func() { c.seed = maphash.MakeSeed() })
	h := maphash.Bytes(c.seed, body)
	c.mu.Lock()
	hit, ok := c.docs[h]
	c.mu.Unlock()
	if ok && bytes.Equal(hit.body, body) {
		return hit.facts, nil
	}
	var doc deployFacts
	if err := json.Unmarshal(body, &doc); err != nil {
		return deployFacts{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.docs == nil || len(c.docs) >= maxDeploys {
		c.docs = map[uint64]cachedDeploy{}
	}
	c.docs[h] = cachedDeploy{body: body, facts: doc}
	return doc, nil
}

// recordSkipped records the sweep's decision about one unverified Deploy
// and the violation it opens.
func (g *Gate) recordSkipped(ctx context.Context, req SweepRequest, e store.Evidence, u Unverified) (Skipped, error) {
	now := req.Now.UTC()
	rel := engine.Release{ID: e.ReleaseID, Service: e.Service, Environment: e.Environment, Commit: e.Commit}
	asked := "no verify gate was asked"
	if len(u.Verify) > 0 {
		asked = "the verify gate never judged a Verification: " + strings.Join(u.Verify, ", ")
	}
	deployer := ""
	if u.Deployer != "" {
		deployer = " by " + u.Deployer
	}
	msg := fmt.Sprintf("Deploy %s%s of release %s (%s/%s @ %s) finished at %s and no verify gate judged its smoke tests within the %s deadline (by %s): %s; the smoke tests were skipped",
		short(e.Digest), deployer, rel.ID, rel.Service, rel.Environment, short(rel.Commit),
		u.FinishedAt.Format(time.RFC3339), u.Deadline, u.VerifyBy.Format(time.RFC3339), asked)
	d := &engine.Decision{ID: g.id("dec", g.now()), Gate: SweepGate, Release: rel, Allow: false, Reason: engine.ReasonDeny,
		Violations: []engine.Finding{{Rule: RuleSkippedSmokeTests, Title: skippedTitle, Enforcement: engine.Hard,
			Message: msg, Evidence: []string{e.Digest}, Remediation: skippedRemediation}},
		Overridden: []engine.Finding{}, Warnings: []engine.Finding{}, Obligations: []engine.Obligation{},
		Rules: []string{RuleSkippedSmokeTests}, Ignored: []engine.Ignored{},
		Evidence: []engine.EvidenceRef{{Kind: e.Kind, Digest: e.Digest, Source: e.Source}},
		Policy:   g.Engine.Ref(), EvaluatedAt: now}
	v := store.Violation{ID: SkippedViolationID(e.Digest), Kind: store.KindViolation, ReleaseID: rel.ID, Service: rel.Service,
		Environment: rel.Environment, Gate: SweepGate, DecisionID: d.ID, Rules: []string{RuleSkippedSmokeTests},
		Actor: req.Actor, Message: "sweep found: " + msg, OpenedAt: now, Due: now.Add(g.Engine.PostmortemDue()),
		Status: store.StatusOpen}
	d.Opened = []string{v.ID}
	body, err := json.Marshal(SweepRecord{Decision: d, Swept: u,
		Replay: Replay{Release: rel, Now: now, Evidence: []string{e.Digest}, Violations: []engine.OpenViolation{}}})
	if err != nil {
		return Skipped{}, err
	}
	// The deadline is policy data: the decision names the policy set, which
	// the ledger records with it unless it holds it already.
	pol, key := g.policy(ctx, d)
	err = g.Store.RecordDecision(ctx, g.now(), store.Decision{ID: d.ID, ReleaseID: rel.ID, Service: rel.Service,
		Environment: rel.Environment, Gate: SweepGate, Reason: d.Reason, EvaluatedAt: now, Body: body, Policy: pol},
		[]store.Violation{v}, nil)
	if err != nil {
		return Skipped{}, err
	}
	if pol != nil && reflect.TypeOf(g.Store).Comparable() {
		g.policies.Store(key, struct{}{})
	}
	return Skipped{Release: rel, Unverified: u, Decision: d.ID, Violation: v.ID, Message: msg}, nil
}

func short(s string) string {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
