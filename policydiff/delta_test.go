package policydiff_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/internal/policytest"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policydiff"
)

const peek = `package shipgate.rules.peek

import data.shipgate.rules.freeze

rules := {"peek.frozen": {"title": "Not frozen", "enforcement": "advisory", "gates": {"deploy"}, "remediation": "none"}}

findings contains {"rule": "peek.frozen", "message": "frozen", "evidence": []} if freeze.frozen
`

// Compare tells a change it can check by the changed rule files alone from
// one that needs every decision evaluated in full, and says why.
func TestCompare(t *testing.T) {
	ctx := context.Background()
	load := func(fsys fs.FS, data map[string]any) *engine.Engine {
		t.Helper()
		e, err := engine.Load(ctx, engine.Options{Policies: fsys, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	edit := func(file, old, new string) fs.FS {
		return policytest.Edited(t, map[string]func(string) string{file: policytest.Replace(t, old, new)})
	}
	const frozen = "frozen if input.release.environment in lib.config.freeze.environments"
	base := load(policies.FS, nil)
	withData := func(change func(map[string]any)) *engine.Engine {
		d := policytest.Data(t)
		change(d)
		return load(policies.FS, d)
	}
	withPeek := policytest.Edited(t, map[string]func(string) string{"rules/peek.rego": policytest.Add(peek)})
	peekFrozen := policytest.Edited(t, map[string]func(string) string{
		"rules/peek.rego":                   policytest.Add(peek),
		"shipgate/rules/freeze/freeze.rego": policytest.Replace(t, frozen, frozen+"\n\nfrozen if input.release.environment == \"staging\""),
	})

	for _, tc := range []struct {
		name       string
		base, head *engine.Engine
		same       bool
		full       string // a part of the reason, "" when not full
		changed    []string
	}{
		{name: "identical", base: base, head: load(policies.FS, nil), same: true},
		{name: "layout and comments only", base: base, same: true,
			head: load(edit("shipgate/rules/freeze/freeze.rego", frozen, "# frozen: by environment\nfrozen if {\n\tinput.release.environment in lib.config.freeze.environments\n}"), nil)},
		{name: "a rule file", base: base, changed: []string{"data.shipgate.rules.freeze"},
			head: load(edit("shipgate/rules/freeze/freeze.rego", frozen, frozen+"\n\nfrozen if input.release.environment == \"staging\""), nil)},
		{name: "rule metadata", base: base, full: "declares different rules",
			head: load(edit("shipgate/rules/freeze/freeze.rego", "title: No release in a hard-freeze window", "title: No release in a freeze window"), nil)},
		{name: "the library", base: base, full: "package data.shipgate.lib changed",
			head: load(edit("shipgate/lib/evidence.rego", "substring(commit, 0, 12)", "substring(commit, 0, 10)"), nil)},
		{name: "freeze calendar", base: base, changed: []string{},
			head: withData(func(d map[string]any) {
				fr := d["freeze"].(map[string]any)
				fr["calendar"] = append(fr["calendar"].([]any), map[string]any{"id": "m", "name": "Migration", "reason": "schema",
					"start": "2026-12-01T09:00:00Z", "end": "2026-12-02T09:00:00Z"})
			})},
		{name: "a limit read by one rule file", base: base, changed: []string{"data.shipgate.rules.change"},
			head: withData(func(d map[string]any) { d["change"].(map[string]any)["max_lines"] = 100 })},
		{name: "approvers, read by the library", base: base, full: "shipgate/lib/people.rego",
			head: withData(func(d map[string]any) { d["approvers"] = []any{"alice"} })},
		{name: "a setting the engine reads", base: base, full: "which the engine reads itself",
			head: withData(func(d map[string]any) { d["clock_skew"] = "1m" })},
		{name: "a new rule file", base: base, head: load(withPeek, nil), full: "data.shipgate.rules.peek declares different rules"},
		{name: "rule metadata that depends on the input", base: load(withPeek, nil), full: "depends on the input",
			head: load(policytest.Edited(t, map[string]func(string) string{"rules/peek.rego": policytest.Add(strings.Replace(peek,
				`"remediation": "none"}}`, `"remediation": "none"}} if input.release.id != ""`, 1))}), nil)},
		{name: "another file reads a changed helper", base: load(withPeek, nil), head: load(peekFrozen, nil), full: "reads frozen of changed data.shipgate.rules.freeze"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := policydiff.Compare(ctx, tc.base, tc.head)
			if err != nil {
				t.Fatal(err)
			}
			if d.Same() != tc.same {
				t.Errorf("Same() = %t; want %t (full %q, changed %v)", d.Same(), tc.same, d.Full(), d.Changed())
			}
			if tc.full == "" && d.Full() != "" || tc.full != "" && !strings.Contains(d.Full(), tc.full) {
				t.Errorf("Full() = %q; want %q", d.Full(), tc.full)
			}
			if tc.full == "" && !tc.same && !slices.Equal(d.Changed(), tc.changed) {
				t.Errorf("Changed() = %v; want %v", d.Changed(), tc.changed)
			}
		})
	}
}

// A decision reused through a Delta is the decision the head evaluates:
// where the changed rule file answers alike, and where it does not.
func TestDeltaEvaluateMatchesHead(t *testing.T) {
	ctx := context.Background()
	base := defaultEngine(t)
	// Production is frozen in the default data; the head freezes staging
	// as well, which changes nothing for these production releases, and
	// drops the hard-window rule's findings, which changes a decision made
	// in a window.
	head, err := engine.Load(ctx, engine.Options{Policies: policytest.Edited(t, map[string]func(string) string{
		"shipgate/rules/freeze/freeze.rego": policytest.Replace(t, "frozen if input.release.environment in lib.config.freeze.environments",
			"frozen if input.release.environment in lib.config.freeze.environments\n\nfrozen if input.release.environment == \"staging\""),
	}), People: keys.People()})
	if err != nil {
		t.Fatal(err)
	}
	d, err := policydiff.Compare(ctx, base, head)
	if err != nil || d.Full() != "" || d.Same() {
		t.Fatalf("Compare() = full %q, same %t, %v", d.Full(), d.Same(), err)
	}
	cases := benchCases(t)
	for name, docs := range cases {
		for _, gate := range engine.Gates {
			in := engine.Input{Gate: gate, Release: release, Now: deployAt, Evidence: docs}
			b, _ := base.Evaluate(ctx, in)
			want, _ := head.Evaluate(ctx, in)
			got, reused, err := d.Evaluate(ctx, in, b)
			if err != nil {
				t.Fatal(err)
			}
			if !reused {
				t.Errorf("%s at %s: not reused", name, gate)
			}
			if a, b := canonicalJSON(t, got), canonicalJSON(t, want); a != b {
				t.Errorf("%s at %s: delta\n%s\nhead\n%s", name, gate, a, b)
			}
		}
	}

	// A decision from another input, policy set or gate is not reused.
	in := engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: cases["allowed"]}
	b, _ := base.Evaluate(ctx, in)
	later := in
	later.Now = deployAt.Add(time.Minute)
	if _, reused, _ := d.Evaluate(ctx, later, b); reused {
		t.Error("reused a decision made on another input")
	}
	other := *b
	other.Policy.Revision = "sha256:other"
	if _, reused, _ := d.Evaluate(ctx, in, &other); reused {
		t.Error("reused a decision of another policy set")
	}
	verify := in
	verify.Gate = "verify"
	if _, reused, _ := d.Evaluate(ctx, verify, b); reused {
		t.Error("reused a decision of another gate")
	}
	fault := *b
	fault.Reason = engine.ReasonRuntimeError
	if _, reused, _ := d.Evaluate(ctx, in, &fault); reused {
		t.Error("reused an engine fault")
	}
}

func canonicalJSON(t *testing.T, d *engine.Decision) string {
	t.Helper()
	b, err := json.MarshalIndent(d, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A `with` on the way from a gate's decision to the changed rule files
// (other than the gate naming itself) makes that gate evaluate in full:
// the files would answer another input there.
func TestDeltaWithModifierEvaluatesGate(t *testing.T) {
	ctx := context.Background()
	const frozen = "frozen if input.release.environment in lib.config.freeze.environments"
	gateEdit := policytest.Replace(t, `with input.gate as "deploy"`, `with input.gate as "verify"`)
	base, err := engine.Load(ctx, engine.Options{Policies: policytest.Edited(t, map[string]func(string) string{"shipgate/gates/deploy/deploy.rego": gateEdit})})
	if err != nil {
		t.Fatal(err)
	}
	head, err := engine.Load(ctx, engine.Options{Policies: policytest.Edited(t, map[string]func(string) string{
		"shipgate/gates/deploy/deploy.rego": gateEdit,
		"shipgate/rules/freeze/freeze.rego": policytest.Replace(t, frozen, frozen+"\n\nfrozen if input.release.environment == \"staging\""),
	})})
	if err != nil {
		t.Fatal(err)
	}
	d, err := policydiff.Compare(ctx, base, head)
	if err != nil || d.Full() != "" {
		t.Fatalf("Compare() = full %q, %v", d.Full(), err)
	}
	docs := benchCases(t)["allowed"]
	for gate, want := range map[string]bool{"deploy": false, "verify": true} {
		in := engine.Input{Gate: gate, Release: release, Now: deployAt, Evidence: docs}
		b, _ := base.Evaluate(ctx, in)
		if _, reused, _ := d.Evaluate(ctx, in, b); reused != want {
			t.Errorf("%s: reused %t; want %t", gate, reused, want)
		}
	}
}

// With the shipped decision library, a changed rule file that has no rule
// at a gate is not evaluated there, and of one that has, only what the
// library keeps is compared; a file that reads another's findings turns
// that off, as its own answers would change with them.
func TestDeltaShippedLibrary(t *testing.T) {
	ctx := context.Background()
	small := policytest.Data(t)
	small["change"].(map[string]any)["max_lines"] = 10
	const watcher = `package shipgate.rules.watcher

import data.shipgate.rules.change

rules := {"watcher.big": {"title": "No big change", "enforcement": "hard", "gates": {"verify"}, "remediation": "none"}}

findings contains {"rule": "watcher.big", "message": "big", "evidence": []} if count(change.findings) > 0
`
	withWatcher := policytest.Edited(t, map[string]func(string) string{"rules/watcher.rego": policytest.Add(watcher)})
	docs := benchCases(t)["allowed"]
	for _, tc := range []struct {
		name   string
		policy fs.FS
		// reused by gate: change.size (deploy only) fires on every
		// release with the smaller limit.
		want map[string]bool
	}{
		{"shipped library", policies.FS, map[string]bool{"deploy": false, "verify": true, "complete": true}},
		{"a file reads another's findings", withWatcher, map[string]bool{"deploy": false, "verify": false, "complete": false}},
	} {
		base, err := engine.Load(ctx, engine.Options{Policies: tc.policy})
		if err != nil {
			t.Fatal(err)
		}
		head, err := engine.Load(ctx, engine.Options{Policies: tc.policy, Data: small})
		if err != nil {
			t.Fatal(err)
		}
		d, err := policydiff.Compare(ctx, base, head)
		if err != nil || d.Full() != "" {
			t.Fatalf("%s: Compare() = %q, %v", tc.name, d.Full(), err)
		}
		for gate, want := range tc.want {
			in := engine.Input{Gate: gate, Release: release, Now: deployAt, Evidence: docs}
			b, _ := base.Evaluate(ctx, in)
			got, reused, err := d.Evaluate(ctx, in, b)
			if err != nil || reused != want {
				t.Errorf("%s at %s: reused %t, %v; want %t", tc.name, gate, reused, err, want)
			}
			full, _ := head.Evaluate(ctx, in)
			if a, b := canonicalJSON(t, got), canonicalJSON(t, full); a != b {
				t.Errorf("%s at %s: delta\n%s\nhead\n%s", tc.name, gate, a, b)
			}
		}
	}
}
