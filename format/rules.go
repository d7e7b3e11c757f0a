package format

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/regotest"
)

// rule is what one decision says about one rule: its metadata, as far as
// the findings carry it, and its findings by kind.
type rule struct {
	ID          string
	Title       string
	Enforcement string
	Remediation string
	// Description is the rule's description, from the policy set's rule
	// catalog when the caller has it.
	Description string
	Violations  []engine.Finding
	Overridden  []engine.Finding
	Warnings    []engine.Finding
}

func (r *rule) learn(f engine.Finding) {
	if r.Title == "" {
		r.Title = f.Title
	}
	if r.Enforcement == "" {
		r.Enforcement = f.Enforcement
	}
	if r.Remediation == "" {
		r.Remediation = f.Remediation
	}
}

// rules lists every rule d evaluated or reported, sorted by id. A decision
// that denied before any policy ran has no Rules, only its violations.
func rules(d *engine.Decision) []*rule {
	byID := map[string]*rule{}
	get := func(id string) *rule {
		r := byID[id]
		if r == nil {
			r = &rule{ID: id}
			byID[id] = r
		}
		return r
	}
	for _, id := range d.Rules {
		get(id)
	}
	for _, f := range d.Violations {
		r := get(f.Rule)
		r.learn(f)
		r.Violations = append(r.Violations, f)
	}
	for _, f := range d.Overridden {
		r := get(f.Rule)
		r.learn(f)
		r.Overridden = append(r.Overridden, f)
	}
	for _, f := range d.Warnings {
		r := get(f.Rule)
		r.learn(f)
		r.Warnings = append(r.Warnings, f)
	}
	out := make([]*rule, 0, len(byID))
	for _, r := range byID {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// isFault reports whether f says the gate could not judge rather than that
// it said no: an engine fault (or a ledger that failed) and evidence that
// failed validation. The CLI exits 2 for these, 1 for denials.
func isFault(f engine.Finding) bool {
	return f.Rule == engine.RuleEngineFault || f.Rule == engine.RuleEvidenceInvalid
}

// engineRule reports whether id is one of the engine's own rules rather
// than a policy's; those have no rule file.
func engineRule(id string) bool {
	area, _, _ := strings.Cut(id, ".")
	return area == "engine" || area == "evidence"
}

// engineHelp explains the engine's own rules, whose remediation otherwise
// varies from finding to finding.
var engineHelp = map[string]string{
	engine.RuleEvidenceMissing: "Record the evidence the gate requires for this release, service, environment and commit; the result names what is missing and why offered documents did not count.",
	engine.RuleEvidenceInvalid: "Fix the evidence documents the result names (schema or decoding errors); nothing was evaluated.",
	engine.RuleEngineFault:     "The policies gave no trustworthy answer (undefined, conflicting or malformed result, runtime error, timeout), or the ledger could not be read or written. The gate denies until it answers.",
}

// help is the rule's documentation, or "" when the decision did not carry it.
func (r *rule) help() string {
	if h, ok := engineHelp[r.ID]; ok {
		return h
	}
	return r.Remediation
}

// policyFile is the default policy set's file for a policy rule:
// policies/shipgate/rules/<area>/<area>.rego (package shipgate.rules.<area>).
func policyFile(id string) string {
	area, _, _ := strings.Cut(id, ".")
	return "policies/shipgate/rules/" + area + "/" + area + ".rego"
}

// sources maps evidence digests to where the documents were read from.
func sources(d *engine.Decision) map[string]string {
	m := map[string]string{}
	for _, e := range d.Evidence {
		if e.Source != "" {
			m[e.Digest] = e.Source
		}
	}
	for _, ig := range d.Ignored {
		if _, ok := m[ig.Digest]; !ok && ig.Source != "" {
			m[ig.Digest] = ig.Source
		}
	}
	return m
}

// isFile reports whether an evidence source names a file. Evidence read back
// from the ledger without its original path is named "ledger entry N".
func isFile(src string) bool {
	return src != "" && src != "-" && !strings.HasPrefix(src, "ledger entry ")
}

// findingFiles lists the files of f's evidence, in f's order, without
// repeats.
func findingFiles(f engine.Finding, src map[string]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, dg := range f.Evidence {
		s := src[dg]
		if isFile(s) && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// fileURI turns a path into a SARIF artifact location: a relative path is
// relative to the repository root (%SRCROOT%), an absolute one a file URI.
func fileURI(p string) (uri, base string) {
	p = filepath.ToSlash(p)
	if path.IsAbs(p) {
		return (&url.URL{Scheme: "file", Path: path.Clean(p)}).String(), ""
	}
	return (&url.URL{Path: path.Clean(p)}).String(), "%SRCROOT%"
}

func verdict(d *engine.Decision) string {
	if d.Allow {
		return "ALLOW"
	}
	return "DENY"
}

func shortHex(s string) string {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// headline is the decision's verdict line, as the text output prints it.
func headline(d *engine.Decision) string {
	dry := ""
	if d.DryRun {
		dry = " (dry run)"
	}
	return fmt.Sprintf("%s %s gate for release %s (%s/%s @ %s)%s: %s",
		verdict(d), d.Gate, d.Release.ID, d.Release.Service, d.Release.Environment, shortHex(d.Release.Commit), dry, d.Reason)
}

// nonNil drops the nil decisions a caller may pass.
func nonNil(ds []*engine.Decision) []*engine.Decision {
	out := make([]*engine.Decision, 0, len(ds))
	for _, d := range ds {
		if d != nil {
			out = append(out, d)
		}
	}
	return out
}

// testID names a Rego test: its package and rule name.
func testID(r regotest.Result) string {
	if r.Package == "" {
		return r.Name
	}
	return r.Package + "." + r.Name
}

// testFile is where a test lives, relative to the repository when dir is the
// policy directory as the command was given it.
func testFile(dir string, r regotest.Result) string {
	if dir == "" || r.File == "" {
		return r.File
	}
	return filepath.ToSlash(filepath.Join(dir, r.File))
}

func testLine(r regotest.Result) int {
	if r.Row < 1 {
		return 1
	}
	return r.Row
}

func testSummary(r *regotest.Report) string {
	return fmt.Sprintf("%d passed, %d failed, %d errors, %d skipped; coverage %.2f%%",
		r.Passed, r.Failed, r.Errored, r.Skipped, r.Coverage)
}

// testMessage is what OPA said about a test that did not pass, or, when it
// said nothing (a test body that is simply false or undefined), that.
func testMessage(r regotest.Result) string {
	switch {
	case r.Message != "":
		return r.Message
	case r.Outcome == "fail":
		return "the test body is false or undefined"
	case r.Outcome == "skip":
		return "skipped (todo_ test)"
	}
	return "test " + r.Outcome
}
