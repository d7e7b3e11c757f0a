package engine

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/evidence"
)

// Which documents count is decided here, before any Rego runs, from who
// signed them (evidence.Document.SignedBy: the keys whose DSSE signatures
// verified against the keys this installation trusts) and from the policy
// data signing (docs/evidence.md#signed-evidence):
//
//   - Grants (Approval, Override, Hold) count only when their author is
//     authenticated as the person they name: signed by a key that
//     signing.people binds to that person, or recorded by a shipgate
//     server (collector shipgate-server) and signed with a key of
//     signing.servers, the server vouching for the approver token's name
//     it recorded as collector.actor. Anything else is ignored with
//     ReasonGrantUnauthenticated, whatever it claims: a pipeline never
//     grants.
//   - What shipgate records itself (Build, Deploy, Verification,
//     Monitoring, Rollback) counts only when signed by a trusted key:
//     signing.trusted_keys, or any key the installation trusts when that
//     map is empty. signing.required: false turns that off explicitly.

// Reasons a document is ignored because of who signed it (Ignored.Reason).
const (
	// ReasonGrantUnauthenticated: an Approval, Override or Hold whose
	// named approver (or holder) is not the person it is authenticated as.
	ReasonGrantUnauthenticated = "grant.unauthenticated"
	// ReasonSignatureMissing: a document of a signed kind came bare, or
	// with no signature by a key the installation trusts.
	ReasonSignatureMissing = "signature.missing"
	// ReasonSignatureUntrusted: signed, but by none of
	// signing.trusted_keys.
	ReasonSignatureUntrusted = "signature.untrusted"
	// ReasonGrantSelf: an Approval or Override authenticated as the
	// deployer of the change being gated (four eyes).
	ReasonGrantSelf = "grant.self-approval"
)

// GrantKinds are the kinds that grant: an approval, an override of a soft
// rule, a hold on automated rollback. Each names the person it is from.
var GrantKinds = []string{"Approval", "Override", "Hold"}

// SignedKinds are the kinds shipgate records itself, which count only when
// signed by a trusted key unless the policy data turns signing off. Hold is
// one, and a grant too: being authenticated as its holder is the stronger
// check, and the one applied.
var SignedKinds = []string{"Build", "Deploy", "Verification", "Monitoring", "Rollback", "Hold"}

// ServerCollector is the collector.name of the documents a shipgate server
// writes itself (approvals, overrides and holds from approver tokens).
const ServerCollector = "shipgate-server"

// Grantor is who a grant that counted is authenticated as.
type Grantor struct {
	// Person is the approver or holder, as the policy data names them.
	Person string `json:"person"`
	// Key is the id of the key whose signature authenticated it.
	Key string `json:"key"`
	// Server is set when Key is a shipgate server's (signing.servers):
	// the server recorded the grant from Person's approver token.
	Server bool `json:"server,omitempty"`
}

// signingConfig is the policy data signing, as the engine reads it.
type signingConfig struct {
	// Required is true when absent: only an explicit false turns it off.
	Required    *bool               `json:"required"`
	TrustedKeys map[string]any      `json:"trusted_keys"`
	People      map[string][]string `json:"people"`
	Servers     map[string]any      `json:"servers"`
}

// trust is signingConfig checked once at load.
type trust struct {
	required bool
	// trusted holds signing.trusted_keys; empty trusts every verified signer.
	trusted map[string]bool
	// people maps a key id to the person it signs for.
	people map[string]string
	// servers holds the keys of shipgate servers.
	servers map[string]bool
}

var keyIDPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

func parseTrust(at string, c *signingConfig) (*trust, error) {
	t := &trust{required: true, trusted: map[string]bool{}, people: map[string]string{}, servers: map[string]bool{}}
	if c == nil {
		return t, nil
	}
	if c.Required != nil {
		t.required = *c.Required
	}
	checkID := func(where, id string) error {
		if !keyIDPattern.MatchString(id) {
			return fmt.Errorf("data shipgate.config.%s.%s: %q is not a key id (want sha256: and 64 lower-case hex digits, as shipgate evidence show prints it)", at, where, id)
		}
		return nil
	}
	for id := range c.TrustedKeys {
		if err := checkID("trusted_keys", id); err != nil {
			return nil, err
		}
		t.trusted[id] = true
	}
	for id := range c.Servers {
		if err := checkID("servers", id); err != nil {
			return nil, err
		}
		t.servers[id] = true
	}
	for _, person := range slices.Sorted(maps.Keys(c.People)) {
		if strings.TrimSpace(person) == "" {
			return nil, fmt.Errorf("data shipgate.config.%s.people: a person without a name", at)
		}
		for _, id := range c.People[person] {
			if err := checkID("people."+person, id); err != nil {
				return nil, err
			}
			if other, ok := t.people[id]; ok && !samePerson(other, person) {
				return nil, fmt.Errorf("data shipgate.config.%s.people: key %s is bound to both %s and %s: a key signs for one person", at, id, other, person)
			}
			if t.servers[id] {
				return nil, fmt.Errorf("data shipgate.config.%s.people.%s: key %s is a server's (servers): a server key signs for whoever it recorded, not for one person", at, person, id)
			}
			t.people[id] = person
		}
	}
	return t, nil
}

// samePerson compares two names as people: without case and surrounding
// space.
func samePerson(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// serviceSigning is the signing of a service: its own required and
// trusted_keys where it sets them, else the installation's; people and
// servers are who they are for every service, so both lists count.
func serviceSigning(all, svc *signingConfig) *signingConfig {
	out := signingConfig{People: map[string][]string{}, Servers: map[string]any{}}
	if all != nil {
		out.Required, out.TrustedKeys = all.Required, all.TrustedKeys
		maps.Copy(out.Servers, all.Servers)
		for p, ids := range all.People {
			out.People[p] = slices.Clone(ids)
		}
	}
	if svc.Required != nil {
		out.Required = svc.Required
	}
	if svc.TrustedKeys != nil {
		out.TrustedKeys = svc.TrustedKeys
	}
	maps.Copy(out.Servers, svc.Servers)
	for p, ids := range svc.People {
		out.People[p] = append(out.People[p], ids...)
	}
	return &out
}

// trustFor is the trust that applies to service: services.<service>.signing
// replaces signing, as it does for the signature rules.
func (s *settings) trustFor(service string) *trust {
	if t, ok := s.serviceTrust[service]; ok {
		return t
	}
	return s.trust
}

// SigningRequired reports whether service's evidence of SignedKinds must be
// signed (policy data signing.required, true unless set to false).
func (e *Engine) SigningRequired(service string) bool { return e.settings.trustFor(service).required }

// ServerKey reports whether id is the key of a shipgate server, whose
// signature on what it recorded authenticates the person it names
// (signing.servers, with Options.ServerKeys).
func (e *Engine) ServerKey(id string) bool { return e.settings.trust.servers[id] }

// Grantor authenticates the grant doc (an Approval, Override or Hold) for
// the release's service, as a gate does: who it is from, or, when it does
// not count, nil and why. Holds read outside a gate (automated rollback)
// are judged by it too.
func (e *Engine) Grantor(service string, doc *evidence.Document) (*Grantor, string) {
	return e.settings.trustFor(service).grantor(doc)
}

// named is the person a grant names: data.approver, or data.by for a Hold.
func named(doc *evidence.Document) string {
	data, _ := doc.Value["data"].(map[string]any)
	field := "approver"
	if doc.Kind == "Hold" {
		field = "by"
	}
	s, _ := data[field].(string)
	return s
}

func collectorName(doc *evidence.Document) string {
	c, _ := doc.Value["collector"].(map[string]any)
	s, _ := c["name"].(string)
	return s
}

// grantor returns who the grant doc is authenticated as, when that is the
// person it names; otherwise why it does not count.
func (t *trust) grantor(doc *evidence.Document) (*Grantor, string) {
	who := named(doc)
	var others []string
	for _, id := range doc.SignedBy {
		if person, ok := t.people[id]; ok {
			if samePerson(person, who) {
				return &Grantor{Person: person, Key: id}, ""
			}
			others = append(others, fmt.Sprintf("%s's key %s", person, shortID(id)))
			continue
		}
		if t.servers[id] && collectorName(doc) == ServerCollector {
			if samePerson(doc.Actor, who) {
				return &Grantor{Person: who, Key: id, Server: true}, ""
			}
			others = append(others, fmt.Sprintf("a shipgate server (key %s) for %s", shortID(id), doc.Actor))
		}
	}
	field := "approver"
	if doc.Kind == "Hold" {
		field = "holder"
	}
	how := "a grant counts only when recorded by a shipgate server from that person's approver token, or signed by a key signing.people binds to them"
	switch {
	case len(others) > 0:
		return nil, fmt.Sprintf("names %s %q but is authenticated as %s: %s", field, who, strings.Join(others, ", "), how)
	case len(doc.SignedBy) > 0:
		ids := make([]string, len(doc.SignedBy))
		for i, id := range doc.SignedBy {
			ids[i] = shortID(id)
		}
		return nil, fmt.Sprintf("names %s %q but is signed only by %s, a key that speaks for no person: %s", field, who, strings.Join(ids, ", "), how)
	}
	return nil, fmt.Sprintf("names %s %q but is not signed: %s", field, who, how)
}

// signed says whether doc, of a signed kind, counts; otherwise the reason
// and why.
func (t *trust) signed(doc *evidence.Document) (reason, why string) {
	if len(doc.SignedBy) == 0 {
		return ReasonSignatureMissing, "not signed by a key this installation trusts: record it with shipgate (run, verify, watch, rollback), or sign it (shipgate evidence sign) with a trusted key; policy data signing.required: false turns this off"
	}
	if len(t.trusted) == 0 {
		return "", ""
	}
	for _, id := range doc.SignedBy {
		if t.trusted[id] {
			return "", ""
		}
	}
	ids := make([]string, len(doc.SignedBy))
	for i, id := range doc.SignedBy {
		ids[i] = shortID(id)
	}
	return ReasonSignatureUntrusted, fmt.Sprintf("signed by %s, none of them in signing.trusted_keys", strings.Join(ids, ", "))
}

func shortID(id string) string { return "sha256:" + short(id) }

// separateDuties drops, from the counted documents (oldest first), every
// Approval and Override authenticated as the person who makes the change:
// data.actor of the newest Deploy (each of a tie) at the deploy, verify and
// complete gates, of the newest FlagChange at the flag gate. A server
// refuses such an approval when it is recorded, but the deploy may come
// after it; this is the check when the gate decides, on the authenticated
// person, whatever the approval names.
func separateDuties(gate string, counted []*evidence.Document, grantors map[string]*Grantor, d *Decision) []*evidence.Document {
	kind := "Deploy"
	if gate == "flag" {
		kind = "FlagChange"
	}
	var newest time.Time
	var deployers []string
	for _, doc := range counted {
		if doc.Kind != kind {
			continue
		}
		data, _ := doc.Value["data"].(map[string]any)
		actor, _ := data["actor"].(string)
		switch {
		case doc.CollectedAt.After(newest):
			newest, deployers = doc.CollectedAt, []string{actor}
		case doc.CollectedAt.Equal(newest):
			deployers = append(deployers, actor)
		}
	}
	if len(deployers) == 0 {
		return counted
	}
	out := counted[:0:0]
	for _, doc := range counted {
		g := grantors[doc.Digest]
		if g != nil && doc.Kind != "Hold" && slices.ContainsFunc(deployers, func(p string) bool { return samePerson(p, g.Person) }) {
			delete(grantors, doc.Digest)
			d.Ignored = append(d.Ignored, Ignored{Kind: doc.Kind, Digest: doc.Digest, Source: doc.Source, Reason: ReasonGrantSelf,
				Message: fmt.Sprintf("%s %s (%s): authenticated as %s, who makes the change (the newest %s's actor): a grant from the deployer does not count", doc.Kind, short(doc.Digest), doc.Source, g.Person, kind)})
			continue
		}
		out = append(out, doc)
	}
	return out
}

// grantors maps the digests of the grants that counted to who they are
// authenticated as.
func (d *Decision) grantors() map[string]*Grantor {
	var m map[string]*Grantor
	for _, r := range d.Evidence {
		if r.Grantor != nil {
			if m == nil {
				m = map[string]*Grantor{}
			}
			m[r.Digest] = r.Grantor
		}
	}
	return m
}

// judge applies trust to doc, once it is bound to the release: the grantor
// of a grant that counts, or the reason it is ignored and why.
func (t *trust) judge(doc *evidence.Document) (g *Grantor, reason, why string) {
	if slices.Contains(GrantKinds, doc.Kind) {
		g, why := t.grantor(doc)
		if g == nil {
			return nil, ReasonGrantUnauthenticated, why
		}
		return g, "", ""
	}
	if t.required && slices.Contains(SignedKinds, doc.Kind) {
		reason, why := t.signed(doc)
		return nil, reason, why
	}
	return nil, "", ""
}
