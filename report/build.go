package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
)

// Source is the ledger as the report reads it.
type Source interface {
	Evidence(ctx context.Context, releaseID string) ([]store.Evidence, error)
	Decisions(ctx context.Context, releaseID string) ([]store.Decision, error)
	Violations(ctx context.Context, f store.Filter) ([]store.Violation, error)
	Verify(ctx context.Context, cp *ledger.Checkpoint) (ledger.Head, error)
}

// Options choose the period and what the report may use besides the
// ledger.
type Options struct {
	// Since and Until bound the period, [Since, Until): a release is in the
	// report when one of its decisions was evaluated in it.
	Since, Until time.Time
	// Service and Environment, when set, keep only those decisions.
	Service, Environment string
	// Checkpoint, when set, is a signed checkpoint (its signature already
	// checked) the ledger is verified against.
	Checkpoint *ledger.Checkpoint
	// Now is when the report is made.
	Now time.Time
	// Rules is the rule catalog (Engine.Catalog) the titles come from; titles
	// the findings carry fill in for rules it lacks.
	Rules engine.Catalog
	// Engine and Validator, when both set, let the report evaluate recorded
	// decisions again: to attribute each allowed decision's rules to the
	// documents that satisfied them, and to read the freeze windows active at
	// each deploy decision. Only decisions made under Engine's policy
	// revision are evaluated again.
	Engine    *engine.Engine
	Validator *evidence.Validator
}

// Rule ids the report reads.
const (
	ruleHardWindow = "freeze.hard-window"
	// obligationPostmortem is the obligation kind of the emergency path.
	obligationPostmortem = "postmortem"
	// gateReconcile is the pseudo-gate reconcile records its findings
	// under: what it observed, not a policy evaluation.
	gateReconcile = "reconcile"
)

// Build reads the ledger and makes the report of the period. A ledger that
// does not verify is not an error: the report states it (Integrity) and is
// made from what the ledger's tables say; the caller decides what to exit
// with. Errors are ledger reads that failed.
func Build(ctx context.Context, src Source, opts Options) (*Report, error) {
	if !opts.Until.After(opts.Since) {
		return nil, errors.New("report: the period is empty")
	}
	if opts.Now.IsZero() {
		return nil, errors.New("report: no report time")
	}
	b := &builder{opts: opts, docs: map[string]*evidence.Document{}}
	b.rep = &Report{
		Schema: Schema, GeneratedAt: opts.Now.UTC(),
		Period:  Period{Since: opts.Since.UTC(), Until: opts.Until.UTC(), AsOf: opts.Until.UTC()},
		Service: opts.Service, Environment: opts.Environment,
		Releases: []Release{}, Days: []Day{},
	}
	if opts.Now.Before(opts.Until) {
		b.rep.Period.AsOf = opts.Now.UTC()
	}
	if opts.Engine != nil {
		b.rep.PolicyRevision = opts.Engine.Revision()
	}
	b.rep.Integrity = integrity(ctx, src, opts.Checkpoint)
	if err := b.load(ctx, src); err != nil {
		return nil, err
	}
	b.rep.Signing = b.signing()
	if err := b.releases(ctx); err != nil {
		return nil, err
	}
	b.rep.Summary = summarize(b.rep, b.title)
	b.rep.Days = days(b.rep)
	return b.rep, nil
}

func integrity(ctx context.Context, src Source, cp *ledger.Checkpoint) Integrity {
	head, err := src.Verify(ctx, cp)
	in := Integrity{Intact: err == nil, Err: err}
	if cp != nil {
		in.Checkpoint = &Checkpoint{Origin: cp.Origin, Size: cp.Size, Head: cp.Head, Root: cp.Root, KeyID: cp.KeyID, Time: cp.Time.UTC()}
	}
	if err != nil {
		in.Error = err.Error()
		in.Statement = "LEDGER INTEGRITY FAILURE: " + err.Error() + ". The figures below are read from the ledger's tables as they are and may not be what was recorded."
		return in
	}
	in.Entries, in.Head, in.Root = head.Size, head.Hash, head.Root
	in.Statement = fmt.Sprintf("Ledger intact: %d entries verified (hash chain and query tables), head %s, Merkle root %s", head.Size, head.Hash, head.Root)
	if cp != nil {
		in.Statement += fmt.Sprintf("; consistent with the checkpoint of %d entries signed by %s at %s", cp.Size, cp.KeyID, cp.Time.UTC().Format(time.RFC3339))
	} else {
		in.Statement += "; no checkpoint given, so a truncated tail or an older copy restored in place would not show"
	}
	in.Statement += "."
	return in
}

// signing states whether signing was required for the period's decisions
// (each records signingOff) and in the policy set the report read.
func (b *builder) signing() Signing {
	s := Signing{Decisions: len(b.decisions)}
	for _, d := range b.decisions {
		if d.rec.Decision.SigningOff {
			s.OffDecisions++
		}
	}
	if b.opts.Engine != nil {
		s.PolicyOff = !b.opts.Engine.SigningRequired(b.opts.Service)
	}
	s.Off = s.OffDecisions > 0 || s.PolicyOff
	if !s.Off {
		s.Statement = "Signing required: Build, Deploy, Verification, Monitoring, Rollback and Hold documents counted only when signed by a trusted key, and approvals, overrides and holds only when authenticated as their author."
		return s
	}
	s.Statement = fmt.Sprintf("SIGNING OFF: %d of the period's %d decisions were made with signing.required: false in their policy data, so unsigned, hand-written Build, Deploy, Verification, Monitoring and Rollback documents counted for them.", s.OffDecisions, s.Decisions)
	if s.PolicyOff {
		s.Statement += " The policy set this report read has signing off too."
	}
	s.Statement += " Approvals, overrides and holds counted only when authenticated as their author."
	return s
}

// builder holds what Build has read.
type builder struct {
	opts Options
	rep  *Report

	decisions  []recorded // selected, in ledger order
	byDigest   map[string]store.Evidence
	byRelease  map[string][]store.Evidence
	violations map[string][]store.Violation // by decision id
	titles     map[string]string
	docs       map[string]*evidence.Document // decoded for replays
}

// recorded is a decision as the ledger holds it.
type recorded struct {
	store.Decision
	rec gate.Record
}

func (b *builder) load(ctx context.Context, src Source) error {
	ds, err := src.Decisions(ctx, "")
	if err != nil {
		return fmt.Errorf("read decisions: %w", err)
	}
	b.titles = map[string]string{engine.RuleEvidenceMissing: "Required evidence is present"}
	for _, d := range ds {
		rec := gate.Record{Decision: &engine.Decision{}}
		if err := json.Unmarshal(d.Body, &rec); err != nil {
			return fmt.Errorf("decision %s: %w", d.ID, err)
		}
		for _, fs := range [][]engine.Finding{rec.Violations, rec.Overridden, rec.Warnings} {
			for _, f := range fs {
				if f.Title != "" && b.titles[f.Rule] == "" {
					b.titles[f.Rule] = f.Title
				}
			}
		}
		if d.EvaluatedAt.Before(b.opts.Since) || !d.EvaluatedAt.Before(b.opts.Until) ||
			(b.opts.Service != "" && d.Service != b.opts.Service) ||
			(b.opts.Environment != "" && d.Environment != b.opts.Environment) {
			continue
		}
		b.decisions = append(b.decisions, recorded{Decision: d, rec: rec})
	}
	for id, r := range b.opts.Rules {
		if r.Title != "" {
			b.titles[id] = r.Title
		}
	}

	evs, err := src.Evidence(ctx, "")
	if err != nil {
		return fmt.Errorf("read evidence: %w", err)
	}
	// Evidence recorded at or after the period's end is left out, except
	// what a decision of the period was made from.
	offered := map[string]bool{}
	for _, d := range b.decisions {
		for _, dg := range d.rec.Replay.Evidence {
			offered[dg] = true
		}
	}
	b.byDigest = map[string]store.Evidence{}
	b.byRelease = map[string][]store.Evidence{}
	for _, ev := range evs {
		if !ev.AddedAt.Before(b.opts.Until) && !offered[ev.Digest] {
			continue
		}
		b.byDigest[ev.Digest] = ev
		b.byRelease[ev.ReleaseID] = append(b.byRelease[ev.ReleaseID], ev)
	}

	vs, err := src.Violations(ctx, store.Filter{})
	if err != nil {
		return fmt.Errorf("read violations: %w", err)
	}
	b.violations = map[string][]store.Violation{}
	for _, v := range vs {
		b.violations[v.DecisionID] = append(b.violations[v.DecisionID], v)
	}
	return nil
}

func (b *builder) title(rule string) string { return b.titles[rule] }

// releases groups the selected decisions by release, in the order of each
// release's first decision.
func (b *builder) releases(ctx context.Context) error {
	var order []string
	byRelease := map[string][]recorded{}
	for _, d := range b.decisions {
		if _, ok := byRelease[d.ReleaseID]; !ok {
			order = append(order, d.ReleaseID)
		}
		byRelease[d.ReleaseID] = append(byRelease[d.ReleaseID], d)
	}
	for _, id := range order {
		r, err := b.release(ctx, id, byRelease[id])
		if err != nil {
			return err
		}
		b.rep.Releases = append(b.rep.Releases, r)
	}
	return nil
}

func (b *builder) release(ctx context.Context, id string, ds []recorded) (Release, error) {
	r := Release{ID: id, Service: ds[0].Service, Environment: ds[0].Environment,
		FreezeWindows: []string{}, Evidence: []Evidence{}, Decisions: []Decision{}, Violations: []Violation{},
		Overrides: []Override{}, Approvals: []Approval{}, Deploys: []Deploy{}, Rollbacks: []Rollback{}, Postmortems: []Postmortem{}}
	for _, d := range ds {
		if r.Commit = d.rec.Release.Commit; r.Commit != "" {
			break
		}
	}
	var breaches []time.Time
	for _, ev := range b.byRelease[id] {
		e, doc, err := parseEvidence(ev)
		if err != nil {
			return Release{}, err
		}
		r.Evidence = append(r.Evidence, e)
		breach, err := record(&r, e, doc.Data)
		if err != nil {
			return Release{}, fmt.Errorf("%s %s: %w", ev.Kind, ev.Digest, err)
		}
		if !breach.IsZero() {
			breaches = append(breaches, breach)
		}
	}

	var failures []time.Time
	for _, d := range ds {
		dec := b.decision(ctx, d)
		r.Decisions = append(r.Decisions, dec)
		if d.DryRun {
			continue
		}
		switch {
		case d.Gate == "deploy" && d.Allow:
			r.Deployed = true
			r.Emergency = r.Emergency || dec.Emergency
		case d.Gate == "verify" && !d.Allow && d.Reason == engine.ReasonDeny:
			r.VerifyDenied = true
			failures = append(failures, d.EvaluatedAt.UTC())
		}
		if d.Gate == "deploy" && (dec.Emergency || len(dec.Freeze) > 0) {
			r.DuringFreeze = true
			for _, w := range dec.Freeze {
				if !slices.Contains(r.FreezeWindows, w) {
					r.FreezeWindows = append(r.FreezeWindows, w)
				}
			}
		}
		for _, f := range dec.Overridden {
			r.Overrides = append(r.Overrides, b.override(dec, f))
		}
		for _, v := range b.violations[d.ID] {
			r.Violations = append(r.Violations, b.violation(v))
		}
	}
	if len(breaches) > 0 {
		r.MonitoringBreached = true
		failures = append(failures, breaches...)
	}
	r.VerificationFailed = r.VerifyDenied || r.MonitoringBreached
	b.outcome(&r, failures)
	b.postmortems(&r)
	return r, nil
}

// record adds what one document of r says about approvals, deploys and
// rollbacks; for a Monitoring that reports a breach it returns the time it
// was collected.
func record(r *Release, e Evidence, data json.RawMessage) (time.Time, error) {
	switch e.Kind {
	case "Approval":
		var a struct {
			Approver, Decision, Gate, Comment string
			ApprovedAt                        time.Time
		}
		if err := json.Unmarshal(data, &a); err != nil {
			return time.Time{}, err
		}
		r.Approvals = append(r.Approvals, Approval{Approver: a.Approver, Decision: a.Decision, Gate: a.Gate,
			ApprovedAt: a.ApprovedAt.UTC(), Comment: a.Comment, Digest: e.Digest})
	case "Deploy":
		var d struct {
			Status, Actor, Trigger string
			StartedAt, FinishedAt  *time.Time
			DurationSeconds        *float64
		}
		if err := json.Unmarshal(data, &d); err != nil {
			return time.Time{}, err
		}
		r.Deploys = append(r.Deploys, Deploy{Status: d.Status, Actor: d.Actor, Trigger: d.Trigger,
			StartedAt: utc(d.StartedAt), FinishedAt: utc(d.FinishedAt), DurationSeconds: d.DurationSeconds, Digest: e.Digest})
	case "Rollback":
		var rb struct {
			Strategy, Status, Reason string
			StartedAt, FinishedAt    time.Time
			DurationSeconds          float64
		}
		if err := json.Unmarshal(data, &rb); err != nil {
			return time.Time{}, err
		}
		r.Rollbacks = append(r.Rollbacks, Rollback{Strategy: rb.Strategy, Status: rb.Status, StartedAt: rb.StartedAt.UTC(),
			FinishedAt: rb.FinishedAt.UTC(), DurationSeconds: rb.DurationSeconds, Reason: rb.Reason, Actor: e.Actor, Digest: e.Digest})
	case "Monitoring":
		var m struct{ Result string }
		if err := json.Unmarshal(data, &m); err != nil {
			return time.Time{}, err
		}
		if m.Result == "breach" {
			return e.CollectedAt, nil
		}
	}
	return time.Time{}, nil
}

// outcome sets the failure, restore and rollback figures of r.
func (b *builder) outcome(r *Release, failures []time.Time) {
	var succeeded []Rollback
	for _, rb := range r.Rollbacks {
		if rb.Status == "succeeded" {
			succeeded = append(succeeded, rb)
		}
	}
	slices.SortStableFunc(succeeded, func(x, y Rollback) int { return x.FinishedAt.Compare(y.FinishedAt) })
	r.RolledBack = len(succeeded) > 0
	r.Failed = r.Deployed && (r.RolledBack || r.VerificationFailed)
	if len(failures) > 0 {
		first := slices.MinFunc(failures, time.Time.Compare)
		r.FailedAt = &first
		for _, rb := range succeeded {
			if !rb.FinishedAt.Before(first) {
				at := rb.FinishedAt
				r.RestoredAt = &at
				r.TimeToRestoreSeconds = ptr(at.Sub(first).Seconds())
				break
			}
		}
	}
	var latest *Deploy
	for i, d := range r.Deploys {
		if d.Status != "succeeded" || d.DurationSeconds == nil {
			continue
		}
		if latest == nil || (d.FinishedAt != nil && latest.FinishedAt != nil && d.FinishedAt.After(*latest.FinishedAt)) {
			latest = &r.Deploys[i]
		}
	}
	if latest != nil {
		r.DeploySeconds = ptr(*latest.DurationSeconds)
	}
	if len(succeeded) > 0 {
		r.RollbackSeconds = ptr(succeeded[0].DurationSeconds)
	}
}

// postmortems lists the Postmortems that closed r's violations (by the
// period's end) and those recorded for r itself.
func (b *builder) postmortems(r *Release) {
	seen := map[string]bool{}
	add := func(digest string) {
		if seen[digest] {
			return
		}
		ev, ok := b.byDigest[digest]
		if !ok {
			return
		}
		seen[digest] = true
		pm, err := parsePostmortem(ev)
		if err != nil {
			return // a Postmortem that does not parse is shown as evidence only
		}
		r.Postmortems = append(r.Postmortems, pm)
	}
	for _, v := range r.Violations {
		if v.ClosedBy != "" {
			add(v.ClosedBy)
		}
	}
	for _, ev := range b.byRelease[r.ID] {
		if ev.Kind == "Postmortem" {
			add(ev.Digest)
		}
	}
	slices.SortStableFunc(r.Postmortems, func(x, y Postmortem) int { return x.RecordedAt.Compare(y.RecordedAt) })
}

func (b *builder) violation(v store.Violation) Violation {
	asOf, until := b.rep.Period.AsOf, b.opts.Until
	out := Violation{ID: v.ID, Kind: v.Kind, Gate: v.Gate, Decision: v.DecisionID, Rules: nonNil(v.Rules), Actor: v.Actor,
		Message: v.Message, OpenedAt: v.OpenedAt.UTC(), Due: v.Due.UTC(), Status: store.StatusOpen}
	if v.Status == store.StatusClosed && v.ClosedAt.Before(until) {
		at := v.ClosedAt.UTC()
		out.Status, out.ClosedAt, out.ClosedBy = store.StatusClosed, &at, v.ClosedBy
		out.Late = at.After(out.Due)
		out.LeadTimeSeconds = ptr(at.Sub(out.OpenedAt).Seconds())
	} else {
		out.Overdue = out.Due.Before(asOf)
	}
	return out
}

func (b *builder) override(d Decision, f Finding) Override {
	o := Override{Decision: d.ID, Gate: d.Gate, Rule: f.Rule, Approver: f.Approver, Digest: f.Override}
	if ev, ok := b.byDigest[f.Override]; ok {
		var doc struct {
			Data struct {
				Reason               string
				CreatedAt, ExpiresAt *time.Time
			}
		}
		if json.Unmarshal(ev.Body, &doc) == nil {
			o.Reason, o.CreatedAt, o.ExpiresAt = doc.Data.Reason, utc(doc.Data.CreatedAt), utc(doc.Data.ExpiresAt)
		}
	}
	return o
}

// envelope is the part of an evidence document every kind has.
type envelope struct {
	Collector struct {
		Name  string `json:"name"`
		Actor string `json:"actor"`
	} `json:"collector"`
	Data json.RawMessage `json:"data"`
}

func parseEvidence(ev store.Evidence) (Evidence, envelope, error) {
	var doc envelope
	if err := json.Unmarshal(ev.Body, &doc); err != nil {
		return Evidence{}, envelope{}, fmt.Errorf("evidence %s: %w", ev.Digest, err)
	}
	return Evidence{Kind: ev.Kind, Digest: ev.Digest, Collector: doc.Collector.Name, Actor: doc.Collector.Actor,
		CollectedAt: ev.CollectedAt.UTC(), RecordedAt: ev.AddedAt.UTC(), Entry: ev.Seq}, doc, nil
}

func parsePostmortem(ev store.Evidence) (Postmortem, error) {
	var doc struct {
		Data struct {
			Violations                []string
			Summary, Author, Incident string
			URL                       string `json:"url"`
			CompletedAt               time.Time
		}
	}
	if err := json.Unmarshal(ev.Body, &doc); err != nil {
		return Postmortem{}, err
	}
	d := doc.Data
	return Postmortem{Digest: ev.Digest, Author: d.Author, Summary: d.Summary, Incident: d.Incident, URL: d.URL,
		CompletedAt: d.CompletedAt.UTC(), RecordedAt: ev.AddedAt.UTC(), Violations: nonNil(d.Violations)}, nil
}

// decision turns a recorded decision into its report form, explained.
func (b *builder) decision(ctx context.Context, d recorded) Decision {
	rec := d.rec.Decision
	out := Decision{ID: d.ID, Gate: d.Gate, Allow: d.Allow, Reason: d.Reason, DryRun: d.DryRun,
		EvaluatedAt: d.EvaluatedAt.UTC(), Entry: d.Seq, PolicyRevision: rec.Policy.Revision, InputDigest: rec.Input.Digest,
		Rules: nonNil(rec.Rules), Evidence: nonNil(rec.Evidence), Ignored: nonNil(rec.Ignored),
		Violations: b.findings(rec.Violations), Overridden: b.findings(rec.Overridden), Warnings: b.findings(rec.Warnings),
		Obligations: nonNil(rec.Obligations), Opened: nonNil(rec.Opened), Freeze: []string{}}
	for _, o := range rec.Obligations {
		if d.Gate == "deploy" && d.Allow && o.Kind == obligationPostmortem {
			out.Emergency = true
		}
	}
	if d.Gate == "deploy" {
		out.Freeze = b.freeze(d, out)
	}
	if d.Gate == gateReconcile {
		out.Observed = observed(d.Body)
	}
	out.Explanation = b.explain(ctx, d, out)
	return out
}

// observed reads what a reconcile recorded; nil when the body has none.
func observed(body []byte) *Observation {
	var rec struct {
		Observed *Observation `json:"observed"`
	}
	if json.Unmarshal(body, &rec) != nil || rec.Observed == nil {
		return nil
	}
	o := rec.Observed
	o.At = o.At.UTC()
	if o.Process.StartedAt != nil && o.Process.StartedAt.IsZero() {
		o.Process.StartedAt = nil // PM2 gave no start time
	}
	o.Process.StartedAt = utc(o.Process.StartedAt)
	if e := o.Explained; e != nil {
		e.StartedAt, e.FinishedAt = e.StartedAt.UTC(), e.FinishedAt.UTC()
	}
	return o
}

func (b *builder) findings(fs []engine.Finding) []Finding {
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		title := f.Title
		if title == "" {
			title = b.title(f.Rule)
		}
		out = append(out, Finding{Rule: f.Rule, Title: title, Enforcement: f.Enforcement, Message: f.Message,
			Evidence: nonNil(f.Evidence), Remediation: f.Remediation, Override: f.Override, Approver: f.Approver})
	}
	return out
}

// freeze lists the freeze windows active at a deploy decision: those the
// policy set's calendar had at the evaluation time, when the decision was
// made under that policy set; otherwise the finding that reported one.
func (b *builder) freeze(d recorded, dec Decision) []string {
	out := []string{}
	if b.sameRevision(d.rec.Decision) {
		if ws, err := b.windows(d.rec.Release, d.EvaluatedAt); err == nil {
			return ws
		}
	}
	for _, fs := range [][]Finding{dec.Violations, dec.Overridden, dec.Warnings} {
		for _, f := range fs {
			if f.Rule == ruleHardWindow && !slices.Contains(out, ruleHardWindow) {
				out = append(out, ruleHardWindow)
			}
		}
	}
	return out
}

// windows reads input.facts.freeze.windows of the deploy input at now.
func (b *builder) windows(rel engine.Release, now time.Time) ([]string, error) {
	raw, err := b.opts.Engine.InputDocument(engine.Input{Gate: "deploy", Release: rel, Now: now})
	if err != nil {
		return nil, err
	}
	var in struct {
		Facts struct {
			Freeze struct {
				Windows []struct {
					ID string `json:"id"`
				} `json:"windows"`
			} `json:"freeze"`
		} `json:"facts"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, err
	}
	out := []string{}
	for _, w := range in.Facts.Freeze.Windows {
		out = append(out, w.ID)
	}
	return out, nil
}

func (b *builder) sameRevision(d *engine.Decision) bool {
	e := b.opts.Engine
	return e != nil && d.Policy.Revision == e.Revision() && d.Policy.Bundle == e.BundleRevision()
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func ptr[T any](v T) *T { return &v }

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// short is a digest's first 12 hex characters.
func short(s string) string {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
