package mutation_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/cases"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
)

// A step is one gate evaluation of an example case that allows: the base
// every mutant of it changes.
type step struct {
	caseName, gate, release string
	now                     time.Time
	docs                    []*docFile // in case.yaml order
}

func (s *step) id() string { return s.caseName + "/" + s.gate }

func (s *step) doc(name string) *docFile {
	for _, d := range s.docs {
		if d.name == name {
			return d
		}
	}
	return nil
}

// docFile is one evidence document of a step, read from the examples.
type docFile struct {
	name      string // base name, unique within its step
	path      string
	kind      string
	tree      map[string]any
	collected time.Time
	// decoded is the document as the gate's validator read it, once: the
	// documents a mutant keeps go to the gate decoded, those it changes
	// go as files.
	decoded *evidence.Document
	// key is the example key that signed it, "" when it is bare: a
	// changed copy is signed again with it.
	key string
}

// A mutant is a step with some of its documents replaced, dropped or
// joined by others.
type mutant struct {
	name    string // step/doc/field/op
	step    *step
	replace map[string][]byte // by document name; a nil value drops the document
	add     [][]byte
}

// target names a document the harness mutates at a step; under, when set,
// limits its field mutations to those paths (and below).
type target struct {
	step, doc string
	under     []string
}

// The allowed release at each gate, plus three cases that allow through
// the paths they exist for: an Override lifting a soft rule, the emergency
// path, and a flag change by route.
var targets = []target{
	{step: "allowed/deploy", doc: "plan.json"},
	{step: "allowed/deploy", doc: "incidents.json"},
	{step: "allowed/deploy", doc: "build.json"},
	{step: "allowed/deploy", doc: "deploy-requested.json"},
	{step: "allowed/deploy", doc: "approval.json"},
	{step: "allowed/verify", doc: "deploy.json"},
	{step: "allowed/verify", doc: "verification.json"},
	{step: "allowed/complete", doc: "deploy.json"},
	{step: "allowed/complete", doc: "verification.json"},
	{step: "allowed/complete", doc: "monitoring.json"},
	{step: "flag-route/flag", doc: "flagchange.json"},
	{step: "override-error-budget/deploy", doc: "override.json"},
	// The rest of the emergency Plan is the allowed Plan's, mutated above.
	{step: "emergency/deploy", doc: "plan.json", under: []string{"data.emergency"}},
	{step: "emergency/deploy", doc: "incidents.json"},
	{step: "emergency/deploy", doc: "approval.json"},
}

// releaseWide are the steps whose every document is relabelled together,
// so that the release itself is another one.
var releaseWide = []string{"allowed/deploy", "allowed/verify", "allowed/complete", "flag-route/flag"}

// loadSteps reads the example cases and keeps the steps that allow.
func loadSteps(t *testing.T) map[string]*step {
	t.Helper()
	all, err := cases.Load(evidenceRoot)
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string]*step{}
	for _, c := range all {
		for _, s := range c.Steps {
			if !s.Expect.Allow {
				continue
			}
			st := &step{caseName: c.Name, gate: s.Gate, release: c.Release, now: s.Now.UTC()}
			for _, p := range c.Paths(s) {
				d := &docFile{name: filepath.Base(p), path: p}
				if st.doc(d.name) != nil {
					t.Fatalf("%s: two documents named %s", st.id(), d.name)
				}
				b, err := readFile(p)
				if err != nil {
					t.Fatal(err)
				}
				d.key = signedBy(b)
				if d.tree, err = parseTree(keys.Open(b)); err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				if d.decoded, err = decider(t).Validator.Decode(p, b); err != nil {
					t.Fatal(err)
				}
				d.kind, _ = d.tree["kind"].(string)
				d.collected, err = time.Parse(time.RFC3339, d.tree["collectedAt"].(string))
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				st.docs = append(st.docs, d)
			}
			steps[st.id()] = st
		}
	}
	return steps
}

// generator collects the mutants of one step.
type generator struct {
	st  *step
	out []*mutant
}

func (g *generator) emit(name string, replace map[string][]byte, add ...[]byte) {
	g.out = append(g.out, &mutant{name: g.st.id() + "/" + name, step: g.st, replace: replace, add: add})
}

// edit is a mutant that replaces d by a copy changed by f.
func (g *generator) edit(d *docFile, field, op string, f func(m map[string]any)) {
	m := cloneDoc(d.tree)
	f(m)
	g.emit(d.name+"/"+field+"/"+op, map[string][]byte{d.name: encode(m)})
}

// tie adds two mutants that keep d and add a conflicting twin of it,
// changed by f and collected at the same instant: one whose digest sorts
// before d's and one whose digest sorts after it (the engine orders a tie
// by digest, so each order is tried; no tie may be broken by hash order).
// The twins differ from each other only in collector.host.
func (g *generator) tie(d *docFile, label string, f func(m map[string]any)) {
	var first, last []byte
	for i := 0; first == nil || last == nil; i++ {
		m := cloneDoc(d.tree)
		f(m)
		m["collector"].(map[string]any)["host"] = fmt.Sprintf("twin-%d", i)
		b := encode(m)
		canon, err := evidence.Canonical(b)
		if err != nil {
			panic(err)
		}
		switch digest := evidence.DigestOf(canon); {
		case digest < d.decoded.Digest && first == nil:
			first = b
		case digest > d.decoded.Digest && last == nil:
			last = b
		}
	}
	g.emit(d.name+"/document/tied:"+label+":sorts-first", nil, first)
	g.emit(d.name+"/document/tied:"+label+":sorts-last", nil, last)
}

// document adds the whole-document mutants of d: dropped, and each tied
// twin its kind has.
func (g *generator) document(d *docFile) {
	g.emit(d.name+"/document/dropped", map[string][]byte{d.name: nil})
	for _, tw := range twins(g.st, d) {
		g.tie(d, tw.label, tw.apply)
	}
}

// fields walks d and adds, for every member and element in scope, the
// mutants of its kind of value.
func (g *generator) fields(d *docFile, under []string) {
	in := func(p string) bool {
		if len(under) == 0 {
			return true
		}
		for _, u := range under {
			if p == u || strings.HasPrefix(p, u+".") {
				return true
			}
		}
		return false
	}
	below := func(p string) bool {
		for _, u := range under {
			if strings.HasPrefix(u, p+".") {
				return true
			}
		}
		return in(p)
	}
	var walk func(v any, p []string)
	walk = func(v any, p []string) {
		ps := strings.Join(p, ".")
		field := ps
		if field == "" {
			field = "document"
		}
		switch x := v.(type) {
		case map[string]any:
			if in(ps) {
				g.edit(d, field, "added:unknown-field", func(m map[string]any) {
					obj, _ := get(m, p)
					obj.(map[string]any)["unknownField"] = "x"
				})
			}
			for _, k := range sortedKeys(x) {
				sub := append(slices.Clone(p), k)
				sps := strings.Join(sub, ".")
				if !below(sps) {
					continue
				}
				if in(sps) {
					g.edit(d, sps, "dropped", func(m map[string]any) { remove(m, sub) })
				}
				walk(x[k], sub)
			}
		case []any:
			if in(ps) {
				g.edit(d, ps, "emptied", func(m map[string]any) { set(m, p, []any{}) })
			}
			for i, e := range x {
				sub := append(slices.Clone(p), strconv.Itoa(i))
				sps := strings.Join(sub, ".")
				if !in(sps) {
					continue
				}
				g.edit(d, sps, "dropped", func(m map[string]any) { remove(m, sub) })
				if dup, ok := conflicting(d, sub, e); ok {
					g.edit(d, sps, "duplicated", func(m map[string]any) { insertAfter(m, sub, dup) })
				}
				walk(e, sub)
			}
		default:
			if !in(ps) {
				return
			}
			vs := variants(g.st, d, p, x)
			if len(p) > 0 && !isIndex(p[len(p)-1]) && len(vs) > 0 {
				raw := encodeDuplicateKey(d.tree, p, vs[0].value)
				g.emit(d.name+"/"+ps+"/duplicated-key", map[string][]byte{d.name: raw})
			}
			for _, vr := range vs {
				g.edit(d, ps, vr.op, func(m map[string]any) { set(m, p, vr.value) })
			}
		}
	}
	walk(d.tree, nil)
}

// release adds the mutants that relabel every document of the step alike:
// the gate then judges another release, service or environment.
func (g *generator) release() {
	all := func(field, op string, f func(m map[string]any)) {
		rep := map[string][]byte{}
		for _, d := range g.st.docs {
			m := cloneDoc(d.tree)
			f(m)
			rep[d.name] = encode(m)
		}
		g.emit("release/"+field+"/"+op, rep)
	}
	for _, env := range []string{"Production", "prod", "PRODUCTION"} {
		op := "relabelled:" + env
		if env == "PRODUCTION" {
			op = "recased"
		}
		all("release.environment", op, func(m map[string]any) { set(m, []string{"release", "environment"}, env) })
	}
	all("release.service", "relabelled:localizevideos-worker", func(m map[string]any) {
		set(m, []string{"release", "service"}, "localizevideos-worker")
	})
	all("release.service", "recased", func(m map[string]any) {
		set(m, []string{"release", "service"}, "LOCALIZEVIDEOS-APP")
	})
	all("release.id", "changed:other-release", func(m map[string]any) { set(m, []string{"release", "id"}, otherRelease) })
	all("subject.commit", "changed:other-commit", func(m map[string]any) { set(m, []string{"subject", "commit"}, otherCommit) })
}

// extras are mutants that add a field the allowed documents do not have.
func (g *generator) extras(d *docFile) {
	switch d.kind {
	case "Build":
		g.edit(d, "data.command", "changed:true", func(m map[string]any) { set(m, []string{"data", "command"}, []any{"true"}) })
	case "Monitoring":
		signals, _ := get(d.tree, []string{"data", "signals"})
		for i, s := range signals.([]any) {
			samples := s.(map[string]any)["samples"].(jsonNumber)
			n, _ := strconv.Atoi(string(samples))
			g.edit(d, fmt.Sprintf("data.signals.%d.minSamples", i), "added:above-samples", func(m map[string]any) {
				set(m, []string{"data", "signals", strconv.Itoa(i), "minSamples"}, jsonNumber(strconv.Itoa(n+1)))
			})
		}
		g.edit(d, "data.automation", "added:auto-rollback", func(m map[string]any) {
			set(m, []string{"data", "automation"}, map[string]any{"autoRollback": true})
		})
	case "FlagChange":
		g.edit(d, "data.percentage", "added:10", func(m map[string]any) { set(m, []string{"data", "percentage"}, jsonNumber("10")) })
		g.edit(d, "data.strategy", "changed:environment+percentage", func(m map[string]any) {
			set(m, []string{"data", "strategy"}, "environment")
			set(m, []string{"data", "percentage"}, jsonNumber("10"))
		})
	}
}

// rolledBack adds a fast Rollback that succeeded after the monitoring
// window: the release is no longer running, so it cannot complete.
func (g *generator) rolledBack() {
	plan := g.st.doc("plan.json").tree
	m := cloneDoc(plan)
	m["kind"] = "Rollback"
	m["collectedAt"] = "2026-11-26T10:25:10Z"
	m["collector"] = map[string]any{"name": "shipgate", "actor": deployer}
	prev, _ := get(plan, []string{"data", "rollbackPlan", "previousCommit"})
	m["data"] = map[string]any{
		"strategy": "fast", "status": "succeeded", "trigger": "manual",
		"fromCommit": plan["subject"].(map[string]any)["commit"], "toCommit": prev,
		"startedAt": "2026-11-26T10:25:00Z", "finishedAt": "2026-11-26T10:25:05Z", "durationSeconds": jsonNumber("5"),
	}
	g.emit("rollback.json/document/added:succeeded", nil, encode(m))
}

// generate lists every mutant of every target.
func generate(t *testing.T, steps map[string]*step) []*mutant {
	t.Helper()
	var out []*mutant
	gens := map[string]*generator{}
	gen := func(id string) *generator {
		if gens[id] == nil {
			st := steps[id]
			if st == nil {
				t.Fatalf("no allowed step %s in %s", id, evidenceRoot)
			}
			gens[id] = &generator{st: st}
		}
		return gens[id]
	}
	var order []string
	for _, tg := range targets {
		g := gen(tg.step)
		if !slices.Contains(order, tg.step) {
			order = append(order, tg.step)
		}
		d := g.st.doc(tg.doc)
		if d == nil {
			t.Fatalf("%s has no %s", tg.step, tg.doc)
		}
		g.document(d)
		g.fields(d, tg.under)
		g.extras(d)
	}
	gen("allowed/complete").rolledBack()
	for _, id := range releaseWide {
		gen(id).release()
		if !slices.Contains(order, id) {
			order = append(order, id)
		}
	}
	seen := map[string]bool{}
	for _, id := range order {
		for _, m := range gens[id].out {
			if seen[m.name] {
				t.Fatalf("two mutants named %s", m.name)
			}
			seen[m.name] = true
			out = append(out, m)
		}
	}
	return out
}

// Values the mutants put in.
const (
	otherRelease = "lv-2026-11-25.1"
	otherCommit  = "0badc0de0badc0de0badc0de0badc0de0badc0de"
	farPast      = "2020-01-01T00:00:00Z"
	outsider     = "mallory" // a person who is not an approver
)

var deployer = "dave"

var approvers = []string{"alice", "bob", "carol"}

var gates = []string{"deploy", "verify", "complete", "flag"}

// enums lists each enumerated field's values (docs/evidence.md), by
// "Kind path" with array indices as *; a "*" kind matches any.
var enums = map[string][]string{
	"Plan data.ci.status":                      {"passed", "failed", "pending", "unknown"},
	"* data.ci.provider":                       {"github-actions", "gitlab-ci", "generic", "none"},
	"IncidentStatus data.incidents.*.severity": {"SEV-1", "SEV-2", "SEV-3", "SEV-4"},
	"IncidentStatus data.incidents.*.status":   {"open", "mitigated", "resolved"},
	"Build data.status":                        {"passed", "failed"},
	"Deploy data.status":                       {"requested", "succeeded", "failed"},
	"Deploy data.trigger":                      {"pipeline", "shipgate-run", "manual", "unknown"},
	"Verification data.checks.*.status":        {"passed", "failed", "error", "skipped"},
	"Monitoring data.result":                   {"healthy", "breach", "no-data"},
	"Monitoring data.signals.*.status":         {"healthy", "breach", "no-data"},
	"FlagChange data.strategy":                 {"toggle", "environment", "route", "user-percentage", "canary", "traffic-split"},
	"Approval data.decision":                   {"approved", "rejected"},
	"Approval data.gate":                       gates,
	"Override data.gate":                       gates,
}

// kinds are the evidence kinds, for a changed kind.
var kinds = []string{"Plan", "IncidentStatus", "Build", "Deploy", "Verification", "Monitoring", "Rollback",
	"FlagChange", "Approval", "Override", "Postmortem", "Hold", "ErrorBudget"}

// nonNegative are the numbers the schemas keep at 0 or more.
var nonNegative = []string{"durationSeconds", "durationMs", "samples", "minSamples", "filesChanged", "linesAdded",
	"linesDeleted", "sizeBytes", "plannedSeconds", "percentage"}

// people are the fields naming a person.
var people = []string{"actor", "approver", "reviewer", "author", "by", "owner"}

// breachValues break each signal's own condition in the allowed
// Monitoring (error_rate <= baseline*1.5+0.001, auth_success >=
// baseline-0.01, latency_p95 <= baseline*1.2, cpu <= 0.85, memory <=
// baseline*1.3).
var breachValues = map[string]string{
	"error_rate": "0.9", "auth_success": "0.5", "latency_p95": "5000", "cpu": "0.99", "memory": "1874329600",
}

var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

type variant struct {
	op    string
	value any
}

// variants are the type-correct wrong values of the scalar at p in d: an
// enum's every other value, a person someone else or re-cased, a time
// moved, a number ± 1, a bool flipped, a string changed.
func variants(st *step, d *docFile, p []string, v any) []variant {
	shape := shapeOf(p)
	key := p[len(p)-1]
	parent, _ := get(d.tree, p[:len(p)-1])
	sibling := func(k string) (string, bool) {
		obj, ok := parent.(map[string]any)
		if !ok {
			return "", false
		}
		s, ok := obj[k].(string)
		return s, ok
	}
	var out []variant
	add := func(op string, value any) { out = append(out, variant{op, value}) }
	switch x := v.(type) {
	case bool:
		add("flipped", !x)
	case jsonNumber:
		f, _ := strconv.ParseFloat(string(x), 64)
		num := func(f float64) jsonNumber { return jsonNumber(strconv.FormatFloat(f, 'f', -1, 64)) }
		switch {
		case shape == "data.signals.*.observed":
			name, _ := get(d.tree, append(slices.Clone(p[:len(p)-1]), "name"))
			add("changed:breach", jsonNumber(breachValues[name.(string)]))
			add("changed:within", num(f*0.99))
			return out
		case shape == "data.signals.*.baseline":
			add("changed:within", num(f*1.01))
			return out
		case key == "remaining":
			add("changed:0", jsonNumber("0"))
		case key == "samples":
			add("changed:0", jsonNumber("0"))
		}
		add("changed:+1", num(f+1))
		add("changed:-1", num(f-1))
		if slices.Contains(nonNegative, key) && f-1 >= 0 {
			add("changed:negative", jsonNumber("-1"))
		}
	case string:
		enumKey := d.kind + " " + shape
		if _, ok := enums[enumKey]; !ok {
			enumKey = "* " + shape
		}
		if values, ok := enums[enumKey]; ok {
			for _, e := range values {
				if e != x {
					add("changed:"+e, e)
				}
			}
			return out
		}
		if ts, err := time.Parse(time.RFC3339, x); err == nil {
			return retimes(st, d, p, ts, sibling)
		}
		switch {
		case shape == "apiVersion":
			add("changed:v2", "shipgate.dev/v2")
		case shape == "kind":
			other := "Deploy"
			if x == other {
				other = "Build"
			}
			add("changed:"+other, other)
		case shape == "release.id":
			add("changed:other-release", otherRelease)
		case shape == "release.service":
			add("relabelled:localizevideos-worker", "localizevideos-worker")
			add("recased", strings.ToUpper(x))
		case shape == "release.environment":
			add("relabelled:Production", "Production")
			add("relabelled:prod", "prod")
			add("relabelled:staging", "staging")
			add("recased", strings.ToUpper(x))
		case shape == "subject.repository":
			add("changed:other-repository", x+"-fork")
		case commitRE.MatchString(x):
			add("changed:other-commit", otherCommit)
			if key == "previousCommit" {
				add("changed:release-commit", d.tree["subject"].(map[string]any)["commit"])
			}
		case slices.Contains(people, key):
			if key == "approver" {
				add("changed:"+deployer, deployer)
				for _, a := range approvers {
					if a != x {
						add("changed:"+a, a)
						break
					}
				}
			}
			if d.kind == "Deploy" && shape == "data.actor" {
				add("changed:alice", "alice")
				add("relabelled:Alice", "Alice")
			}
			add("changed:"+outsider, outsider)
			add("recased", strings.ToUpper(x))
		case key == "condition":
			add("changed:true", "true")
		case key == "justification" || (d.kind == "Override" && key == "reason"):
			add("changed:other", x+" (edited)")
			add("changed:spaces", strings.Repeat(" ", 12))
		default:
			add("changed:other", x+"-other")
		}
	case nil:
		add("changed:string", "x")
	}
	return out
}

// retimes moves the timestamp ts at p: into the future, far into the past,
// and against the other times it goes with.
func retimes(st *step, d *docFile, p []string, ts time.Time, sibling func(string) (string, bool)) []variant {
	key := p[len(p)-1]
	at := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	shift := func(k string, by time.Duration) (string, bool) {
		s, ok := sibling(k)
		if !ok {
			return "", false
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return "", false
		}
		return at(t.Add(by)), true
	}
	out := []variant{{"retimed:future", at(st.now.Add(time.Hour))}, {"retimed:far-past", farPast}}
	add := func(op string, value string, ok bool) {
		if ok {
			out = append(out, variant{op, value})
		}
	}
	if len(p) == 1 && key == "collectedAt" {
		var first, last time.Time
		for _, o := range st.docs {
			if o == d {
				continue
			}
			if first.IsZero() || o.collected.Before(first) {
				first = o.collected
			}
			if o.collected.After(last) {
				last = o.collected
			}
		}
		after := last.Add(time.Second)
		if after.After(st.now) {
			after = st.now
		}
		add("retimed:before-others", at(first.Add(-time.Minute)), true)
		add("retimed:after-others", at(after), !after.Equal(ts))
		return out
	}
	switch key {
	case "startedAt":
		v, ok := shift("finishedAt", time.Minute)
		add("retimed:after-finish", v, ok)
	case "finishedAt":
		v, ok := shift("startedAt", -time.Minute)
		add("retimed:before-start", v, ok)
	case "start":
		v, ok := shift("end", time.Minute)
		add("retimed:after-end", v, ok)
	case "end":
		v, ok := shift("start", -time.Minute)
		add("retimed:before-start", v, ok)
	case "resolvedAt":
		v, ok := shift("openedAt", -time.Minute)
		add("retimed:before-open", v, ok)
	case "createdAt":
		v, ok := shift("expiresAt", time.Minute)
		add("retimed:after-expiry", v, ok)
	case "expiresAt":
		add("retimed:ten-years", at(st.now.AddDate(10, 0, 0)), true)
		v, ok := shift("createdAt", -time.Minute)
		add("retimed:before-creation", v, ok)
	}
	return out
}

// conflicting is the element to put right after the element e at p of an
// array, so that the array says two different things: a check or signal
// that failed, an incident again as an open SEV-1 (or, already one, as a
// resolved SEV-4), an argument repeated.
func conflicting(d *docFile, p []string, e any) (any, bool) {
	switch shapeOf(p) {
	case "data.checks.*":
		c := clone(e).(map[string]any)
		c["status"] = "failed"
		c["message"] = "failed on the second run"
		return c, true
	case "data.signals.*":
		c := clone(e).(map[string]any)
		c["status"] = "breach"
		return c, true
	case "data.incidents.*":
		c := clone(e).(map[string]any)
		if c["severity"] == "SEV-1" && c["status"] == "open" {
			c["severity"], c["status"] = "SEV-4", "resolved"
		} else {
			c["severity"], c["status"] = "SEV-1", "open"
		}
		delete(c, "resolvedAt")
		return c, true
	}
	if s, ok := e.(string); ok {
		return s, true
	}
	return nil, false
}

// twin is a conflicting copy of a document, collected at the same instant.
type twin struct {
	label string
	apply func(m map[string]any)
}

// twins lists the conflicting twins of d at its step. The rules must judge
// every document of a tie, so each twin must deny.
func twins(st *step, d *docFile) []twin {
	setter := func(path string, v any) func(m map[string]any) {
		return func(m map[string]any) { set(m, strings.Split(path, "."), v) }
	}
	deleter := func(path string) func(m map[string]any) {
		return func(m map[string]any) { remove(m, strings.Split(path, ".")) }
	}
	switch d.kind {
	case "IncidentStatus":
		tw := []twin{{"open-sev1", func(m map[string]any) {
			in, _ := get(m, []string{"data", "incidents"})
			set(m, []string{"data", "incidents"}, append(in.([]any), map[string]any{
				"id": "INC-43", "severity": "SEV-1", "status": "open", "title": "Checkout down"}))
		}}}
		if _, ok := get(st.doc("plan.json").tree, []string{"data", "emergency"}); ok {
			tw = append(tw, twin{"without-emergency-incident", func(m map[string]any) {
				in, _ := get(m, []string{"data", "incidents"})
				var keep []any
				for _, i := range in.([]any) {
					if i.(map[string]any)["severity"] != "SEV-1" {
						keep = append(keep, i)
					}
				}
				set(m, []string{"data", "incidents"}, keep)
			}})
		}
		return tw
	case "Plan":
		if _, ok := get(d.tree, []string{"data", "emergency"}); ok {
			return []twin{{"without-emergency", deleter("data.emergency")}}
		}
		return []twin{
			{"without-change-ticket", deleter("data.changeTicket")},
			{"without-rollback-plan", deleter("data.rollbackPlan")},
			{"without-runbook", deleter("data.documentation.runbook")},
			{"budget-spent", setter("data.errorBudget.remaining", jsonNumber("-0.1"))},
			{"window-closed", setter("data.window.end", st.now.Add(-time.Minute).UTC().Format(time.RFC3339))},
		}
	case "Build":
		return []twin{
			{"failed", func(m map[string]any) {
				setter("data.status", "failed")(m)
				setter("data.exitCode", jsonNumber("1"))(m)
			}},
			{"command-true", setter("data.command", []any{"true"})},
		}
	case "Deploy":
		tw := []twin{
			{"hot-patched", setter("data.source.clean", false)},
			{"commit-unknown", setter("data.source.commitKnown", false)},
			{"unapproved-command", setter("data.command", []any{"pm2", "restart", "localizevideos-app"})},
			{"manual", setter("data.trigger", "manual")},
			{"off-main", setter("data.source.onMain", false)},
		}
		if d.tree["data"].(map[string]any)["status"] == "requested" {
			return append(tw, twin{"by-the-approver", setter("data.actor", "alice")})
		}
		return append(tw,
			twin{"failed", func(m map[string]any) {
				setter("data.status", "failed")(m)
				setter("data.exitCode", jsonNumber("1"))(m)
			}},
			twin{"exit-code-1", setter("data.exitCode", jsonNumber("1"))},
		)
	case "Approval":
		return []twin{{"rejected", setter("data.decision", "rejected")}}
	case "Verification":
		return []twin{{"failed-check", setter("data.checks.0.status", "failed")}}
	case "Monitoring":
		return []twin{{"breach", func(m map[string]any) {
			setter("data.result", "breach")(m)
			setter("data.signals.0.status", "breach")(m)
			setter("data.signals.0.observed", jsonNumber("0.9"))(m)
		}}}
	case "FlagChange":
		return []twin{
			{"canary", func(m map[string]any) {
				setter("data.strategy", "canary")(m)
				setter("data.percentage", jsonNumber("5"))(m)
			}},
			{"route-with-percentage", setter("data.percentage", jsonNumber("50"))},
		}
	case "Override":
		return []twin{{"by-the-deployer", setter("data.approver", deployer)}}
	}
	return nil
}

// shapeOf writes p with dots and its array indices as *.
func shapeOf(p []string) string {
	out := make([]string, len(p))
	for i, k := range p {
		if isIndex(k) {
			k = "*"
		}
		out[i] = k
	}
	return strings.Join(out, ".")
}

func isIndex(k string) bool {
	_, err := strconv.Atoi(k)
	return err == nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
