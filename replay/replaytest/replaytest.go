// Package replaytest records a release history through a real gate.Gate,
// for the tests of package replay and of the commands built on it.
package replaytest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
)

// Start is the first day of a recorded history.
var Start = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

// Days is how many days a history spans; it ends before the default
// year-end freeze.
const Days = 75

// Step is one recorded decision.
type Step struct {
	Gate     string
	Release  string
	Now      time.Time
	DryRun   bool
	Decision *engine.Decision
}

// the allowed example release, which every generated release copies with
// its times shifted: its deploy gate ran at exampleAt.
const (
	exampleRelease = "lv-2026-11-26.1"
	exampleDir     = "examples/localizevideos/evidence/allowed"
)

var exampleAt = time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)

// Record takes n releases through g, chronologically, over Days days from
// Start, at business hours drawn from a fixed seed, and returns every
// decision. Each release runs the deploy gate with its plan, incident
// snapshot, build, deploy request and approval; when allowed, the verify
// and complete gates follow 7 and 25 minutes later, as in the example
// release. Mixed in, deterministically:
//   - every fifth release rehearses its deploy gate a minute early as a dry run;
//   - every seventh (from the fourth), and the last but one, has no approval
//     and is denied: a dry run, except for the last but one and in the
//     last three days, where it opens a real violation that the next
//     decisions see (and, once overdue, deny on);
//   - a release that falls in the weekend freeze is a dry run, and denied.
//
// Denials outside the last days are dry runs so that no violation becomes
// overdue and denies the rest of the history.
//
// The example documents are signed with the EXAMPLE keys, and so are their
// shifted copies: g's validator must trust keys.Keyring() and its engine
// bind alice to her key (keys.People()).
func Record(tb testing.TB, g *gate.Gate, n int) []Step {
	tb.Helper()
	tmpl := templates(tb)
	rng := rand.New(rand.NewPCG(22, 2026))
	times := make([]time.Time, n)
	for i := range times {
		day := Start.AddDate(0, 0, i*Days/n)
		times[i] = day.Add(time.Duration(6+rng.IntN(9))*time.Hour + time.Duration(rng.IntN(60))*time.Minute)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	last := times[n-1]
	var steps []Step
	now := time.Time{}
	g.Clock = func() time.Time { return now }
	decide := func(gateName, id string, at time.Time, dry bool, docs []*evidence.Document) *engine.Decision {
		now = at
		d, err := g.Decide(context.Background(), gate.Request{Gate: gateName, Release: engine.Release{ID: id},
			Now: at, Actor: "dave", DryRun: dry, Evidence: docs})
		if err != nil {
			tb.Fatalf("Decide(%s %s at %s) = %v", gateName, id, at, err)
		}
		steps = append(steps, Step{Gate: gateName, Release: id, Now: at, DryRun: dry, Decision: d})
		return d
	}
	for i, at := range times {
		id := fmt.Sprintf("lv-%s.%d", at.Format("2006-01-02"), i)
		docs := func(names ...string) []*evidence.Document {
			out := make([]*evidence.Document, len(names))
			for j, name := range names {
				b := shift(tb, tmpl[name], at.Sub(exampleAt), id)
				d, err := g.Validator.Decode("fixtures/"+id+"/"+name, b)
				if err != nil {
					tb.Fatalf("fixture %s of %s: %v", name, id, err)
				}
				out[j] = d
			}
			return out
		}
		before := []string{"plan.json", "incidents.json", "build.json", "deploy-requested.json"}
		noApproval := i%7 == 3 || i == n-2
		if !noApproval {
			before = append(before, "approval.json")
		}
		frozen := weekendFrozen(at)
		dry := frozen || (noApproval && i != n-2 && at.Before(last.AddDate(0, 0, -3)))
		if i%5 == 0 && !dry {
			decide("deploy", id, at.Add(-time.Minute), true, docs(before...))
		}
		d := decide("deploy", id, at, dry, docs(before...))
		if !d.Allow || dry {
			continue
		}
		decide("verify", id, at.Add(7*time.Minute), false, docs("deploy.json", "verification.json"))
		decide("complete", id, at.Add(25*time.Minute), false, docs("monitoring.json"))
	}
	return steps
}

// weekendFrozen is the default data's weekend freeze (Friday 18:00 to
// Monday 08:00, Paris time), computed here without the engine.
func weekendFrozen(t time.Time) bool {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	l := t.In(loc)
	switch l.Weekday() {
	case time.Saturday, time.Sunday:
		return true
	case time.Friday:
		return l.Hour() >= 18
	case time.Monday:
		return l.Hour() < 8
	}
	return false
}

// templates reads the example release's documents.
func templates(tb testing.TB) map[string][]byte {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("replaytest: cannot locate the examples")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", exampleDir)
	out := map[string][]byte{}
	for _, name := range []string{"plan.json", "incidents.json", "build.json", "deploy-requested.json", "approval.json",
		"deploy.json", "verification.json", "monitoring.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			tb.Fatal(err)
		}
		out[name] = b
	}
	return out
}

// shift moves every time in the document by d and renames the release; a
// signed example is signed again, as the example was.
func shift(tb testing.TB, doc []byte, d time.Duration, id string) []byte {
	signed := !bytes.Equal(keys.Open(doc), doc)
	dec := json.NewDecoder(bytes.NewReader(keys.Open(doc)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		tb.Fatal(err)
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		case string:
			if t, err := time.Parse(time.RFC3339, x); err == nil {
				return t.Add(d).UTC().Format(time.RFC3339Nano)
			}
			return strings.ReplaceAll(x, exampleRelease, id)
		}
		return v
	}
	b, err := json.Marshal(walk(v))
	if err != nil {
		tb.Fatal(err)
	}
	if signed {
		if b, err = keys.Seal(b); err != nil {
			tb.Fatal(err)
		}
	}
	return b
}
