package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/ledger"
)

// TypePolicy is the ledger entry type that records a policy set, once per
// revision, in the transaction of the first decision made under it.
const TypePolicy = "policy"

// Policy is one recorded policy set: the modules and data a decision's
// policy.revision names, so that the decision can be evaluated again from
// the ledger alone.
type Policy struct {
	// Revision is the digest decisions record as policy.revision
	// (PolicyRevision of Modules and Data); the entry's key.
	Revision string
	// Modules are the Rego modules, sorted by path.
	Modules []PolicyModule
	// Data is the canonical JSON (RFC 8785) of the whole data tree.
	Data []byte
	// Seq is the ledger entry that recorded it; AddedAt the entry's time.
	Seq     int64
	AddedAt time.Time
}

// PolicyModule is one module of a Policy: its path inside the policy set
// and its source, unchanged.
type PolicyModule struct {
	Path   string `json:"path"`
	Source string `json:"source"`
}

// policyPayload is the payload of a policy entry.
type policyPayload struct {
	Revision string          `json:"revision"`
	Modules  []PolicyModule  `json:"modules"`
	Data     json.RawMessage `json:"data"`
}

// PolicyRevision is the digest of a policy set, as the engine computes it
// for a loaded set (engine.Engine.Revision): for each module in path order
// "module <path> <length>\n" and its source, then "data <length>\n" and the
// canonical JSON of the data. data must be canonical already.
func PolicyRevision(modules []PolicyModule, data []byte) string {
	h := sha256.New()
	for _, m := range modules {
		fmt.Fprintf(h, "module %s %d\n", m.Path, len(m.Source))
		h.Write([]byte(m.Source))
	}
	fmt.Fprintf(h, "data %d\n", len(data))
	h.Write(data)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// checkModules refuses a module list that is not in canonical order or
// whose paths or sources could not have come from a policy set.
func checkModules(rev string, modules []PolicyModule) error {
	if len(modules) == 0 {
		return fmt.Errorf("policy %s: no modules", rev)
	}
	for i, m := range modules {
		if m.Path == "" || strings.HasPrefix(m.Path, "/") || path.Clean(m.Path) != m.Path || m.Path == ".." || strings.HasPrefix(m.Path, "../") {
			return fmt.Errorf("policy %s: module path %q is not a clean relative path", rev, m.Path)
		}
		if i > 0 && modules[i-1].Path >= m.Path {
			return fmt.Errorf("policy %s: module %q: modules must be sorted by path, each once", rev, m.Path)
		}
		// JSON keeps text only: a source that is not UTF-8 would not read
		// back as it was recorded.
		if !utf8.ValidString(m.Source) {
			return fmt.Errorf("policy %s: module %s is not UTF-8 text", rev, m.Path)
		}
	}
	return nil
}

// PolicyEntry returns the entry that records p, for ledger.Next to
// complete. The data is canonicalized, the modules must be sorted by path,
// and the revision they compute must be p.Revision.
func PolicyEntry(p Policy) (ledger.Entry, error) {
	if p.Revision == "" {
		return ledger.Entry{}, fmt.Errorf("policy: no revision")
	}
	if err := checkModules(p.Revision, p.Modules); err != nil {
		return ledger.Entry{}, err
	}
	data, err := evidence.Canonical(p.Data)
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("policy %s: data: %w", p.Revision, err)
	}
	if !bytes.HasPrefix(data, []byte("{")) {
		return ledger.Entry{}, fmt.Errorf("policy %s: data is not a JSON object", p.Revision)
	}
	if got := PolicyRevision(p.Modules, data); got != p.Revision {
		return ledger.Entry{}, fmt.Errorf("policy %s: the modules and data compute revision %s", p.Revision, got)
	}
	payload, err := marshal(policyPayload{Revision: p.Revision, Modules: p.Modules, Data: data})
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("policy %s: %w", p.Revision, err)
	}
	return ledger.Entry{Type: TypePolicy, Key: p.Revision, Payload: payload}, nil
}

// PolicyOf reads the policy set a policy entry holds, Seq and AddedAt
// included. Its modules and data must compute the entry's key.
func PolicyOf(e ledger.Entry) (Policy, error) {
	if e.Type != TypePolicy {
		return Policy{}, fmt.Errorf("entry %d is a %s entry, not a policy", e.Seq, e.Type)
	}
	var p policyPayload
	if err := decodeStrict(e.Payload, &p); err != nil {
		return Policy{}, fmt.Errorf("policy %s: payload: %w", e.Key, err)
	}
	var c conflicts
	c.str("the key", e.Key, p.Revision)
	if e.Release != "" || e.Service != "" {
		c = append(c, "a policy entry names no release or service")
	}
	if err := c.err("policy " + e.Key + " (payload vs entry)"); err != nil {
		return Policy{}, err
	}
	if err := checkModules(e.Key, p.Modules); err != nil {
		return Policy{}, err
	}
	if got := PolicyRevision(p.Modules, p.Data); got != e.Key {
		return Policy{}, fmt.Errorf("policy %s: the modules and data compute revision %s", e.Key, got)
	}
	return Policy{Revision: e.Key, Modules: p.Modules, Data: p.Data, Seq: e.Seq, AddedAt: e.Time}, nil
}

// PolicyRecord reads the policy set of a stored policy entry body, as
// Document does for evidence: reads trust the ledger, Verify checks it.
func PolicyRecord(seq int64, body []byte) (Policy, error) {
	e, err := ledger.Parse(body)
	if err != nil {
		return Policy{}, fmt.Errorf("policy entry %d: %w", seq, err)
	}
	return PolicyOf(e)
}
