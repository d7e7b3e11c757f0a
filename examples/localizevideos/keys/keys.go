// Package keys holds the EXAMPLE signing keys of the LocalizeVideos
// example evidence (README.md in this folder): example-evidence signs what
// the example pipeline records (Build, Deploy, Verification, Monitoring,
// Rollback), example-alice and example-bob sign the approvals and
// overrides of alice and bob. Their private halves are public: never trust
// them outside the examples and tests.
//
// The example cases are signed with them, and ../example-data.yaml, the
// policy data overlay the examples run with, trusts them (Overlay is the
// same data). Tests use Keyring, People and Seal to read, trust and sign
// example evidence.
package keys

import (
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/ledger"
)

//go:embed *.key *.pub
var files embed.FS

// Names of the example keys, as their files are named (NAME.key, NAME.pub).
const (
	EvidenceKey = "example-evidence"
	AliceKey    = "example-alice"
	BobKey      = "example-bob"
)

// person maps the people of the examples to their keys.
var person = map[string]string{"alice": AliceKey, "bob": BobKey}

func private(name string) *evidence.Signer {
	b, err := files.ReadFile(name + ".key")
	if err != nil {
		panic(err)
	}
	k, err := ledger.ParsePrivateKey(b)
	if err != nil {
		panic(fmt.Sprintf("example key %s: %v", name, err))
	}
	return evidence.NewSigner(k)
}

// Signer is the example key name.
func Signer(name string) *evidence.Signer { return private(name) }

// ID is the key id of the example key name.
func ID(name string) string {
	id, _ := private(name).KeyID()
	return id
}

// Keyring trusts the three example keys, as --trusted-key
// examples/localizevideos/keys does.
func Keyring() *evidence.Keyring {
	k := evidence.NewKeyring()
	for _, n := range []string{EvidenceKey, AliceKey, BobKey} {
		k.Add(private(n).Public())
	}
	return k
}

// People binds alice and bob to their example keys, as the policy data
// signing.people of the example overlay does.
func People() map[string][]string {
	out := map[string][]string{}
	for p, n := range person {
		out[p] = []string{ID(n)}
	}
	return out
}

// Overlay is the policy data overlay of the examples
// (../example-data.yaml): the example evidence key trusted, alice and bob
// bound to their keys.
func Overlay() map[string]any {
	people := map[string]any{}
	for p, ids := range People() {
		people[p] = []any{ids[0]}
	}
	return map[string]any{"signing": map[string]any{
		"trusted_keys": map[string]any{ID(EvidenceKey): "EXAMPLE evidence key (examples/localizevideos/keys/example-evidence.key): public, for the examples only"},
		"people":       people,
	}}
}

// Seal signs the evidence document doc as the examples sign it: an
// Approval or Override with its approver's key, a Hold with its holder's,
// anything else with the example evidence key. An envelope is unwrapped
// and signed again.
func Seal(doc []byte) ([]byte, error) {
	doc = Open(doc)
	var d struct {
		Kind string `json:"kind"`
		Data struct {
			Approver string `json:"approver"`
			By       string `json:"by"`
		} `json:"data"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("example document: %w", err)
	}
	name := EvidenceKey
	switch d.Kind {
	case "Approval", "Override", "Hold":
		who := d.Data.Approver
		if d.Kind == "Hold" {
			who = d.Data.By
		}
		n, ok := person[who]
		if !ok {
			return nil, fmt.Errorf("example %s by %q: the examples have keys for alice and bob only", d.Kind, who)
		}
		name = n
	}
	return private(name).Seal(context.Background(), doc)
}

// Open returns the document inside a DSSE envelope, unverified, or b when
// it is no envelope: for tests that edit an example document before they
// sign it again.
func Open(b []byte) []byte {
	var env struct {
		PayloadType string          `json:"payloadType"`
		Payload     string          `json:"payload"`
		Signatures  json.RawMessage `json:"signatures"`
	}
	if json.Unmarshal(b, &env) != nil || env.PayloadType == "" || env.Signatures == nil {
		return b
	}
	p, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return b
	}
	return p
}
