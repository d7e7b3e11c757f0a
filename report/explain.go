package report

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
)

// explain says why d came out as it did. A denial is explained by its
// findings: what failed, on which evidence, and the remediation. An
// allowed decision lists the rules that held; when the decision can be
// evaluated again under the same policy revision, each rule is attributed
// to the documents without which it would have fired.
func (b *builder) explain(ctx context.Context, d recorded, dec Decision) Explanation {
	if dec.Gate == gateReconcile {
		return reconcileExplanation(dec, b.title)
	}
	var satisfied map[string][]string
	var note string
	if dec.Allow {
		satisfied, note = b.attribute(ctx, d)
	}
	return explanation(dec, satisfied, note, b.title)
}

// Explain explains rec, a decision the policy set of eng made from in, as
// a report explains its decisions: a denial by what failed, on which
// evidence, and the remediation that would make it pass; an allowed
// decision by the rules that held, each attributed to the documents without
// which it would have fired, when evaluating in again reproduces rec. The
// replay of an audit pack uses it, with the pack's own policy bundle.
// rules (the engine's rule catalog, Engine.Catalog; may be nil) titles the
// rules that held.
func Explain(ctx context.Context, eng *engine.Engine, in engine.Input, rec *engine.Decision, rules engine.Catalog) Explanation {
	titles := map[string]string{engine.RuleEvidenceMissing: "Required evidence is present"}
	for id, r := range rules {
		titles[id] = r.Title
	}
	conv := func(fs []engine.Finding) []Finding {
		out := make([]Finding, 0, len(fs))
		for _, f := range fs {
			if f.Title != "" && titles[f.Rule] == "" {
				titles[f.Rule] = f.Title
			}
			out = append(out, Finding{Rule: f.Rule, Title: f.Title, Enforcement: f.Enforcement, Message: f.Message,
				Evidence: nonNil(f.Evidence), Remediation: f.Remediation, Override: f.Override, Approver: f.Approver})
		}
		return out
	}
	dec := Decision{ID: rec.ID, Gate: rec.Gate, Allow: rec.Allow, Reason: rec.Reason, Rules: nonNil(rec.Rules),
		Evidence: nonNil(rec.Evidence), Ignored: nonNil(rec.Ignored), Violations: conv(rec.Violations),
		Overridden: conv(rec.Overridden), Warnings: conv(rec.Warnings)}
	for _, o := range rec.Obligations {
		if rec.Gate == "deploy" && rec.Allow && o.Kind == obligationPostmortem {
			dec.Emergency = true
		}
	}
	var satisfied map[string][]string
	var note string
	if rec.Allow {
		satisfied, note = attributeRules(ctx, eng, in, rec)
	}
	return explanation(dec, satisfied, note, func(rule string) string { return titles[rule] })
}

// explanation words dec's outcome; satisfied maps each rule that held to
// the documents that satisfied it (nil when not attributed, note says why).
func explanation(dec Decision, satisfied map[string][]string, note string, title func(string) string) Explanation {
	ex := Explanation{Rules: []RuleOutcome{}, Note: note, Attributed: satisfied != nil}
	kinds := evidenceKinds(dec.Evidence)
	if dec.Allow {
		ex.Summary = fmt.Sprintf("Allowed at the %s gate: the %d rules that apply there reported no violation, on %d counted documents (%s).",
			dec.Gate, len(dec.Rules), len(dec.Evidence), kinds)
	} else {
		failed := failedRules(dec)
		ex.Summary = fmt.Sprintf("Denied at the %s gate (%s): %d %s failed (%s), on %d counted documents (%s).",
			dec.Gate, dec.Reason, len(failed), plural(len(failed), "rule", "rules"), strings.Join(failed, ", "), len(dec.Evidence), kinds)
	}
	if n := len(dec.Overridden); n > 0 {
		ex.Summary += fmt.Sprintf(" %d soft %s lifted by an Override.", n, plural(n, "violation was", "violations were"))
	}
	if n := len(dec.Warnings); n > 0 {
		ex.Summary += fmt.Sprintf(" %d advisory %s.", n, plural(n, "warning", "warnings"))
	}
	if n := len(dec.Ignored); n > 0 {
		ex.Summary += fmt.Sprintf(" %d offered %s did not count.", n, plural(n, "document", "documents"))
	}
	if dec.Emergency {
		ex.Summary += " Emergency path: the freeze and incident rules were lifted, and a postmortem is owed."
	}

	reported := map[string]bool{}
	group := func(outcome string, fs []Finding) {
		var order []string
		by := map[string][]Finding{}
		for _, f := range fs {
			if _, ok := by[f.Rule]; !ok {
				order = append(order, f.Rule)
			}
			by[f.Rule] = append(by[f.Rule], f)
		}
		for _, rule := range order {
			reported[rule] = true
			o := RuleOutcome{Rule: rule, Title: by[rule][0].Title, Outcome: outcome, SatisfiedBy: []string{}, Evidence: []string{},
				Remediation: by[rule][0].Remediation}
			var details []string
			for _, f := range by[rule] {
				msg := f.Message
				if outcome == Overridden {
					msg = fmt.Sprintf("%s (lifted by %s, Override %s)", f.Message, f.Approver, short(f.Override))
				}
				details = append(details, msg)
				for _, e := range f.Evidence {
					if !slices.Contains(o.Evidence, e) {
						o.Evidence = append(o.Evidence, e)
					}
				}
			}
			o.Detail = strings.Join(details, "; ")
			if o.Title == "" {
				o.Title = title(rule)
			}
			ex.Rules = append(ex.Rules, o)
		}
	}
	group(Violated, dec.Violations)
	group(Overridden, dec.Overridden)
	group(Warned, dec.Warnings)
	if !dec.Allow {
		return ex
	}
	held := slices.Clone(dec.Rules)
	if _, ok := satisfied[engine.RuleEvidenceMissing]; ok {
		held = append([]string{engine.RuleEvidenceMissing}, held...)
	}
	for _, rule := range held {
		if reported[rule] {
			continue
		}
		ex.Rules = append(ex.Rules, RuleOutcome{Rule: rule, Title: title(rule), Outcome: Held,
			SatisfiedBy: nonNil(satisfied[rule]), Evidence: []string{}})
	}
	return ex
}

// reconcileExplanation words a reconcile: it compared what runs with the
// ledger, so there is no policy evaluation to attribute; its findings are
// explained as a denial's are.
func reconcileExplanation(dec Decision, title func(string) string) Explanation {
	ex := explanation(dec, nil, "", title)
	if dec.Allow {
		ex.Summary = "No drift: what runs is what the ledger says was released."
	} else {
		failed := failedRules(dec)
		ex.Summary = fmt.Sprintf("Drift: %d %s failed (%s): what runs is not what the ledger says was released.",
			len(failed), plural(len(failed), "rule", "rules"), strings.Join(failed, ", "))
	}
	return ex
}

// failedRules are the rules of dec's violations, each once, in order.
func failedRules(dec Decision) []string {
	var failed []string
	for _, f := range dec.Violations {
		if !slices.Contains(failed, f.Rule) {
			failed = append(failed, f.Rule)
		}
	}
	return failed
}

// attribute evaluates d again with the same evidence and, if that
// reproduces it, once more without each counted document in turn: the rules
// that then fire are the ones that document satisfied. It returns nil and
// why when it cannot.
func (b *builder) attribute(ctx context.Context, d recorded) (map[string][]string, string) {
	rec, rp := d.rec.Decision, d.rec.Replay
	switch {
	case b.opts.Engine == nil || b.opts.Validator == nil:
		return nil, "No policy set was given to the report, so the rules are not attributed to documents."
	case rp.Gate == "" || rec.Input.Digest == "":
		return nil, "The ledger entry has no replay record, so the rules are not attributed to documents."
	case !b.sameRevision(rec):
		return nil, fmt.Sprintf("The decision was made under policy revision %s, not the one this report was given (%s), so the rules are not attributed to documents.",
			short(rec.Policy.Revision), short(b.opts.Engine.Revision()))
	}
	in := engine.Input{Gate: rp.Gate, Release: rp.Release, Now: rp.Now, Violations: rp.Violations}
	for _, dg := range rp.Evidence {
		doc, err := b.decode(dg)
		if err != nil {
			return nil, fmt.Sprintf("Recorded evidence %s cannot be decoded again (%v), so the rules are not attributed to documents.", short(dg), err)
		}
		in.Evidence = append(in.Evidence, doc)
	}
	// The gate offers the ledger's documents in ledger order.
	slices.SortStableFunc(in.Evidence, func(x, y *evidence.Document) int {
		return int(b.byDigest[x.Digest].Seq - b.byDigest[y.Digest].Seq)
	})
	return attributeRules(ctx, b.opts.Engine, in, rec)
}

// attributeRules evaluates in with eng and, if that reproduces the allowed
// decision rec, once more without each counted document in turn: the rules
// that then fire are the ones that document satisfied. It returns nil and
// why when it cannot.
func attributeRules(ctx context.Context, eng *engine.Engine, in engine.Input, rec *engine.Decision) (map[string][]string, string) {
	base, err := eng.Evaluate(ctx, in)
	if err != nil || !base.Allow || base.Input.Digest != rec.Input.Digest {
		return nil, "Evaluating the decision again did not reproduce it, so the rules are not attributed to documents."
	}
	before := firedRules(base)
	out := map[string][]string{}
	for _, ref := range base.Evidence {
		without := in
		without.Evidence = slices.DeleteFunc(slices.Clone(in.Evidence), func(doc *evidence.Document) bool { return doc.Digest == ref.Digest })
		d2, err := eng.Evaluate(ctx, without)
		if err != nil {
			return nil, fmt.Sprintf("Evaluating the decision without %s failed (%v), so the rules are not attributed to documents.", short(ref.Digest), err)
		}
		for rule := range firedRules(d2) {
			if !before[rule] {
				out[rule] = append(out[rule], ref.Digest)
			}
		}
	}
	return out, ""
}

func firedRules(d *engine.Decision) map[string]bool {
	m := map[string]bool{}
	for _, fs := range [][]engine.Finding{d.Violations, d.Overridden, d.Warnings} {
		for _, f := range fs {
			m[f.Rule] = true
		}
	}
	return m
}

// decode returns a recorded document decoded and validated, once per
// digest.
func (b *builder) decode(digest string) (*evidence.Document, error) {
	if doc, ok := b.docs[digest]; ok {
		return doc, nil
	}
	ev, ok := b.byDigest[digest]
	if !ok {
		return nil, fmt.Errorf("not in the ledger before %s", b.opts.Until.UTC().Format("2006-01-02T15:04:05Z"))
	}
	src := ev.Source
	if src == "" {
		src = fmt.Sprintf("ledger entry %d", ev.Seq)
	}
	// A signed document is read from its envelope, as the gate read it, so
	// its signers are verified again and seen by the policies.
	doc, err := b.opts.Validator.Decode(src, ev.Recorded())
	if err != nil {
		return nil, err
	}
	b.docs[digest] = doc
	return doc, nil
}

// evidenceKinds names the kinds of refs, each once, in order.
func evidenceKinds(refs []engine.EvidenceRef) string {
	var kinds []string
	for _, r := range refs {
		if !slices.Contains(kinds, r.Kind) {
			kinds = append(kinds, r.Kind)
		}
	}
	if len(kinds) == 0 {
		return "none"
	}
	return strings.Join(kinds, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
