package auditpack

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/internal/targz"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/report"
	"github.com/localizevideos/shipgate/store"
)

// Options configure Check.
type Options struct {
	// Validator decodes the evidence (required).
	Validator *evidence.Validator
	// PublicKey pins the checkpoint's key. Without it the pack's own
	// checkpoint.pub is used, which proves the pack is consistent but not
	// whose ledger it came from: Result.Checkpoint.KeyPinned says which.
	PublicKey ed25519.PublicKey
	// Timeout bounds one policy evaluation (zero: engine.DefaultTimeout).
	Timeout time.Duration
	// EvidenceKeys pins the keys trusted to have signed the evidence: the
	// signed documents are read with these only. Without them the pack's
	// own keys are trusted (its keys/ files, each checked against the key
	// id it names), which reproduces what the gate read but not that the
	// gate was right to trust them: Result.EvidenceKeys.Pinned says which.
	EvidenceKeys *evidence.Keyring
}

// KeysInfo says which keys the signed evidence was read with.
type KeysInfo struct {
	// IDs are the trusted key ids, sorted.
	IDs []string `json:"ids"`
	// Pinned is true when the keys were given to Check (Options.
	// EvidenceKeys), false when they are the pack's own.
	Pinned bool `json:"pinned"`
}

// Decision statuses.
const (
	// Match: evaluated again, the decision is the recorded one, bit for bit
	// (canonical JSON, except the members listed in Ignored).
	Match = "match"
	// Differs: evaluated again, the decision is not the recorded one.
	Differs = "differs"
	// NotReplayed: the recorded decision was not a policy answer (see
	// Skip), so there is nothing to evaluate; its entry was verified.
	NotReplayed = "not-replayed"
	// Tampered: the decision, its entry, its evidence or its policy bundle
	// is not what the signed ledger holds.
	Tampered = "tampered"
)

// Ignored are the decision members a replay does not reproduce, because
// the gate, not the policies, sets them: the decision id, whether it was a
// dry run, and the ids of the violations the ledger opened for it. They
// are copied from the recorded decision before comparing.
var Ignored = []string{"id", "dryRun", "opened"}

// Problem is one thing in the pack that is not what was exported.
type Problem struct {
	File     string `json:"file,omitempty"`
	Entry    int64  `json:"entry,omitempty"`
	Decision string `json:"decision,omitempty"`
	Reason   string `json:"reason"`
}

func (p Problem) String() string {
	var where []string
	if p.File != "" {
		where = append(where, p.File)
	}
	if p.Entry != 0 {
		where = append(where, fmt.Sprintf("entry %d", p.Entry))
	}
	if p.Decision != "" {
		where = append(where, "decision "+p.Decision)
	}
	if len(where) == 0 {
		return p.Reason
	}
	return strings.Join(where, ", ") + ": " + p.Reason
}

// Difference is one member of a decision that the replay answers
// differently. For violations, overridden and warnings it names the rule.
type Difference struct {
	Field    string          `json:"field"`
	Rule     string          `json:"rule,omitempty"`
	Recorded json.RawMessage `json:"recorded,omitempty"`
	Replayed json.RawMessage `json:"replayed,omitempty"`
}

// DecisionResult is one decision of the pack, checked.
type DecisionResult struct {
	ID             string    `json:"id"`
	Gate           string    `json:"gate"`
	Release        string    `json:"release"`
	Entry          int64     `json:"entry"`
	EvaluatedAt    time.Time `json:"evaluatedAt"`
	Allow          bool      `json:"allow"`
	Reason         string    `json:"reason"`
	DryRun         bool      `json:"dryRun,omitempty"`
	PolicyRevision string    `json:"policyRevision"`
	// Evidence are the documents that counted for the recorded decision.
	Evidence []engine.EvidenceRef `json:"evidence"`
	Status   string               `json:"status"`
	// Why says why a decision was not replayed, differs without a field
	// difference (a fault), or was tampered with.
	Why         string              `json:"why,omitempty"`
	Differences []Difference        `json:"differences,omitempty"`
	Explanation *report.Explanation `json:"explanation,omitempty"`
}

// CheckpointInfo is the checkpoint a pack is proved against.
type CheckpointInfo struct {
	Origin string    `json:"origin"`
	Size   int64     `json:"size"`
	Root   string    `json:"root"`
	Head   string    `json:"head"`
	Time   time.Time `json:"time"`
	KeyID  string    `json:"keyId"`
	// KeyPinned is true when the signature was checked with a key given to
	// Check, false when with the pack's own.
	KeyPinned bool `json:"keyPinned"`
	Valid     bool `json:"valid"`
}

// Counts sums the decision statuses.
type Counts struct {
	Decisions   int `json:"decisions"`
	Match       int `json:"match"`
	Differs     int `json:"differs"`
	NotReplayed int `json:"notReplayed"`
	Tampered    int `json:"tampered"`
}

// Result is a checked pack.
type Result struct {
	Format     string         `json:"format"`
	Created    time.Time      `json:"created"`
	Selection  Selection      `json:"selection"`
	Checkpoint CheckpointInfo `json:"checkpoint"`
	// EvidenceKeys are the keys the signed evidence was read with.
	EvidenceKeys KeysInfo         `json:"evidenceKeys"`
	Ignored      []string         `json:"ignored"`
	Tampered     []Problem        `json:"tampered"`
	Decisions    []DecisionResult `json:"decisions"`
	Counts       Counts           `json:"counts"`
	// OK is true when nothing was tampered with and every replayed
	// decision matches.
	OK bool `json:"ok"`
}

// Skip says why a recorded decision is not a policy answer that a replay
// can reproduce, or "" when it is: the gate refused the evidence before any
// policy ran, the engine faulted, it records what reconcile observed or
// what a sweep found, the entry predates the replay record, or no Plan
// named the release so nothing was evaluated.
func Skip(rec gate.Record) string {
	d := rec.Decision
	switch {
	case d.Reason == engine.ReasonEvidenceInvalid:
		return "the gate refused the evidence before any policy ran"
	case strings.HasPrefix(d.Reason, "engine."), d.Reason == engine.ReasonStore:
		return "an engine or store fault, not a policy answer (" + d.Reason + ")"
	case rec.Replay.Gate == "" && rec.Gate == "reconcile":
		return "a reconcile finding (pm2 and git state observed, not a policy evaluation)"
	case rec.Replay.Gate == "" && rec.Gate == gate.SweepGate:
		return "a sweep finding (a succeeded deploy no verify gate allowed in time, not a policy evaluation)"
	case rec.Replay.Gate == "":
		return "the entry predates the replay record"
	case d.Input.Digest == "":
		return "the gate denied before evaluating (no Plan named the release)"
	}
	return ""
}

type checkedEntry struct {
	entry ledger.Entry
	ok    bool
}

type checkedEvidence struct {
	doc *evidence.Document
	seq int64
	bad string // why the document cannot be used
	// rejected: the document is the ledger's, but the validator rejects
	// it now (schemas, or signatures without their key).
	rejected bool
}

type loadedPolicy struct {
	eng   *engine.Engine
	ref   PolicyRef
	rules engine.Catalog
}

// checker holds one Check's state.
type checker struct {
	a        *Archive
	opts     Options
	res      *Result
	cp       *ledger.Checkpoint
	entries  map[int64]*checkedEntry
	evidence map[string]*checkedEvidence
	policies []loadedPolicy
}

func (c *checker) tamper(p Problem) { c.res.Tampered = append(c.res.Tampered, p) }

// Check verifies a pack and evaluates each of its decisions again. It
// returns an error only when it cannot do its work (no validator, a
// cancelled context, a policy bundle past the limits of policyset.ReadBundle:
// a *FormatError naming it); everything else wrong with the pack is in the
// Result.
func Check(ctx context.Context, a *Archive, opts Options) (*Result, error) {
	if opts.Validator == nil {
		return nil, errors.New("audit pack: no evidence validator")
	}
	m := a.Manifest
	c := &checker{a: a, opts: opts, entries: map[int64]*checkedEntry{}, evidence: map[string]*checkedEvidence{},
		res: &Result{Format: m.Format, Created: m.Created, Selection: m.Selection, Ignored: Ignored,
			Tampered: []Problem{}, Decisions: []DecisionResult{}}}
	c.files()
	c.evidenceKeys()
	c.checkpoint()
	c.entriesAndProofs()
	c.evidenceFiles()
	if err := c.policyFiles(ctx); err != nil {
		return nil, err
	}
	listed := map[int64]bool{}
	for _, ref := range m.Decisions {
		listed[ref.Entry] = true
	}
	for _, seq := range sortedKeys(c.entries) {
		if e := c.entries[seq]; e.ok && e.entry.Type == ledger.TypeDecision && !listed[seq] {
			c.tamper(Problem{Entry: seq, Decision: e.entry.Key, Reason: "a decision entry of the pack that the manifest does not list"})
		}
	}
	for _, ref := range m.Decisions {
		r, err := c.decision(ctx, ref)
		if err != nil {
			return nil, err
		}
		c.res.Decisions = append(c.res.Decisions, r)
		switch r.Status {
		case Match:
			c.res.Counts.Match++
		case Differs:
			c.res.Counts.Differs++
		case NotReplayed:
			c.res.Counts.NotReplayed++
		case Tampered:
			c.res.Counts.Tampered++
		}
	}
	c.res.Counts.Decisions = len(c.res.Decisions)
	c.res.OK = len(c.res.Tampered) == 0 && c.res.Counts.Differs == 0 && c.res.Counts.Tampered == 0
	return c.res, nil
}

// evidenceKeys sets the keys the signed evidence is read with: the pinned
// ones, else the pack's, each of which must hold the key its id names.
func (c *checker) evidenceKeys() {
	keys := c.opts.EvidenceKeys
	c.res.EvidenceKeys.Pinned = keys != nil
	if keys == nil {
		keys = evidence.NewKeyring()
		for _, ref := range c.a.Manifest.Keys {
			b, ok := c.a.Files[ref.File]
			if !ok {
				continue // files() reported it
			}
			pub, err := ledger.ParsePublicKey(b)
			if err != nil {
				c.tamper(Problem{File: ref.File, Reason: err.Error()})
				continue
			}
			if id := evidence.KeyID(pub); id != ref.ID {
				c.tamper(Problem{File: ref.File, Reason: fmt.Sprintf("holds key %s, not the %s the manifest names", id, ref.ID)})
				continue
			}
			keys.Add(pub)
		}
	}
	c.res.EvidenceKeys.IDs = keys.IDs()
	if c.res.EvidenceKeys.IDs == nil {
		c.res.EvidenceKeys.IDs = []string{}
	}
	c.opts.Validator = c.opts.Validator.WithKeys(keys)
}

// files compares the archive with the manifest's list.
func (c *checker) files() {
	listed := map[string]bool{ManifestFile: true}
	for _, f := range c.a.Manifest.Files {
		listed[f.Path] = true
		b, ok := c.a.Files[f.Path]
		switch {
		case !ok:
			c.tamper(Problem{File: f.Path, Reason: "listed in the manifest but missing from the pack"})
		case int64(len(b)) != f.Size || sha256Hex(b) != f.SHA256:
			c.tamper(Problem{File: f.Path, Reason: fmt.Sprintf("SHA-256 %s (%d bytes); the manifest says %s (%d bytes)", sha256Hex(b), len(b), f.SHA256, f.Size)})
		}
	}
	for _, name := range c.a.Names {
		if !listed[name] {
			c.tamper(Problem{File: name, Reason: "in the pack but not listed in the manifest"})
		}
	}
}

func (c *checker) checkpoint() {
	info := &c.res.Checkpoint
	b, ok := c.a.Files[CheckpointFile]
	if !ok {
		c.tamper(Problem{File: CheckpointFile, Reason: "missing: nothing in the pack can be proved"})
		return
	}
	var cp ledger.Checkpoint
	if err := decodeStrict(b, &cp); err != nil {
		c.tamper(Problem{File: CheckpointFile, Reason: "does not decode: " + err.Error()})
		return
	}
	*info = CheckpointInfo{Origin: cp.Origin, Size: cp.Size, Root: cp.Root, Head: cp.Head, Time: cp.Time, KeyID: cp.KeyID}
	pub := c.opts.PublicKey
	info.KeyPinned = pub != nil
	if pub == nil {
		pb, ok := c.a.Files[PublicKeyFile]
		if !ok {
			c.tamper(Problem{File: PublicKeyFile, Reason: "missing, and no key was given to check the checkpoint with"})
			return
		}
		k, err := ledger.ParsePublicKey(pb)
		if err != nil {
			c.tamper(Problem{File: PublicKeyFile, Reason: err.Error()})
			return
		}
		pub = k
	}
	if err := cp.Verify(pub); err != nil {
		c.tamper(Problem{File: CheckpointFile, Reason: err.Error()})
		return
	}
	info.Valid = true
	c.cp = &cp
}

// entriesAndProofs verifies every entry's hash, its link to the entry
// before when that is in the pack too, and its inclusion proof.
func (c *checker) entriesAndProofs() {
	proofs := map[int64][]string{}
	if b, ok := c.a.Files[ProofsFile]; !ok {
		c.tamper(Problem{File: ProofsFile, Reason: "missing"})
	} else {
		var p Proofs
		if err := decodeStrict(b, &p); err != nil {
			c.tamper(Problem{File: ProofsFile, Reason: "does not decode: " + err.Error()})
		} else {
			for _, pr := range p.Proofs {
				proofs[pr.Seq] = pr.Hashes
			}
		}
	}
	refs := slices.Clone(c.a.Manifest.Entries)
	slices.SortFunc(refs, func(x, y EntryRef) int { return int(x.Seq - y.Seq) })
	for _, ref := range refs {
		ce := &checkedEntry{}
		c.entries[ref.Seq] = ce
		fail := func(reason string) { c.tamper(Problem{File: ref.File, Entry: ref.Seq, Reason: reason}) }
		body, ok := c.a.Files[ref.File]
		if !ok {
			fail("missing")
			continue
		}
		e, err := entryOf(body)
		if err != nil {
			fail("the entry was changed: " + err.Error())
			continue
		}
		ce.entry = e
		if e.Seq != ref.Seq {
			fail(fmt.Sprintf("the entry says it is number %d", e.Seq))
			continue
		}
		if prev, ok := c.entries[e.Seq-1]; ok && prev.ok && prev.entry.Hash != e.Prev {
			fail(fmt.Sprintf("previous hash %s is not entry %d's hash %s", e.Prev, e.Seq-1, prev.entry.Hash))
			continue
		}
		if c.cp == nil {
			fail("not proved: the checkpoint does not verify")
			continue
		}
		if e.Seq == c.cp.Size && e.Hash != c.cp.Head {
			fail(fmt.Sprintf("hash %s is not the checkpoint's head %s", e.Hash, c.cp.Head))
			continue
		}
		path, ok := proofs[e.Seq]
		if !ok {
			fail("no inclusion proof in " + ProofsFile)
			continue
		}
		if err := verifyInclusion(c.cp, e.Seq, e.Hash, path); err != nil {
			fail(err.Error())
			continue
		}
		ce.ok = true
	}
}

// evidenceFiles checks each document against the payload of its entry and
// decodes it as the gate did.
func (c *checker) evidenceFiles() {
	for _, ref := range c.a.Manifest.Evidence {
		ce := &checkedEvidence{seq: ref.Entry}
		c.evidence[ref.Digest] = ce
		fail := func(reason string) {
			ce.bad = reason
			c.tamper(Problem{File: ref.File, Entry: ref.Entry, Reason: reason})
		}
		body, ok := c.a.Files[ref.File]
		if !ok {
			ce.bad = "its file " + ref.File + " is missing"
			continue
		}
		ent := c.entries[ref.Entry]
		if ent == nil || !ent.ok {
			ce.bad = fmt.Sprintf("its ledger entry %d is not proved", ref.Entry)
			continue
		}
		if ent.entry.Type != ledger.TypeEvidence || ent.entry.Key != ref.Digest {
			fail(fmt.Sprintf("entry %d records %s %s, not evidence %s", ref.Entry, ent.entry.Type, ent.entry.Key, ref.Digest))
			continue
		}
		ev, err := store.EvidenceOf(ent.entry)
		if err != nil {
			fail(err.Error())
			continue
		}
		if !bytes.Equal(ev.Body, body) {
			fail(fmt.Sprintf("the document (%s) is not the one ledger entry %d recorded (%s)", evidence.DigestOf(body), ref.Entry, ref.Digest))
			continue
		}
		// A signed document is read from its envelope, as the gate reads
		// it, so its signers are verified with the keys trusted now.
		if len(ev.Envelope) > 0 || ref.Envelope != "" {
			env, ok := c.a.Files[ref.Envelope]
			if !ok || !bytes.Equal(env, ev.Envelope) {
				name := ref.Envelope
				if name == "" {
					name = ref.File
				}
				ce.bad = fmt.Sprintf("the signed envelope is not the one ledger entry %d recorded", ref.Entry)
				c.tamper(Problem{File: name, Entry: ref.Entry, Reason: ce.bad})
				continue
			}
			body = env
		}
		src := ev.Source
		if src == "" {
			src = fmt.Sprintf("ledger entry %d", ev.Seq)
		}
		doc, err := c.opts.Validator.Decode(src, body)
		if err != nil {
			ce.bad, ce.rejected = "rejected by the evidence validator now (its schemas, or a signature without a trusted key): "+err.Error(), true
			continue
		}
		ce.doc = doc
	}
}

// policyFiles loads each bundle and checks the policy revision it
// computes.
func (c *checker) policyFiles(ctx context.Context) error {
	named := map[int64]bool{}
	for _, ref := range c.a.Manifest.Policies {
		b, ok := c.a.Files[ref.File]
		if !ok {
			continue
		}
		// A set the ledger recorded comes with its entry: the bundle must
		// be that entry's set, which its revision says (the entry's key is
		// the revision its modules and data compute).
		if ref.Entry != 0 {
			named[ref.Entry] = true
			ent := c.entries[ref.Entry]
			switch {
			case ent == nil || !ent.ok:
				c.tamper(Problem{File: ref.File, Entry: ref.Entry, Reason: fmt.Sprintf("its ledger entry %d is not proved", ref.Entry)})
				continue
			case ent.entry.Type != store.TypePolicy || ent.entry.Key != ref.Revision:
				c.tamper(Problem{File: ref.File, Entry: ref.Entry, Reason: fmt.Sprintf("entry %d records %s %s, not policy set %s", ref.Entry, ent.entry.Type, ent.entry.Key, ref.Revision)})
				continue
			}
			if _, err := store.PolicyOf(ent.entry); err != nil {
				c.tamper(Problem{File: ref.File, Entry: ref.Entry, Reason: err.Error()})
				continue
			}
		}
		bun, err := policyset.ReadBundle(bytes.NewReader(b), nil)
		// A bundle past its limits is not read on: a gzip bomb is no
		// evidence of anything, and the replay stops with it named.
		if le := (*targz.LimitError)(nil); errors.As(err, &le) {
			return &FormatError{File: ref.File, Reason: "policy bundle: " + le.Error()}
		}
		if err != nil {
			c.tamper(Problem{File: ref.File, Reason: err.Error()})
			continue
		}
		// Replayed as recorded, even if this version's data schema has
		// changed since.
		eng, err := engine.Load(ctx, engine.Options{Bundle: bun, Timeout: c.opts.Timeout, Recorded: true})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c.tamper(Problem{File: ref.File, Reason: "the policies do not load: " + err.Error()})
			continue
		}
		if eng.Revision() != ref.Revision || eng.BundleRevision() != ref.Bundle {
			c.tamper(Problem{File: ref.File, Reason: fmt.Sprintf("computes policy revision %s (bundle %q); the manifest says %s (bundle %q)",
				eng.Revision(), eng.BundleRevision(), ref.Revision, ref.Bundle)})
		}
		// The rule titles of the explanations, from the catalog the engine
		// read at load; without them explanations still name the rules.
		rules := eng.Catalog()
		c.policies = append(c.policies, loadedPolicy{eng: eng, ref: ref, rules: rules})
	}
	for _, seq := range sortedKeys(c.entries) {
		if e := c.entries[seq]; e.ok && e.entry.Type == store.TypePolicy && !named[seq] {
			c.tamper(Problem{Entry: seq, Reason: "a policy entry of the pack that the manifest does not list"})
		}
	}
	return nil
}

func (c *checker) decision(ctx context.Context, ref DecisionRef) (DecisionResult, error) {
	r := DecisionResult{ID: ref.ID, Entry: ref.Entry, Status: Tampered}
	fail := func(reason string) DecisionResult {
		r.Why = reason
		c.tamper(Problem{File: ref.File, Entry: ref.Entry, Decision: ref.ID, Reason: reason})
		return r
	}
	body, ok := c.a.Files[ref.File]
	if !ok {
		return fail("missing"), nil
	}
	ent := c.entries[ref.Entry]
	if ent == nil || !ent.ok {
		r.Why = fmt.Sprintf("its ledger entry %d is not proved", ref.Entry)
		return r, nil
	}
	if ent.entry.Type != ledger.TypeDecision || ent.entry.Key != ref.ID {
		return fail(fmt.Sprintf("entry %d records %s %s, not decision %s", ref.Entry, ent.entry.Type, ent.entry.Key, ref.ID)), nil
	}
	if !bytes.Equal(ent.entry.Payload, body) {
		return fail(fmt.Sprintf("the decision is not the body of ledger entry %d", ref.Entry)), nil
	}
	rec := gate.Record{Decision: &engine.Decision{}}
	if err := json.Unmarshal(body, &rec); err != nil {
		return fail("does not decode: " + err.Error()), nil
	}
	d := rec.Decision
	r.Gate, r.Release, r.EvaluatedAt, r.Allow, r.Reason, r.DryRun, r.PolicyRevision =
		d.Gate, d.Release.ID, d.EvaluatedAt, d.Allow, d.Reason, d.DryRun, d.Policy.Revision
	r.Evidence = d.Evidence
	if r.Evidence == nil {
		r.Evidence = []engine.EvidenceRef{}
	}
	if sel := c.a.Manifest.Selection; (sel.Release != "" && d.Release.ID != sel.Release) || (sel.Since != nil && d.EvaluatedAt.Before(*sel.Since)) {
		return fail("outside the pack's selection (release " + d.Release.ID + ", evaluated " + d.EvaluatedAt.Format(time.RFC3339) + ")"), nil
	}
	if why := Skip(rec); why != "" {
		r.Status, r.Why = NotReplayed, why
		return r, nil
	}
	var eng *engine.Engine
	var rules engine.Catalog
	for _, p := range c.policies {
		if p.eng.Revision() == d.Policy.Revision && p.eng.BundleRevision() == d.Policy.Bundle {
			eng, rules = p.eng, p.rules
			break
		}
	}
	if eng == nil {
		return fail(fmt.Sprintf("no policy bundle in the pack computes the recorded policy revision %s (bundle %q)", d.Policy.Revision, d.Policy.Bundle)), nil
	}
	in := engine.Input{Gate: rec.Replay.Gate, Release: rec.Replay.Release, Now: rec.Replay.Now, Violations: rec.Replay.Violations}
	seq := map[string]int64{}
	for _, dg := range rec.Replay.Evidence {
		ev := c.evidence[dg]
		switch {
		case ev == nil:
			return fail("its evidence " + dg + " is not in the pack"), nil
		case ev.rejected:
			r.Status, r.Why = Differs, fmt.Sprintf("evidence %s: %s", dg, ev.bad)
			return r, nil
		case ev.doc == nil:
			return fail(fmt.Sprintf("its evidence %s cannot be trusted: %s", dg, ev.bad)), nil
		}
		in.Evidence = append(in.Evidence, ev.doc)
		seq[dg] = ev.seq
	}
	// The gate offers the ledger's documents in ledger order.
	slices.SortStableFunc(in.Evidence, func(x, y *evidence.Document) int { return int(seq[x.Digest] - seq[y.Digest]) })
	got, evalErr := eng.Evaluate(ctx, in)
	if evalErr != nil && ctx.Err() != nil {
		return r, ctx.Err()
	}
	got.ID, got.DryRun, got.Opened = d.ID, d.DryRun, d.Opened
	diffs, err := Compare(body, got)
	if err != nil {
		return r, err
	}
	if len(diffs) == 0 {
		r.Status = Match
	} else {
		r.Status, r.Differences = Differs, diffs
		if evalErr != nil {
			r.Why = "the replay faulted: " + evalErr.Error()
		}
	}
	ex := report.Explain(ctx, eng, in, d, rules)
	r.Explanation = &ex
	return r, nil
}

// Compare compares a recorded decision body (the ledger entry's payload;
// its "replay" member is left out) with a decision evaluated again, member
// by member in canonical JSON, and returns the members that differ: for
// violations, overridden and warnings, one Difference per rule. Copy the
// Ignored members from the recorded decision first.
func Compare(body []byte, got *engine.Decision) ([]Difference, error) {
	var rec, rep map[string]json.RawMessage
	if err := json.Unmarshal(body, &rec); err != nil {
		return nil, err
	}
	delete(rec, "replay")
	gb, err := json.Marshal(got)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(gb, &rep); err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	for k := range rec {
		keys[k] = true
	}
	for k := range rep {
		keys[k] = true
	}
	var out []Difference
	for _, k := range sortedKeys(keys) {
		a, b := canon(rec[k]), canon(rep[k])
		if bytes.Equal(a, b) {
			continue
		}
		switch k {
		case "violations", "overridden", "warnings":
			out = append(out, findingDiffs(k, a, b)...)
		default:
			out = append(out, Difference{Field: k, Recorded: a, Replayed: b})
		}
	}
	return out, nil
}

// findingDiffs names the rules whose findings differ.
func findingDiffs(field string, a, b []byte) []Difference {
	group := func(raw []byte) (map[string][]json.RawMessage, []string) {
		var fs []json.RawMessage
		_ = json.Unmarshal(raw, &fs)
		m := map[string][]json.RawMessage{}
		var order []string
		for _, f := range fs {
			var x struct {
				Rule string `json:"rule"`
			}
			_ = json.Unmarshal(f, &x)
			if _, ok := m[x.Rule]; !ok {
				order = append(order, x.Rule)
			}
			m[x.Rule] = append(m[x.Rule], canon(f))
		}
		return m, order
	}
	ra, oa := group(a)
	rb, ob := group(b)
	var out []Difference
	for _, rule := range append(oa, ob...) {
		if slices.ContainsFunc(out, func(d Difference) bool { return d.Rule == rule }) {
			continue
		}
		x, _ := json.Marshal(ra[rule])
		y, _ := json.Marshal(rb[rule])
		if ra[rule] == nil {
			x = nil
		}
		if rb[rule] == nil {
			y = nil
		}
		if !bytes.Equal(x, y) {
			out = append(out, Difference{Field: field, Rule: rule, Recorded: x, Replayed: y})
		}
	}
	if len(out) == 0 { // same findings, another order
		out = append(out, Difference{Field: field, Recorded: a, Replayed: b})
	}
	return out
}

func canon(b json.RawMessage) json.RawMessage {
	if b == nil {
		return nil
	}
	c, err := evidence.Canonical(b)
	if err != nil {
		return b
	}
	return c
}
