package format

import (
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/regotest"
)

// The JUnit XML elements, as the Jenkins xunit junit-10.xsd declares them
// (format/testdata/junit-10.xsd); GitLab reads the same shape.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string           `xml:"name,attr"`
		Tests      int              `xml:"tests,attr"`
		Failures   int              `xml:"failures,attr"`
		Errors     int              `xml:"errors,attr"`
		Skipped    int              `xml:"skipped,attr"`
		Time       string           `xml:"time,attr"`
		Timestamp  string           `xml:"timestamp,attr,omitempty"`
		ID         string           `xml:"id,attr,omitempty"`
		Package    string           `xml:"package,attr,omitempty"`
		Properties *junitProperties `xml:"properties,omitempty"`
		Cases      []junitCase      `xml:"testcase"`
	}
	junitProperties struct {
		List []junitProperty `xml:"property"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitOutcome `xml:"failure,omitempty"`
		Error     *junitOutcome `xml:"error,omitempty"`
		Skipped   *junitOutcome `xml:"skipped,omitempty"`
		SystemOut *junitText    `xml:"system-out,omitempty"`
	}
	junitOutcome struct {
		Type    string `xml:"type,attr,omitempty"`
		Message string `xml:"message,attr,omitempty"`
		Text    string `xml:",cdata"`
	}
	// junitText keeps multi-line text readable: CDATA, not &#xA;.
	junitText struct {
		Text string `xml:",cdata"`
	}
)

// xmlText replaces what XML 1.0 cannot carry (control characters) with
// U+FFFD: CDATA, unlike attributes, is written as it is.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return '\uFFFD'
		}
		return r
	}, s)
}

func (s *junitSuites) add(suite junitSuite) {
	s.Tests += suite.Tests
	s.Failures += suite.Failures
	s.Errors += suite.Errors
	s.Suites = append(s.Suites, suite)
}

func (s *junitSuite) add(c junitCase) {
	s.Tests++
	switch {
	case c.Error != nil:
		s.Errors++
	case c.Failure != nil:
		s.Failures++
	case c.Skipped != nil:
		s.Skipped++
	}
	s.Cases = append(s.Cases, c)
}

func writeJUnit(w io.Writer, s *junitSuites) error {
	b, err := xml.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s%s\n", xml.Header, b)
	return err
}

// JUnitDecisions writes ds as JUnit XML: a test suite per decision and a
// test case per rule evaluated at the gate. A violation is a failure (its
// message, remediation and evidence), a warning or an overridden soft
// violation passes with a note in system-out, and a finding that means the
// gate could not judge (engine fault, ledger failure, invalid evidence) is
// an error. The suite's properties identify the decision, its policy
// revision and input, and list its obligations.
func JUnitDecisions(w io.Writer, ds []*engine.Decision) error {
	out := &junitSuites{Name: "shipgate", Time: "0"}
	for _, d := range nonNil(ds) {
		out.add(decisionSuite(d))
	}
	return writeJUnit(w, out)
}

func decisionSuite(d *engine.Decision) junitSuite {
	s := junitSuite{
		Name:    fmt.Sprintf("%s gate: %s (%s/%s)", d.Gate, d.Release.ID, d.Release.Service, d.Release.Environment),
		Time:    "0",
		ID:      d.ID,
		Package: "shipgate.gates." + d.Gate,
	}
	if !d.EvaluatedAt.IsZero() {
		s.Timestamp = d.EvaluatedAt.UTC().Format(time.RFC3339)
	}
	s.Properties = &junitProperties{List: decisionProperties(d)}
	src := sources(d)
	for _, r := range rules(d) {
		s.add(ruleCase(d, r, src))
	}
	return s
}

func decisionProperties(d *engine.Decision) []junitProperty {
	p := []junitProperty{
		{"decision", d.ID},
		{"gate", d.Gate},
		{"release", d.Release.ID},
		{"service", d.Release.Service},
		{"environment", d.Release.Environment},
		{"commit", d.Release.Commit},
		{"allow", fmt.Sprint(d.Allow)},
		{"reason", d.Reason},
		{"policy.revision", d.Policy.Revision},
		{"input.digest", d.Input.Digest},
	}
	if d.DryRun {
		p = append(p, junitProperty{"dryRun", "true"})
	}
	for _, e := range d.Evidence {
		p = append(p, junitProperty{"evidence", strings.TrimSpace(fmt.Sprintf("%s %s %s", e.Kind, e.Digest, e.Source))})
	}
	for _, ig := range d.Ignored {
		p = append(p, junitProperty{"ignored", ig.Reason + ": " + ig.Message})
	}
	for _, o := range d.Obligations {
		p = append(p, junitProperty{"obligation", obligationText(o)})
	}
	for _, id := range d.Opened {
		p = append(p, junitProperty{"opened", id})
	}
	return p
}

func obligationText(o engine.Obligation) string {
	s := o.Kind
	if o.Due != "" {
		s += " due " + o.Due
	}
	if o.Rule != "" {
		s += " (" + o.Rule + ")"
	}
	if o.Message != "" {
		s += ": " + o.Message
	}
	return s
}

func ruleCase(d *engine.Decision, r *rule, src map[string]string) junitCase {
	c := junitCase{Name: r.ID, Classname: "shipgate.gates." + d.Gate, Time: "0"}
	var faults, denials []engine.Finding
	for _, f := range r.Violations {
		if isFault(f) {
			faults = append(faults, f)
		} else {
			denials = append(denials, f)
		}
	}
	if len(faults) > 0 {
		c.Error = &junitOutcome{Type: d.Reason, Message: messages(faults), Text: xmlText(findingsText(faults, src))}
	}
	if len(denials) > 0 {
		c.Failure = &junitOutcome{Type: denials[0].Enforcement, Message: messages(denials), Text: xmlText(findingsText(denials, src))}
	}
	var notes []string
	for _, f := range r.Warnings {
		notes = append(notes, fmt.Sprintf("warning [%s]: %s", f.Enforcement, findingText(f, src)))
	}
	for _, f := range r.Overridden {
		notes = append(notes, fmt.Sprintf("overridden [%s] by %s with Override %s: %s", f.Enforcement, f.Approver, f.Override, findingText(f, src)))
	}
	if len(notes) > 0 {
		c.SystemOut = &junitText{Text: xmlText(strings.Join(notes, "\n\n"))}
	}
	return c
}

// messages is the one-line summary of a rule's findings.
func messages(fs []engine.Finding) string {
	m := make([]string, len(fs))
	for i, f := range fs {
		m[i] = f.Message
	}
	return strings.Join(m, "; ")
}

func findingsText(fs []engine.Finding, src map[string]string) string {
	t := make([]string, len(fs))
	for i, f := range fs {
		t[i] = findingText(f, src)
	}
	return strings.Join(t, "\n\n")
}

// findingText is a finding's message, remediation and evidence.
func findingText(f engine.Finding, src map[string]string) string {
	var b strings.Builder
	b.WriteString(f.Message)
	if f.Remediation != "" {
		b.WriteString("\nfix: " + f.Remediation)
	}
	for _, dg := range f.Evidence {
		b.WriteString("\nevidence: " + dg)
		if s := src[dg]; s != "" {
			b.WriteString(" (" + s + ")")
		}
	}
	return b.String()
}

// JUnitTests writes a policy test report as JUnit XML: a test suite per Rego
// package and a test case per test, failed, errored or skipped as OPA
// reported it. dir, the policy directory as the command was given it, is
// prepended to the tests' file names.
func JUnitTests(w io.Writer, rep *regotest.Report, dir string) error {
	out := &junitSuites{Name: "shipgate policy tests", Time: seconds(0)}
	if rep == nil {
		return writeJUnit(w, out)
	}
	var total time.Duration
	byPkg := map[string][]regotest.Result{}
	for _, r := range rep.Results {
		byPkg[r.Package] = append(byPkg[r.Package], r)
		total += r.Duration
	}
	pkgs := make([]string, 0, len(byPkg))
	for p := range byPkg {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		s := junitSuite{Name: p, Package: p}
		var t time.Duration
		for _, r := range byPkg[p] {
			s.add(testCase(r, dir))
			t += r.Duration
		}
		s.Time = seconds(t)
		out.add(s)
	}
	out.Time = seconds(total)
	return writeJUnit(w, out)
}

func testCase(r regotest.Result, dir string) junitCase {
	c := junitCase{Name: r.Name, Classname: r.Package, Time: seconds(r.Duration)}
	at := xmlText(fmt.Sprintf("%s:%d", testFile(dir, r), testLine(r)))
	msg := testMessage(r)
	switch r.Outcome {
	case "fail":
		c.Failure = &junitOutcome{Type: "fail", Message: msg, Text: at + ": " + xmlText(msg)}
	case "error":
		c.Error = &junitOutcome{Type: "error", Message: msg, Text: at + ": " + xmlText(msg)}
	case "skip":
		c.Skipped = &junitOutcome{Message: msg, Text: at}
	}
	return c
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}
