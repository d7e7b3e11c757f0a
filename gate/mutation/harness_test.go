package mutation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/replay"
	"github.com/localizevideos/shipgate/schemas"
)

// evidenceRoot holds the LocalizeVideos example cases the harness and the
// corpus start from.
const evidenceRoot = "../../examples/localizevideos/evidence"

var setup struct {
	once sync.Once
	gate *gate.Gate
	err  error
}

// decider is the real use case, built once per test binary: the default
// policies compiled into one engine, the schemas into one validator, and
// no store (the gate then records nothing, and reads nothing but the
// evidence it is given).
func decider(t testing.TB) *gate.Gate {
	t.Helper()
	setup.once.Do(func() {
		// The example evidence is signed with the EXAMPLE keys, which the
		// examples' data overlay trusts: the harness runs with it, as the
		// examples do.
		base, _, err := replay.ReadData(policies.FS)
		if err != nil {
			setup.err = fmt.Errorf("read policy data: %w", err)
			return
		}
		eng, err := engine.Load(context.Background(), engine.Options{Policies: policies.FS, Data: policyset.MergeData(base, keys.Overlay()), People: keys.People()})
		if err != nil {
			setup.err = fmt.Errorf("load policies: %w", err)
			return
		}
		reg, err := schemas.Compile()
		if err != nil {
			setup.err = fmt.Errorf("compile schemas: %w", err)
			return
		}
		setup.gate = &gate.Gate{Engine: eng, Validator: evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring()),
			NewID: func(prefix string, _ time.Time) string { return prefix + "_mutation" }}
	})
	if setup.err != nil {
		t.Fatal(setup.err)
	}
	return setup.gate
}

// codes lists what a decision can be matched on: its reason, then the rule
// of each violation, sorted.
func codes(d *engine.Decision) []string {
	var rules []string
	for _, v := range d.Violations {
		rules = append(rules, v.Rule)
	}
	slices.Sort(rules)
	return append([]string{d.Reason}, slices.Compact(rules)...)
}

// matched returns the first of want that d denies with (its reason or a
// violation's rule), "" when none does. An empty want matches any denial,
// and then the first code of d is returned.
func matched(d *engine.Decision, want []string) string {
	if d.Allow {
		return ""
	}
	got := codes(d)
	if len(want) == 0 {
		if len(got) > 1 {
			return got[1]
		}
		return got[0]
	}
	for _, w := range want {
		if slices.Contains(got, w) {
			return w
		}
	}
	return ""
}

// describe is a decision in one cell: ALLOW or DENY, its reason and rules.
func describe(d *engine.Decision) string {
	verdict := "DENY"
	if d.Allow {
		verdict = "ALLOW"
	}
	c := codes(d)
	return fmt.Sprintf("%s %s [%s]", verdict, c[0], strings.Join(c[1:], " "))
}

type jsonNumber = json.Number

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

// The JSON documents are mutated as trees of map[string]any, []any,
// string, json.Number, bool and nil; a path is a list of object keys and
// array indices (as decimal strings), written with dots in mutant names.

func parseTree(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = clone(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = clone(e)
		}
		return out
	}
	return v
}

func cloneDoc(m map[string]any) map[string]any { return clone(m).(map[string]any) }

// encode writes a tree as indented JSON, keys sorted.
func encode(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// get returns the value at p.
func get(root any, p []string) (any, bool) {
	v := root
	for _, k := range p {
		switch x := v.(type) {
		case map[string]any:
			e, ok := x[k]
			if !ok {
				return nil, false
			}
			v = e
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// set replaces (or adds, in an object) the value at p, in place.
func set(root any, p []string, v any) {
	parent, ok := get(root, p[:len(p)-1])
	if !ok {
		panic(fmt.Sprintf("set %v: no parent", p))
	}
	k := p[len(p)-1]
	switch x := parent.(type) {
	case map[string]any:
		x[k] = v
	case []any:
		i, _ := strconv.Atoi(k)
		x[i] = v
	default:
		panic(fmt.Sprintf("set %v: parent is %T", p, parent))
	}
}

// remove deletes the member or element at p, in place.
func remove(root any, p []string) {
	parent, _ := get(root, p[:len(p)-1])
	k := p[len(p)-1]
	switch x := parent.(type) {
	case map[string]any:
		delete(x, k)
	case []any:
		i, _ := strconv.Atoi(k)
		set(root, p[:len(p)-1], slices.Delete(slices.Clone(x), i, i+1))
	}
}

// insertAfter puts v right after the element at p of an array, in place.
func insertAfter(root any, p []string, v any) {
	parent, _ := get(root, p[:len(p)-1])
	x := parent.([]any)
	i, _ := strconv.Atoi(p[len(p)-1])
	set(root, p[:len(p)-1], slices.Insert(slices.Clone(x), i+1, v))
}

// encodeDuplicateKey writes root as JSON with the member at p written
// twice: first as it is, then with the value dup. A strict decoder must
// refuse it; a lenient one would keep one of the two.
func encodeDuplicateKey(root any, p []string, dup any) []byte {
	var buf bytes.Buffer
	var write func(v any, at []string)
	write = func(v any, at []string) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			buf.WriteByte('{')
			for i, k := range keys {
				if i > 0 {
					buf.WriteByte(',')
				}
				kb, _ := json.Marshal(k)
				buf.Write(kb)
				buf.WriteByte(':')
				sub := append(slices.Clone(at), k)
				write(x[k], sub)
				if slices.Equal(sub, p) {
					buf.WriteByte(',')
					buf.Write(kb)
					buf.WriteByte(':')
					write(dup, nil)
				}
			}
			buf.WriteByte('}')
		case []any:
			buf.WriteByte('[')
			for i, e := range x {
				if i > 0 {
					buf.WriteByte(',')
				}
				write(e, append(slices.Clone(at), strconv.Itoa(i)))
			}
			buf.WriteByte(']')
		default:
			b, err := json.Marshal(x)
			if err != nil {
				panic(err)
			}
			buf.Write(b)
		}
	}
	write(root, nil)
	buf.WriteByte('\n')
	return buf.Bytes()
}

// signedBy is the name of the example key that signed the DSSE envelope b,
// "" when b is no envelope or names no example key.
func signedBy(b []byte) string {
	var env struct {
		PayloadType string `json:"payloadType"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
		} `json:"signatures"`
	}
	if json.Unmarshal(b, &env) != nil || env.PayloadType == "" {
		return ""
	}
	for _, sig := range env.Signatures {
		for _, n := range []string{keys.EvidenceKey, keys.AliceKey, keys.BobKey} {
			if sig.KeyID == keys.ID(n) {
				return n
			}
		}
	}
	return ""
}

// reseal signs a mutated document again as the example it came from was
// signed: with key, the example key that signed the original ("" leaves
// it bare, as the original was). A field mutant changes the document, not
// its signature: breaking the signature itself is the negative corpus's
// (envelope-*). b that is already an envelope, or no JSON object with a
// kind, is left as it is.
func reseal(key string, b []byte) []byte {
	if key == "" || b == nil {
		return b
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(b, &probe) != nil {
		return b
	}
	if _, ok := probe["kind"]; !ok {
		return b
	}
	if _, ok := probe["payloadType"]; ok {
		return b
	}
	env, err := keys.Signer(key).Seal(context.Background(), b)
	if err != nil {
		panic(err)
	}
	return env
}

// sealAdded signs a document a mutant adds as the examples sign one of
// its kind and person (keys.Seal); a grant of someone without an example
// key is signed with the evidence key, as a pipeline would sign it, and
// so authenticated as nobody.
func sealAdded(b []byte) []byte {
	var d struct {
		Kind string `json:"kind"`
	}
	if json.Unmarshal(b, &d) != nil {
		return b
	}
	switch d.Kind {
	case "Build", "Deploy", "Verification", "Monitoring", "Rollback", "Approval", "Override", "Hold":
	default:
		return b
	}
	if env, err := keys.Seal(b); err == nil {
		return env
	}
	return reseal(keys.EvidenceKey, b)
}
