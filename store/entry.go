package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/internal/canonjson"
	"github.com/localizevideos/shipgate/ledger"
)

// This file maps records to ledger entries and back, for every store: a
// store appends the entry a record maps to and fills its query tables from
// that entry as its body records it (ledger.Append), so that Verify can
// rebuild the tables from the ledger alone and expect the very same rows,
// and so that every store writes the very same entries, byte for byte.

// evidencePayload is the payload of an evidence entry.
type evidencePayload struct {
	Kind     string          `json:"kind"`
	Source   string          `json:"source"`
	Document json.RawMessage `json:"document"`
	Envelope json.RawMessage `json:"envelope,omitempty"`
}

// envelope is what the store indexes of an evidence document.
type envelope struct {
	Kind    string `json:"kind"`
	Release struct {
		ID          string `json:"id"`
		Service     string `json:"service"`
		Environment string `json:"environment"`
	} `json:"release"`
	Subject struct {
		Commit string `json:"commit"`
	} `json:"subject"`
	CollectedAt string `json:"collectedAt"`
}

// decisionBody is what the store indexes of a decision body: the members of
// engine.Decision's JSON.
type decisionBody struct {
	ID      string `json:"id"`
	Gate    string `json:"gate"`
	Release struct {
		ID          string `json:"id"`
		Service     string `json:"service"`
		Environment string `json:"environment"`
	} `json:"release"`
	Allow       bool   `json:"allow"`
	DryRun      bool   `json:"dryRun"`
	Reason      string `json:"reason"`
	EvaluatedAt string `json:"evaluatedAt"`
}

// decisionBodyOf reads the canonical decision body b as json.Unmarshal
// reads it into a decisionBody, without encoding/json: false, and an empty
// decisionBody, for whatever it might read otherwise (see readMembers),
// for json.Unmarshal to read.
func decisionBodyOf(b []byte) (decisionBody, bool) {
	var d decisionBody
	ok := canonjson.IsCanonical(b) && readMembers(b, []member{
		{name: "allow", flag: &d.Allow},
		{name: "dryRun", flag: &d.DryRun},
		{name: "evaluatedAt", str: &d.EvaluatedAt},
		{name: "gate", str: &d.Gate},
		{name: "id", str: &d.ID},
		{name: "reason", str: &d.Reason},
		{name: "release", object: []member{
			{name: "environment", str: &d.Release.Environment},
			{name: "id", str: &d.Release.ID},
			{name: "service", str: &d.Release.Service},
		}},
	})
	if !ok {
		return decisionBody{}, false
	}
	return d, true
}

// member is a member of a JSON object to read into a string, a bool or,
// member by member, an object.
type member struct {
	name   string
	str    *string
	flag   *bool
	object []member
}

// readMembers reads the members of the canonical object b named in ms as
// json.Unmarshal reads them into struct fields (null leaves a field as it
// is). It declines (false) whatever json.Unmarshal might read otherwise:
// b not an object, a value of another type or a string with an escape, a
// name that matches one of ms only ignoring case.
func readMembers(b []byte, ms []member) bool {
	ok := true
	isObject := canonjson.EachMember(b, func(n, v []byte) bool {
		for _, m := range ms {
			switch {
			case string(n) == m.name:
				ok = m.read(v)
				return ok
			case bytes.EqualFold(n, []byte(m.name)):
				ok = false
				return false
			}
		}
		return true
	})
	return isObject && ok
}

func (m member) read(v []byte) bool {
	switch {
	case string(v) == "null":
		return true
	case m.str != nil:
		if v[0] != '"' || bytes.IndexByte(v, '\\') >= 0 {
			return false
		}
		*m.str = string(v[1 : len(v)-1])
		return true
	case m.flag != nil:
		if string(v) != "true" && string(v) != "false" {
			return false
		}
		*m.flag = string(v) == "true"
		return true
	}
	return v[0] == '{' && readMembers(v, m.object)
}

// violationPayload is the payload of a violation.opened or obligation.opened
// entry: the Violation with camelCase members.
type violationPayload struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	ReleaseID   string    `json:"releaseId"`
	Service     string    `json:"service"`
	Environment string    `json:"environment"`
	Gate        string    `json:"gate"`
	DecisionID  string    `json:"decisionId"`
	Rules       []string  `json:"rules"`
	Actor       string    `json:"actor"`
	Message     string    `json:"message"`
	OpenedAt    time.Time `json:"openedAt"`
	Due         time.Time `json:"due"`
	Status      string    `json:"status"`
}

// closedPayload is the payload of a violation.closed or obligation.closed
// entry.
type closedPayload struct {
	Postmortem string    `json:"postmortem"`
	ClosedAt   time.Time `json:"closedAt"`
}

// conflicts collects the fields a caller gave that disagree with what the
// entry will say.
type conflicts []string

func (c *conflicts) str(name, given, got string) {
	if given != "" && given != got {
		*c = append(*c, fmt.Sprintf("%s is %q, %q given", name, got, given))
	}
}

func (c *conflicts) time(name string, given, got time.Time) {
	if !given.IsZero() && !given.Equal(got) {
		*c = append(*c, fmt.Sprintf("%s is %s, %s given", name, got.Format(time.RFC3339Nano), given.Format(time.RFC3339Nano)))
	}
}

func (c *conflicts) bool(name string, given, got bool) {
	if given && !got {
		*c = append(*c, fmt.Sprintf("%s is false, true given", name))
	}
}

func (c conflicts) err(what string) error {
	if len(c) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", what, strings.Join(c, "; "))
}

// EvidenceEntry returns the entry that records ev, for ledger.Next to
// complete. The document (Body) is canonicalized; Digest, Kind, ReleaseID,
// Service, Environment, Commit and CollectedAt are read from it (digest,
// kind, release.id, release.service, release.environment, subject.commit,
// collectedAt), and any of them given must agree with the document.
func EvidenceEntry(ev Evidence) (ledger.Entry, error) {
	e, _, err := evidenceEntry(ev)
	return e, err
}

// evidenceEntry is EvidenceEntry, and the record EvidenceOf reads back from
// the entry but for Seq and AddedAt: built from the same fields, without
// decoding the payload again.
func evidenceEntry(ev Evidence) (ledger.Entry, Evidence, error) {
	if len(ev.Body) == 0 {
		return ledger.Entry{}, Evidence{}, fmt.Errorf("evidence %s: no document", ev.Digest)
	}
	doc, err := evidence.Canonical(ev.Body)
	if err != nil {
		return ledger.Entry{}, Evidence{}, fmt.Errorf("evidence %s: %w", ev.Digest, err)
	}
	digest := evidence.DigestOf(doc)
	got, err := evidenceFields(digest, doc)
	if err != nil {
		return ledger.Entry{}, Evidence{}, err
	}
	var c conflicts
	c.str("the digest", ev.Digest, digest)
	c.str("kind", ev.Kind, got.Kind)
	c.str("release.id", ev.ReleaseID, got.ReleaseID)
	c.str("release.service", ev.Service, got.Service)
	c.str("release.environment", ev.Environment, got.Environment)
	c.str("subject.commit", ev.Commit, got.Commit)
	c.time("collectedAt", ev.CollectedAt, got.CollectedAt)
	if err := c.err("evidence " + digest); err != nil {
		return ledger.Entry{}, Evidence{}, err
	}
	env, err := envelopeOf(digest, ev.Envelope)
	if err != nil {
		return ledger.Entry{}, Evidence{}, err
	}
	payload, err := marshal(evidencePayload{Kind: got.Kind, Source: ev.Source, Document: doc, Envelope: env})
	if err != nil {
		return ledger.Entry{}, Evidence{}, fmt.Errorf("evidence %s: %w", digest, err)
	}
	rec := got
	rec.Source, rec.Body, rec.Envelope = ev.Source, doc, env
	return ledger.Entry{Type: ledger.TypeEvidence, Release: got.ReleaseID, Service: got.Service, Key: digest, Payload: payload}, rec, nil
}

// evidenceFields reads the indexed envelope members of a canonical document.
func evidenceFields(digest string, doc []byte) (Evidence, error) {
	var env envelope
	if err := json.Unmarshal(doc, &env); err != nil {
		return Evidence{}, fmt.Errorf("evidence %s: envelope: %w", digest, err)
	}
	ev := Evidence{Digest: digest, Kind: env.Kind, ReleaseID: env.Release.ID, Service: env.Release.Service,
		Environment: env.Release.Environment, Commit: env.Subject.Commit}
	if env.CollectedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, env.CollectedAt)
		if err != nil {
			return Evidence{}, fmt.Errorf("evidence %s: collectedAt: %w", digest, err)
		}
		ev.CollectedAt = t.UTC()
	}
	return ev, nil
}

// EvidenceOf reads the record an evidence entry holds, Body, Seq and AddedAt
// included. The document must hash to the entry's key.
func EvidenceOf(e ledger.Entry) (Evidence, error) {
	if e.Type != ledger.TypeEvidence {
		return Evidence{}, fmt.Errorf("entry %d is a %s entry, not evidence", e.Seq, e.Type)
	}
	var p evidencePayload
	if err := decodeStrict(e.Payload, &p); err != nil {
		return Evidence{}, fmt.Errorf("evidence %s: payload: %w", e.Key, err)
	}
	if d := evidence.DigestOf(p.Document); d != e.Key {
		return Evidence{}, fmt.Errorf("evidence %s: the document hashes to %s", e.Key, d)
	}
	ev, err := evidenceFields(e.Key, p.Document)
	if err != nil {
		return Evidence{}, err
	}
	var c conflicts
	c.str("kind", p.Kind, ev.Kind)
	c.str("release.id", e.Release, ev.ReleaseID)
	c.str("release.service", e.Service, ev.Service)
	if err := c.err("evidence " + e.Key + " (document vs entry)"); err != nil {
		return Evidence{}, err
	}
	if _, err := envelopeOf(e.Key, p.Envelope); err != nil {
		return Evidence{}, err
	}
	ev.Source, ev.Body, ev.Envelope, ev.Seq, ev.AddedAt = p.Source, p.Document, p.Envelope, e.Seq, e.Time
	return ev, nil
}

// DecisionEntry returns the entry that records d, for ledger.Next to
// complete. The body must be a JSON object; it is canonicalized and becomes
// the payload as is. ID, Gate, ReleaseID, Service, Environment, Allow,
// DryRun, Reason and EvaluatedAt are read from its members id, gate,
// release.id, release.service, release.environment, allow, dryRun, reason
// and evaluatedAt (the JSON of engine.Decision), and any of them given must
// agree with the body; only ID may be given without the body having it.
func DecisionEntry(d Decision) (ledger.Entry, error) {
	e, _, err := decisionEntry(d)
	return e, err
}

// decisionEntry is DecisionEntry, and the record DecisionOf reads back from
// the entry but for Seq: the fields read from the body, and the body.
func decisionEntry(d Decision) (ledger.Entry, Decision, error) {
	// canonjson.Canonicalize writes what evidence.Canonical writes, where
	// it takes the body (as it takes every body the gate records), without
	// decoding it into maps first.
	body, ok := canonjson.Canonicalize(d.Body)
	if !ok {
		var err error
		if body, err = evidence.Canonical(d.Body); err != nil {
			return ledger.Entry{}, Decision{}, fmt.Errorf("decision %s: body: %w", d.ID, err)
		}
	}
	got, err := decisionFields(d.ID, body)
	if err != nil {
		return ledger.Entry{}, Decision{}, err
	}
	var c conflicts
	c.str("id", d.ID, got.ID)
	c.str("gate", d.Gate, got.Gate)
	c.str("release.id", d.ReleaseID, got.ReleaseID)
	c.str("release.service", d.Service, got.Service)
	c.str("release.environment", d.Environment, got.Environment)
	c.bool("allow", d.Allow, got.Allow)
	c.bool("dryRun", d.DryRun, got.DryRun)
	c.str("reason", d.Reason, got.Reason)
	c.time("evaluatedAt", d.EvaluatedAt, got.EvaluatedAt)
	if got.ID == "" {
		c = append(c, "no id")
	}
	if d.Policy != nil {
		var b struct {
			Policy struct {
				Revision string `json:"revision"`
			} `json:"policy"`
		}
		_ = json.Unmarshal(body, &b) // decisionFields decoded it already
		if b.Policy.Revision != d.Policy.Revision {
			c = append(c, fmt.Sprintf("policy.revision is %q; the policy set given is %s", b.Policy.Revision, d.Policy.Revision))
		}
	}
	if err := c.err("decision " + got.ID + " (body)"); err != nil {
		return ledger.Entry{}, Decision{}, err
	}
	got.Body = body
	return ledger.Entry{Type: ledger.TypeDecision, Release: got.ReleaseID, Service: got.Service, Key: got.ID, Payload: body}, got, nil
}

// decisionFields reads the indexed members of a canonical decision body; id
// is used when the body has no "id".
func decisionFields(id string, body []byte) (Decision, error) {
	if !bytes.HasPrefix(body, []byte("{")) {
		return Decision{}, fmt.Errorf("decision %s: body is not a JSON object", id)
	}
	b, ok := decisionBodyOf(body)
	if !ok {
		if err := json.Unmarshal(body, &b); err != nil {
			return Decision{}, fmt.Errorf("decision %s: body: %w", id, err)
		}
	}
	if b.ID != "" {
		id = b.ID
	}
	d := Decision{ID: id, ReleaseID: b.Release.ID, Service: b.Release.Service, Environment: b.Release.Environment,
		Gate: b.Gate, Allow: b.Allow, DryRun: b.DryRun, Reason: b.Reason}
	if b.EvaluatedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, b.EvaluatedAt)
		if err != nil {
			return Decision{}, fmt.Errorf("decision %s: evaluatedAt: %w", id, err)
		}
		d.EvaluatedAt = t.UTC()
	}
	return d, nil
}

// DecisionOf reads the record a decision entry holds, Body and Seq included.
func DecisionOf(e ledger.Entry) (Decision, error) {
	if e.Type != ledger.TypeDecision {
		return Decision{}, fmt.Errorf("entry %d is a %s entry, not a decision", e.Seq, e.Type)
	}
	d, err := decisionFields(e.Key, e.Payload)
	if err != nil {
		return Decision{}, err
	}
	var c conflicts
	c.str("id", e.Key, d.ID)
	c.str("release.id", e.Release, d.ReleaseID)
	c.str("release.service", e.Service, d.Service)
	if err := c.err("decision " + e.Key + " (body vs entry)"); err != nil {
		return Decision{}, err
	}
	d.Body, d.Seq = e.Payload, e.Seq
	return d, nil
}

func openedType(kind string) (string, error) {
	switch kind {
	case KindViolation:
		return ledger.TypeViolationOpened, nil
	case KindObligation:
		return ledger.TypeObligation, nil
	}
	return "", fmt.Errorf("kind %q: want %q or %q", kind, KindViolation, KindObligation)
}

func closedType(kind string) (string, error) {
	switch kind {
	case KindViolation:
		return ledger.TypeViolationClosed, nil
	case KindObligation:
		return ledger.TypeObligationDone, nil
	}
	return "", fmt.Errorf("kind %q: want %q or %q", kind, KindViolation, KindObligation)
}

// OpenedEntry returns the entry that opens v (violation.opened or
// obligation.opened by its Kind). v must be open: Status empty or open,
// ClosedAt and ClosedBy unset.
func OpenedEntry(v Violation) (ledger.Entry, error) {
	if v.ID == "" {
		return ledger.Entry{}, errors.New("violation: no id")
	}
	typ, err := openedType(v.Kind)
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("violation %s: %w", v.ID, err)
	}
	if (v.Status != "" && v.Status != StatusOpen) || !v.ClosedAt.IsZero() || v.ClosedBy != "" {
		return ledger.Entry{}, fmt.Errorf("violation %s: a violation is recorded open (status %q)", v.ID, v.Status)
	}
	rules := v.Rules
	if rules == nil {
		rules = []string{}
	}
	payload, err := marshal(violationPayload{ID: v.ID, Kind: v.Kind, ReleaseID: v.ReleaseID, Service: v.Service,
		Environment: v.Environment, Gate: v.Gate, DecisionID: v.DecisionID, Rules: rules, Actor: v.Actor,
		Message: v.Message, OpenedAt: v.OpenedAt.UTC(), Due: v.Due.UTC(), Status: StatusOpen})
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("violation %s: %w", v.ID, err)
	}
	return ledger.Entry{Type: typ, Release: v.ReleaseID, Service: v.Service, Key: v.ID, Payload: payload}, nil
}

// ViolationOf reads the open violation a violation.opened or
// obligation.opened entry holds. An empty Rules comes back nil.
func ViolationOf(e ledger.Entry) (Violation, error) {
	var p violationPayload
	if err := decodeStrict(e.Payload, &p); err != nil {
		return Violation{}, fmt.Errorf("violation %s: payload: %w", e.Key, err)
	}
	typ, err := openedType(p.Kind)
	if err != nil {
		return Violation{}, fmt.Errorf("violation %s: %w", e.Key, err)
	}
	var c conflicts
	c.str("the entry type", e.Type, typ)
	c.str("the key", e.Key, p.ID)
	c.str("the release", e.Release, p.ReleaseID)
	c.str("the service", e.Service, p.Service)
	c.str("the status", StatusOpen, p.Status)
	if err := c.err("violation " + e.Key + " (payload vs entry)"); err != nil {
		return Violation{}, err
	}
	v := Violation{ID: p.ID, Kind: p.Kind, ReleaseID: p.ReleaseID, Service: p.Service, Environment: p.Environment,
		Gate: p.Gate, DecisionID: p.DecisionID, Rules: p.Rules, Actor: p.Actor, Message: p.Message,
		OpenedAt: p.OpenedAt.UTC(), Due: p.Due.UTC(), Status: p.Status}
	if len(v.Rules) == 0 {
		v.Rules = nil
	}
	return v, nil
}

// ClosedEntry returns the entry that closes the open violation v with the
// Postmortem whose digest is postmortem, at the time at. A closed v is an
// error wrapping ErrClosed.
func ClosedEntry(v Violation, postmortem string, at time.Time) (ledger.Entry, error) {
	if v.Status != StatusOpen {
		return ledger.Entry{}, fmt.Errorf("violation %s: %w (status %s)", v.ID, ErrClosed, v.Status)
	}
	if postmortem == "" {
		return ledger.Entry{}, fmt.Errorf("violation %s: no postmortem digest", v.ID)
	}
	typ, err := closedType(v.Kind)
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("violation %s: %w", v.ID, err)
	}
	payload, err := marshal(closedPayload{Postmortem: postmortem, ClosedAt: at.UTC()})
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("violation %s: %w", v.ID, err)
	}
	return ledger.Entry{Type: typ, Release: v.ReleaseID, Service: v.Service, Key: v.ID, Payload: payload}, nil
}

// Closed returns v as the violation.closed or obligation.closed entry e
// leaves it: closed, at the entry's closedAt, by its postmortem.
func Closed(v Violation, e ledger.Entry) (Violation, error) {
	var p closedPayload
	if err := decodeStrict(e.Payload, &p); err != nil {
		return Violation{}, fmt.Errorf("violation %s: close payload: %w", e.Key, err)
	}
	typ, err := closedType(v.Kind)
	if err != nil {
		return Violation{}, fmt.Errorf("violation %s: %w", v.ID, err)
	}
	if v.Status != StatusOpen {
		return Violation{}, fmt.Errorf("violation %s: %w", v.ID, ErrClosed)
	}
	var c conflicts
	c.str("the entry type", e.Type, typ)
	c.str("the key", e.Key, v.ID)
	c.str("the release", e.Release, v.ReleaseID)
	c.str("the service", e.Service, v.Service)
	if p.Postmortem == "" {
		c = append(c, "no postmortem digest")
	}
	if err := c.err("violation " + v.ID + " (close entry vs violation)"); err != nil {
		return Violation{}, err
	}
	v.Status, v.ClosedAt, v.ClosedBy = StatusClosed, p.ClosedAt.UTC(), p.Postmortem
	return v, nil
}

func marshal(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}
