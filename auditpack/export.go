package auditpack

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/store"
)

// Source is the ledger as Export reads it: its stored entries in order.
type Source interface {
	Rows(ctx context.Context, fn func(ledger.Row) error) error
}

// ExportOptions select what a pack holds.
type ExportOptions struct {
	// Release, when set, selects that release's decisions.
	Release string
	// Since, when set, selects decisions evaluated at or after it.
	Since time.Time
	// Checkpoint is a signed checkpoint of the ledger (required); only the
	// entries it covers are exported, and the ledger must agree with it.
	Checkpoint *ledger.Checkpoint
	// PublicKey is the checkpoint's key, written to the pack.
	PublicKey ed25519.PublicKey
	// Policies are policy sets decisions may have been made under, as
	// bundles (engine.BuildBundle or policyset.ReadBundle), for ledgers that
	// do not hold them: the gate records each policy set in the ledger
	// with the first decision made under it, and a set the ledger holds is
	// taken from there. A selected decision whose revision neither the
	// ledger, Policies nor MorePolicies holds is refused with a
	// *MissingPolicyError.
	Policies []*bundle.Bundle
	// MorePolicies, when set, is called once, only when the ledger and
	// Policies lack a revision some selected decision needs, for further
	// policy sets (such as the configuration's current one).
	MorePolicies func(ctx context.Context) ([]*bundle.Bundle, error)
	// Created stamps the manifest and the archive.
	Created time.Time
	// EvidenceKeys are the keys trusted to sign evidence, as the gate
	// trusted them. The pack holds the public key of each signer of its
	// evidence found here, so that a replay reads the signed documents as
	// the gate did without being given the keys; a signer not found here
	// is listed in Summary.UnknownSigners.
	EvidenceKeys *evidence.Keyring
}

// Summary says what Export wrote.
type Summary struct {
	Decisions int `json:"decisions"`
	Evidence  int `json:"evidence"`
	Entries   int `json:"entries"`
	Policies  int `json:"policies"`
	// Checkpoint is the size of the checkpoint the pack is proved against.
	Checkpoint int64 `json:"checkpoint"`
	// Keys counts the evidence signers' keys written; UnknownSigners are
	// the signers of evidence in the pack whose key was not given.
	Keys           int      `json:"keys"`
	UnknownSigners []string `json:"unknownSigners,omitempty"`
}

// MissingPolicyError refuses a pack whose decisions were made under a
// policy set that was not given: without it they cannot be replayed.
type MissingPolicyError struct {
	// Revisions maps each missing policy revision to the decisions made
	// under it.
	Revisions map[string][]string
}

func (e *MissingPolicyError) Error() string {
	var parts []string
	for _, rev := range sortedKeys(e.Revisions) {
		ids := e.Revisions[rev]
		more := ""
		if len(ids) > 3 {
			more = fmt.Sprintf(" and %d more", len(ids)-3)
			ids = ids[:3]
		}
		parts = append(parts, fmt.Sprintf("policy revision %s (decisions %s%s)", rev, strings.Join(ids, ", "), more))
	}
	return "neither the ledger nor any policy set given holds " + strings.Join(parts, "; ") +
		": the decisions predate recorded policy sets; give the policy directory or bundle each was made under (see docs/audit.md)"
}

var errStop = errors.New("stop")

// selected is one decision to export.
type selected struct {
	seq    int64
	id     string
	body   []byte
	record gate.Record
}

// Export writes a pack of the decisions opts selects to w. It reads the
// ledger twice (entry hashes and decisions, then the bodies needed), checks
// it against the checkpoint on the way, and refuses to write a pack it
// could not prove.
func Export(ctx context.Context, src Source, w io.Writer, opts ExportOptions) (Summary, error) {
	cp := opts.Checkpoint
	if cp == nil {
		return Summary{}, errors.New("export: no checkpoint")
	}
	if err := cp.Verify(opts.PublicKey); err != nil {
		return Summary{}, fmt.Errorf("export: %w", err)
	}
	x := &exporter{opts: opts, cp: cp, evidenceSeq: map[string]int64{}, recorded: map[string]recordedPolicy{}}
	if err := x.scan(ctx, src); err != nil {
		return Summary{}, err
	}
	if err := x.choose(ctx); err != nil {
		return Summary{}, err
	}
	if err := x.readBodies(ctx, src); err != nil {
		return Summary{}, err
	}
	m, unknown, err := x.write()
	if err != nil {
		return Summary{}, err
	}
	if err := x.pw.finish(w, m); err != nil {
		return Summary{}, fmt.Errorf("write pack: %w", err)
	}
	return Summary{Decisions: len(m.Decisions), Evidence: len(m.Evidence), Entries: len(m.Entries),
		Policies: len(m.Policies), Checkpoint: cp.Size, Keys: len(m.Keys), UnknownSigners: unknown}, nil
}

// exporter is one Export in progress: what each step finds, for the steps
// after it.
type exporter struct {
	opts ExportOptions
	cp   *ledger.Checkpoint
	// Found by scan: the tree of entry hashes the checkpoint covers, the
	// first entry of each evidence digest, the policy sets the ledger
	// holds, and the selected decisions.
	tree        tree
	evidenceSeq map[string]int64
	recorded    map[string]recordedPolicy
	decs        []selected
	// Found by choose: the entries the pack holds and its policy bundles.
	need     map[int64]bool
	policies []policyFile
	// Read by readBodies: the bodies of the needed entries.
	bodies map[int64][]byte
	pw     writer
}

// scan reads the ledger up to the checkpoint, verifying it on the way, and
// collects the entry hashes, the evidence and policy set entries, and the
// decisions opts selects.
func (x *exporter) scan(ctx context.Context, src Source) error {
	cp, opts := x.cp, x.opts
	v := ledger.NewVerifier(cp)
	err := src.Rows(ctx, func(r ledger.Row) error {
		if cp.Size == 0 {
			return errStop
		}
		if err := v.Add(r); err != nil {
			return err
		}
		e, err := ledger.Parse(r.Body)
		if err != nil {
			return &ledger.BreakError{Seq: r.Seq, Reason: err.Error()}
		}
		h, err := decodeHash(e.Hash)
		if err != nil {
			return err
		}
		x.tree.leaves = append(x.tree.leaves, h)
		switch e.Type {
		case ledger.TypeEvidence:
			if _, ok := x.evidenceSeq[e.Key]; !ok {
				x.evidenceSeq[e.Key] = e.Seq
			}
		case store.TypePolicy:
			if _, ok := x.recorded[e.Key]; !ok {
				p, err := store.PolicyOf(e)
				if err != nil {
					return &ledger.BreakError{Seq: e.Seq, Reason: err.Error()}
				}
				x.recorded[e.Key] = recordedPolicy{seq: e.Seq, policy: p}
			}
		case ledger.TypeDecision:
			d, err := store.DecisionOf(e)
			if err != nil {
				return fmt.Errorf("entry %d: %w", e.Seq, err)
			}
			if (opts.Release == "" || d.ReleaseID == opts.Release) && (opts.Since.IsZero() || !d.EvaluatedAt.Before(opts.Since)) {
				s := selected{seq: e.Seq, id: d.ID, body: e.Payload, record: gate.Record{Decision: &engine.Decision{}}}
				if err := json.Unmarshal(e.Payload, &s.record); err != nil {
					return fmt.Errorf("decision %s: %w", d.ID, err)
				}
				x.decs = append(x.decs, s)
			}
		}
		if r.Seq == cp.Size {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return fmt.Errorf("read the ledger: %w", err)
	}
	// A checkpoint of the empty ledger covers nothing: there is nothing to
	// check the ledger against, and nothing to export.
	if cp.Size > 0 {
		if _, err := v.Finish(); err != nil {
			return fmt.Errorf("read the ledger: %w", err)
		}
	}
	return nil
}

// choose picks the entries to include: every selected decision, the
// evidence it was offered, and the policy set entries of the bundles.
func (x *exporter) choose(ctx context.Context) error {
	x.need = map[int64]bool{}
	for _, d := range x.decs {
		x.need[d.seq] = true
		for _, dg := range d.record.Replay.Evidence {
			seq, ok := x.evidenceSeq[dg]
			if !ok {
				return fmt.Errorf("decision %s names evidence %s that the ledger does not hold", d.id, dg)
			}
			x.need[seq] = true
		}
	}
	var err error
	if x.policies, err = policyFiles(ctx, x.decs, x.recorded, x.opts); err != nil {
		return err
	}
	for _, p := range x.policies {
		if p.ref.Entry != 0 {
			x.need[p.ref.Entry] = true
		}
	}
	return nil
}

// readBodies reads the needed entries again, each of which must still
// hash as it did when scanned.
func (x *exporter) readBodies(ctx context.Context, src Source) error {
	x.bodies = map[int64][]byte{}
	err := src.Rows(ctx, func(r ledger.Row) error {
		if r.Seq > x.cp.Size {
			return errStop
		}
		if x.need[r.Seq] {
			e, err := entryOf(r.Body)
			if err != nil || e.Seq != r.Seq || !bytes.Equal(mustHash(e.Hash), x.tree.leaves[r.Seq-1]) {
				return &ledger.BreakError{Seq: r.Seq, Reason: "changed while the pack was written"}
			}
			x.bodies[r.Seq] = r.Body
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return fmt.Errorf("read the ledger: %w", err)
	}
	return nil
}

// write adds the pack's files in order: the checkpoint and its key, the
// entries and their proofs, the decisions, the evidence, the evidence
// signers' keys and the policy bundles. It returns the manifest and the
// signers whose key was not given.
func (x *exporter) write() (Manifest, []string, error) {
	opts := x.opts
	m := Manifest{Format: Format, Created: opts.Created.UTC(), Selection: Selection{Release: opts.Release},
		Entries: []EntryRef{}, Decisions: []DecisionRef{}, Evidence: []EvidenceRef{}, Policies: []PolicyRef{}}
	if !opts.Since.IsZero() {
		s := opts.Since.UTC()
		m.Selection.Since = &s
	}
	if err := x.writeCheckpoint(); err != nil {
		return m, nil, err
	}
	if err := x.writeEntries(&m); err != nil {
		return m, nil, err
	}
	x.writeDecisions(&m)
	signers, err := x.writeEvidence(&m)
	if err != nil {
		return m, nil, err
	}
	unknown, err := x.writeKeys(&m, signers)
	if err != nil {
		return m, nil, err
	}
	for i, p := range x.policies {
		p.ref.File = fmt.Sprintf("policies/%d.tar.gz", i+1)
		x.pw.add(p.ref.File, p.body)
		m.Policies = append(m.Policies, p.ref)
	}
	return m, unknown, nil
}

// writeCheckpoint adds the checkpoint and its public key.
func (x *exporter) writeCheckpoint() error {
	cpb, err := json.MarshalIndent(x.cp, "", "  ")
	if err != nil {
		return err
	}
	x.pw.add(CheckpointFile, append(cpb, '\n'))
	px, err := x509.MarshalPKIXPublicKey(x.opts.PublicKey)
	if err != nil {
		return fmt.Errorf("public key: %w", err)
	}
	x.pw.add(PublicKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: px}))
	return nil
}

// writeEntries adds each needed entry, then the inclusion proofs of all.
func (x *exporter) writeEntries(m *Manifest) error {
	proofs := Proofs{TreeSize: x.cp.Size, Proofs: []Proof{}}
	for _, seq := range sortedKeys(x.need) {
		body, ok := x.bodies[seq]
		if !ok {
			return fmt.Errorf("read the ledger: entry %d disappeared while the pack was written", seq)
		}
		path, err := x.tree.inclusion(seq)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("entries/%012d.json", seq)
		x.pw.add(name, body)
		m.Entries = append(m.Entries, EntryRef{Seq: seq, File: name})
		proofs.Proofs = append(proofs.Proofs, Proof{Seq: seq, Hashes: path})
	}
	pb, err := json.MarshalIndent(proofs, "", "  ")
	if err != nil {
		return err
	}
	x.pw.add(ProofsFile, append(pb, '\n'))
	return nil
}

// writeDecisions adds each selected decision, named by its id.
func (x *exporter) writeDecisions(m *Manifest) {
	for _, d := range x.decs {
		name := "decisions/" + safeName(d.id) + ".json"
		if x.pw.names[name] {
			name = fmt.Sprintf("decisions/%012d.json", d.seq)
		}
		x.pw.add(name, d.body)
		m.Decisions = append(m.Decisions, DecisionRef{ID: d.id, Entry: d.seq, File: name})
	}
}

// writeEvidence adds each needed evidence document, and its envelope when
// signed; it returns the envelopes' signers.
func (x *exporter) writeEvidence(m *Manifest) (map[string]bool, error) {
	signers := map[string]bool{}
	for _, dg := range sortedKeys(x.evidenceSeq) {
		seq := x.evidenceSeq[dg]
		if !x.need[seq] {
			continue
		}
		e, err := ledger.Parse(x.bodies[seq])
		if err != nil {
			return nil, err
		}
		ev, err := store.EvidenceOf(e)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", seq, err)
		}
		name := "evidence/" + strings.TrimPrefix(dg, "sha256:") + ".json"
		x.pw.add(name, ev.Body)
		ref := EvidenceRef{Digest: dg, Entry: seq, File: name}
		if len(ev.Envelope) > 0 {
			ref.Envelope = "evidence/" + strings.TrimPrefix(dg, "sha256:") + ".dsse.json"
			x.pw.add(ref.Envelope, ev.Envelope)
			for _, id := range evidence.Signers(ev.Envelope) {
				signers[id] = true
			}
		}
		m.Evidence = append(m.Evidence, ref)
	}
	return signers, nil
}

// writeKeys adds the public key of each signer that opts.EvidenceKeys
// holds, and returns the others.
func (x *exporter) writeKeys(m *Manifest, signers map[string]bool) ([]string, error) {
	var unknown []string
	for _, id := range sortedKeys(signers) {
		pub, ok := x.opts.EvidenceKeys.Key(id)
		if !ok {
			unknown = append(unknown, id)
			continue
		}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return nil, fmt.Errorf("evidence key %s: %w", id, err)
		}
		ref := KeyRef{ID: id, File: "keys/" + strings.TrimPrefix(id, "sha256:") + ".pub"}
		x.pw.add(ref.File, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		m.Keys = append(m.Keys, ref)
	}
	return unknown, nil
}

type policyFile struct {
	ref  PolicyRef
	body []byte
}

// recordedPolicy is a policy set the ledger holds, and its entry.
type recordedPolicy struct {
	seq    int64
	policy store.Policy
}

// policyFiles writes one bundle for each policy revision and bundle name
// the replayable decisions record: from the ledger's policy entry when it
// holds one, else from a given policy set.
func policyFiles(ctx context.Context, decs []selected, recorded map[string]recordedPolicy, opts ExportOptions) ([]policyFile, error) {
	type key struct{ rev, name string }
	var order []key
	seen := map[key]bool{}
	wanted := map[string][]string{}
	for _, d := range decs {
		if Skip(d.record) != "" {
			continue
		}
		k := key{d.record.Policy.Revision, d.record.Policy.Bundle}
		wanted[k.rev] = append(wanted[k.rev], d.id)
		if !seen[k] {
			seen[k] = true
			order = append(order, k)
		}
	}
	byRev := map[string]*bundle.Bundle{}
	add := func(given []*bundle.Bundle) error {
		for i, b := range given {
			// A policy set that decided in the past: as it was, even if
			// this version's data schema has changed since.
			eng, err := engine.Load(ctx, engine.Options{Bundle: b, Recorded: true})
			if err != nil {
				return fmt.Errorf("policy set %d: %w", i+1, err)
			}
			if _, ok := byRev[eng.Revision()]; !ok {
				byRev[eng.Revision()] = b
			}
		}
		return nil
	}
	missing := func() map[string][]string {
		m := map[string][]string{}
		for rev, ids := range wanted {
			if _, ok := recorded[rev]; !ok && byRev[rev] == nil {
				m[rev] = ids
			}
		}
		return m
	}
	if len(missing()) > 0 {
		if err := add(opts.Policies); err != nil {
			return nil, err
		}
	}
	if len(missing()) > 0 && opts.MorePolicies != nil {
		more, err := opts.MorePolicies(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w (the ledger does not hold the policy sets of %d revisions)", err, len(missing()))
		}
		if err := add(more); err != nil {
			return nil, err
		}
	}
	if m := missing(); len(m) > 0 {
		return nil, &MissingPolicyError{Revisions: m}
	}
	out := make([]policyFile, 0, len(order))
	for _, k := range order {
		var b *bundle.Bundle
		ref := PolicyRef{Revision: k.rev, Bundle: k.name}
		if r, ok := recorded[k.rev]; ok {
			var err error
			if b, err = policySet(r.policy).Bundle(k.name); err != nil {
				return nil, err
			}
			ref.Entry = r.seq
		} else {
			// The bundle carries the name decisions recorded (policy.bundle),
			// so a replay names it the same; its signatures, if any, are left
			// out: the revision it computes is what ties it to the ledger.
			c := *byRev[k.rev]
			c.Manifest = c.Manifest.Copy()
			c.Manifest.Revision = k.name
			c.Signatures = bundle.SignaturesConfig{}
			b = &c
		}
		var buf bytes.Buffer
		if err := policyset.WriteBundle(&buf, b); err != nil {
			return nil, err
		}
		out = append(out, policyFile{ref: ref, body: buf.Bytes()})
	}
	return out, nil
}

// policySet is a recorded policy set as the engine takes it.
func policySet(p store.Policy) *policyset.Record {
	set := &policyset.Record{Revision: p.Revision, Data: p.Data, Modules: make([]policyset.Module, len(p.Modules))}
	for i, m := range p.Modules {
		set.Modules[i] = policyset.Module{Path: m.Path, Source: m.Source}
	}
	return set
}

// safeName keeps a decision id usable as a file name.
func safeName(id string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, id)
}

func mustHash(h string) []byte {
	b, _ := decodeHash(h)
	return b
}

func sortedKeys[K int64 | string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
