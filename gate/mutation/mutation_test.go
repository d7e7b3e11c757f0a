package mutation_test

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
)

var reportFlag = flag.String("mutation.report", "",
	"write every mutant's row (mutant, gate, verdict, expected, got, why) to this tab-separated file; SHIPGATE_MUTATION_REPORT does the same")

func reportPath() string {
	if *reportFlag != "" {
		return *reportFlag
	}
	return os.Getenv("SHIPGATE_MUTATION_REPORT")
}

// Verdicts of the table. The first three pass; the last three fail.
const (
	verdictDeny     = "deny"
	verdictInvalid  = "deny-invalid"
	verdictByDesign = "allowed-by-design"
	// verdictDesignDenied is a mutant listed as allowed by design that
	// denies: safe, but the list (or a policy) is wrong. It is reported,
	// not failed.
	verdictDesignDenied = "by-design-but-denied"
	verdictHole         = "HOLE"
	verdictWrongRule    = "WRONG-RULE"
	verdictNoOracle     = "NO-ORACLE"
)

// result is one row of the table.
type result struct {
	mutant, gate, verdict string
	expected              string // codes, any of; "evidence.invalid"; or the by-design reason
	why                   string // the oracle's reason
	got                   string // describe(decision)
	by                    string // what it denied with, for the count by rule
}

func TestMutants(t *testing.T) {
	began := time.Now()
	g := decider(t)
	steps := loadSteps(t)
	mutants := generate(t, steps)
	design, err := loadByDesign("testdata/allowed-by-design.yaml")
	if err != nil {
		t.Fatal(err)
	}

	// A harness over a base that denies proves nothing.
	bases := map[string]bool{}
	for _, m := range mutants {
		bases[m.step.id()] = true
	}
	for _, id := range slices.Sorted(maps.Keys(bases)) {
		d, err := decide(g, &mutant{name: id + "/unmutated", step: steps[id]}, "", 0)
		if err != nil || !d.Allow {
			t.Fatalf("base %s must allow unmutated: %s (%v)", id, describe(d), err)
		}
	}

	dir := t.TempDir()
	var rows []result
	for i, m := range mutants {
		rows = append(rows, judge(t, g, design, m, dir, i))
	}
	if len(mutants) < 250 {
		t.Errorf("%d mutants; issue #14 asks for at least 250", len(mutants))
	}
	for _, e := range design {
		if e.used == 0 {
			t.Errorf("testdata/allowed-by-design.yaml: %s matches no schema-valid mutant without an oracle: remove it", e.Mutant)
		}
	}
	for _, r := range rows {
		switch r.verdict {
		case verdictHole:
			t.Errorf("HOLE %s: allows; want a denial with %s (%s)", r.mutant, r.expected, r.why)
		case verdictWrongRule:
			t.Errorf("WRONG-RULE %s: %s; want a denial with %s", r.mutant, r.got, r.expected)
		case verdictNoOracle:
			t.Errorf("NO-ORACLE %s: %s; give it an oracle (oracle_test.go) or list it in testdata/allowed-by-design.yaml", r.mutant, r.got)
		case verdictDesignDenied:
			t.Logf("note: %s is listed as allowed by design but %s", r.mutant, r.got)
		}
	}
	summary(t, rows, time.Since(began))
	if p := reportPath(); p != "" {
		if err := writeReport(p, rows); err != nil {
			t.Error(err)
		}
	}
}

// decide runs the real gate on the mutant's evidence set: its unchanged
// documents as the validator decoded them from the examples, the changed
// and added ones as files written into dir, which the gate reads and
// validates. invalid says whether the validator refuses one of those on
// its own.
func decide(g *gate.Gate, m *mutant, dir string, i int) (*engine.Decision, error) {
	d, _, err := decideChecked(g, m, dir, i)
	return d, err
}

func decideChecked(g *gate.Gate, m *mutant, dir string, i int) (d *engine.Decision, invalid bool, err error) {
	var paths []string
	var docs []*evidence.Document
	write := func(name string, b []byte) error {
		f := filepath.Join(dir, fmt.Sprintf("%04d-%s", i, name))
		if err := os.WriteFile(f, b, 0o644); err != nil {
			return err
		}
		if _, err := g.Validator.Decode(f, b); err != nil {
			invalid = true
		}
		paths = append(paths, f)
		return nil
	}
	for _, doc := range m.step.docs {
		b, replaced := m.replace[doc.name]
		switch {
		case !replaced:
			docs = append(docs, doc.decoded)
		case b != nil:
			if err := write(doc.name, reseal(doc.key, b)); err != nil {
				return nil, false, err
			}
		}
	}
	for j, b := range m.add {
		if err := write(fmt.Sprintf("added-%d.json", j), sealAdded(b)); err != nil {
			return nil, false, err
		}
	}
	d, err = g.Decide(context.Background(), gate.Request{
		Gate: m.step.gate, Release: engine.Release{ID: m.step.release}, Evidence: docs, EvidencePaths: paths, Now: m.step.now,
	})
	if d == nil {
		return nil, invalid, fmt.Errorf("%s: Decide returned no decision: %v", m.name, err)
	}
	return d, invalid, err
}

// judge evaluates one mutant and compares the decision with its oracle.
func judge(t *testing.T, g *gate.Gate, design []*byDesign, m *mutant, dir string, i int) result {
	t.Helper()
	d, invalid, err := decideChecked(g, m, dir, i)
	if d == nil {
		t.Fatal(err)
	}
	r := result{mutant: m.name, gate: m.step.gate, got: describe(d)}
	if invalid {
		// The validator refuses a document: the gate must deny without
		// evaluating, whatever the policies would say.
		r.expected = engine.ReasonEvidenceInvalid
		switch {
		case d.Allow:
			r.verdict = verdictHole
		case d.Reason == engine.ReasonEvidenceInvalid:
			r.verdict, r.by = verdictInvalid, engine.ReasonEvidenceInvalid
		default:
			r.verdict = verdictWrongRule
		}
		return r
	}
	// An oracle comes first, so that no entry of the list can hide a
	// mutant that must deny.
	o, hasOracle := oracleFor(m)
	r.expected = strings.Join(o.codes, "|")
	if hasOracle && len(o.codes) == 0 {
		r.expected = "any denial"
	}
	if hasOracle {
		r.why = o.why
	}
	if e := designFor(design, m.name); e != nil && !hasOracle {
		e.used++
		r.expected = "allowed by design: " + e.Reason
		r.verdict = verdictByDesign
		if !d.Allow {
			r.verdict = verdictDesignDenied
		}
		return r
	}
	switch {
	case d.Allow && !hasOracle:
		r.verdict, r.expected = verdictNoOracle, "no oracle"
	case d.Allow:
		r.verdict = verdictHole
	case !hasOracle:
		r.verdict, r.expected = verdictNoOracle, "no oracle"
	default:
		if by := matched(d, o.codes); by != "" {
			r.verdict, r.by = verdictDeny, by
		} else {
			r.verdict = verdictWrongRule
		}
	}
	return r
}

// summary logs the counts: mutants, denials by rule, allowed by design,
// and every mutant that allows without being listed.
func summary(t *testing.T, rows []result, took time.Duration) {
	byVerdict := map[string]int{}
	byRule := map[string]int{}
	perGate := map[string]int{}
	var holes []string
	for _, r := range rows {
		byVerdict[r.verdict]++
		perGate[r.gate]++
		if r.by != "" {
			byRule[r.by]++
		}
		if r.verdict == verdictHole || (r.verdict == verdictNoOracle && strings.HasPrefix(r.got, "ALLOW")) {
			holes = append(holes, r.mutant)
		}
	}
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "mutants\t%d\t(deploy %d, verify %d, complete %d, flag %d) in %s\n", len(rows),
		perGate["deploy"], perGate["verify"], perGate["complete"], perGate["flag"], took.Round(time.Millisecond))
	for _, v := range []string{verdictDeny, verdictInvalid, verdictByDesign, verdictDesignDenied, verdictHole, verdictWrongRule, verdictNoOracle} {
		fmt.Fprintf(w, "%s\t%d\n", v, byVerdict[v])
	}
	fmt.Fprintln(w, "denied with\t")
	keys := slices.SortedFunc(maps.Keys(byRule), func(a, b string) int {
		return cmp.Or(cmp.Compare(byRule[b], byRule[a]), cmp.Compare(a, b))
	})
	for _, k := range keys {
		fmt.Fprintf(w, "  %s\t%d\n", k, byRule[k])
	}
	w.Flush()
	if len(holes) > 0 {
		fmt.Fprintf(&b, "FAIL: %d mutants allow without being allowed by design:\n  %s\n", len(holes), strings.Join(holes, "\n  "))
	}
	t.Log("\n" + b.String())
}

func writeReport(file string, rows []result) error {
	var b strings.Builder
	b.WriteString("mutant\tgate\tverdict\texpected\tgot\twhy\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\t%s\n", r.mutant, r.gate, r.verdict, r.expected, r.got, r.why)
	}
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write mutation report: %w", err)
	}
	return nil
}
