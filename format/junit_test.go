package format

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/engine"
)

// The parser's view of JUnit: the elements and attributes of
// testdata/junit-10.xsd that shipgate uses, required attributes as pointers
// so a missing one is told from an empty one, and anything else collected in
// Unknown so that an element the schema does not declare fails the test.
type (
	xTestsuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     *string      `xml:"name,attr"`
		Tests    *string      `xml:"tests,attr"`
		Failures *string      `xml:"failures,attr"`
		Errors   *string      `xml:"errors,attr"`
		Time     *string      `xml:"time,attr"`
		Suites   []xTestsuite `xml:"testsuite"`
		Unknown  []xAny       `xml:",any"`
	}
	xTestsuite struct {
		Name       *string     `xml:"name,attr"`      // required
		Tests      *string     `xml:"tests,attr"`     // required
		Failures   *string     `xml:"failures,attr"`  // required
		Errors     *string     `xml:"errors,attr"`    // required
		Skipped    *string     `xml:"skipped,attr"`   //
		Time       *string     `xml:"time,attr"`      //
		Timestamp  *string     `xml:"timestamp,attr"` //
		Properties []xProperty `xml:"properties>property"`
		Cases      []xTestcase `xml:"testcase"`
		Unknown    []xAny      `xml:",any"`
	}
	xProperty struct {
		Name  *string `xml:"name,attr"`
		Value *string `xml:"value,attr"`
	}
	xTestcase struct {
		Name      *string    `xml:"name,attr"` // required
		Classname string     `xml:"classname,attr"`
		Time      string     `xml:"time,attr"`
		Failures  []xOutcome `xml:"failure"`
		Errors    []xOutcome `xml:"error"`
		Skipped   []xOutcome `xml:"skipped"`
		SystemOut []string   `xml:"system-out"`
		Unknown   []xAny     `xml:",any"`
	}
	xOutcome struct {
		Type    string `xml:"type,attr"`
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	xAny struct {
		XMLName xml.Name
	}
)

func atoi(t *testing.T, what string, s *string) int {
	t.Helper()
	if s == nil {
		t.Fatalf("%s: required attribute missing", what)
	}
	n, err := strconv.Atoi(*s)
	if err != nil {
		t.Fatalf("%s = %q: %v", what, *s, err)
	}
	return n
}

// parseJUnit decodes b and checks what the XSD requires, and that the
// counts add up.
func parseJUnit(t *testing.T, b []byte) *xTestsuites {
	t.Helper()
	var s xTestsuites
	if err := xml.Unmarshal(b, &s); err != nil {
		t.Fatalf("parse junit: %v\n%s", err, b)
	}
	if len(s.Unknown) > 0 {
		t.Fatalf("testsuites has undeclared elements %v", s.Unknown)
	}
	var tests, failures, errors int
	for i, su := range s.Suites {
		if su.Name == nil {
			t.Fatalf("testsuite %d: name missing", i)
		}
		if len(su.Unknown) > 0 {
			t.Fatalf("testsuite %s has undeclared elements %v", *su.Name, su.Unknown)
		}
		n, f, e := atoi(t, "tests", su.Tests), atoi(t, "failures", su.Failures), atoi(t, "errors", su.Errors)
		var cf, ce int
		for _, c := range su.Cases {
			if c.Name == nil {
				t.Fatalf("testsuite %s: a testcase has no name", *su.Name)
			}
			if len(c.Unknown) > 0 {
				t.Fatalf("testcase %s has undeclared elements %v", *c.Name, c.Unknown)
			}
			if len(c.Failures) > 0 {
				cf++
			}
			if len(c.Errors) > 0 {
				ce++
			}
		}
		if n != len(su.Cases) || f != cf || e != ce {
			t.Errorf("testsuite %s: tests=%d failures=%d errors=%d; its cases say %d, %d, %d", *su.Name, n, f, e, len(su.Cases), cf, ce)
		}
		for _, p := range su.Properties {
			if p.Name == nil || p.Value == nil {
				t.Errorf("testsuite %s: property without name or value", *su.Name)
			}
		}
		tests, failures, errors = tests+n, failures+f, errors+e
	}
	if atoi(t, "testsuites tests", s.Tests) != tests || atoi(t, "testsuites failures", s.Failures) != failures || atoi(t, "testsuites errors", s.Errors) != errors {
		t.Errorf("testsuites totals %s/%s/%s; suites add up to %d/%d/%d", *s.Tests, *s.Failures, *s.Errors, tests, failures, errors)
	}
	return &s
}

// validateXSD checks b against the JUnit schema with xmllint.
func validateXSD(t *testing.T, b []byte) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not found: install libxml2-utils (apt-get install -y libxml2-utils) to validate against testdata/junit-10.xsd")
	}
	f := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", "junit-10.xsd"), f).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s\n%s", err, out, b)
	}
}

func caseNamed(t *testing.T, su xTestsuite, name string) xTestcase {
	t.Helper()
	for _, c := range su.Cases {
		if *c.Name == name {
			return c
		}
	}
	t.Fatalf("testsuite %s has no testcase %s", *su.Name, name)
	return xTestcase{}
}

func property(su xTestsuite, name string) []string {
	var out []string
	for _, p := range su.Properties {
		if *p.Name == name {
			out = append(out, *p.Value)
		}
	}
	return out
}

func TestJUnitDecisionsSchema(t *testing.T) {
	cases := map[string][]*engine.Decision{"none": nil, "fault": {faultDecision()}, "tricky": {trickyDecision()}}
	for _, name := range fixtures {
		cases[name] = []*engine.Decision{loadDecision(t, name)}
	}
	for _, name := range fixtures {
		cases["all"] = append(cases["all"], loadDecision(t, name))
	}
	for name, ds := range cases {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := JUnitDecisions(&b, ds); err != nil {
				t.Fatal(err)
			}
			s := parseJUnit(t, b.Bytes())
			if len(s.Suites) != len(ds) {
				t.Fatalf("%d testsuites for %d decisions", len(s.Suites), len(ds))
			}
			for i, d := range ds {
				if want := len(rules(d)); len(s.Suites[i].Cases) != want {
					t.Errorf("suite %d: %d testcases; want one per rule, %d", i, len(s.Suites[i].Cases), want)
				}
			}
			validateXSD(t, b.Bytes())
		})
	}
}

func TestJUnitDecisions(t *testing.T) {
	tests := []struct {
		name     string
		d        *engine.Decision
		rule     string
		failure  string // substring of the failure text; "" for none
		err      string // substring of the error text; "" for none
		out      string // substring of system-out; "" for none
		failures int
		errors   int
	}{
		{name: "allow", d: loadDecision(t, "allow"), rule: "forbidden.deploy-during-incident"},
		{name: "deny", d: loadDecision(t, "deny-incident"), rule: "forbidden.deploy-during-incident", failures: 1,
			failure: "open SEV-1 incident INC-42 \"Login fails for accounts with a rotated session key\" (opened 2026-11-26T09:52:00Z, source https://status.localizevideos.com/api/incidents)\nfix: resolve the incident first, or take the emergency path: a Plan whose emergency names the incident, plus an Approval from someone other than the deployer\nevidence: sha256:032e318420f410c56ea6576d497710abca4a9e265a7d87840737513d785328c2 (examples/localizevideos/evidence/incident-sev1/incidents.json)"},
		{name: "warning passes with a note", d: loadDecision(t, "warning"), rule: "change.size", out: "warning [advisory]: "},
		{name: "overridden passes with a note", d: loadDecision(t, "overridden"), rule: "checklist.error-budget", out: "overridden [soft] by bob with Override sha256:"},
		{name: "missing evidence is a denial", d: loadDecision(t, "other-commit"), rule: "evidence.missing", failures: 2, failure: "no Build evidence"},
		{name: "invalid evidence is an error", d: loadDecision(t, "invalid"), rule: "evidence.invalid", errors: 1, err: "required: missing property"},
		{name: "engine fault is an error", d: faultDecision(), rule: "engine.fault", failures: 1, errors: 1, err: "eval_conflict_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := JUnitDecisions(&b, []*engine.Decision{tc.d}); err != nil {
				t.Fatal(err)
			}
			su := parseJUnit(t, b.Bytes()).Suites[0]
			if f, e := atoi(t, "failures", su.Failures), atoi(t, "errors", su.Errors); f != tc.failures || e != tc.errors {
				t.Errorf("failures=%d errors=%d; want %d, %d", f, e, tc.failures, tc.errors)
			}
			c := caseNamed(t, su, tc.rule)
			if c.Classname != "shipgate.gates."+tc.d.Gate {
				t.Errorf("classname %q", c.Classname)
			}
			check := func(what string, got []xOutcome, want string) {
				t.Helper()
				switch {
				case want == "" && len(got) > 0:
					t.Errorf("%s %q; want none", what, got[0].Text)
				case want != "" && len(got) != 1:
					t.Errorf("%d %s elements; want 1", len(got), what)
				case want != "" && !strings.Contains(got[0].Text, want):
					t.Errorf("%s text %q; want it to contain %q", what, got[0].Text, want)
				}
			}
			check("failure", c.Failures, tc.failure)
			check("error", c.Errors, tc.err)
			switch {
			case tc.out == "" && len(c.SystemOut) > 0:
				t.Errorf("system-out %q; want none", c.SystemOut)
			case tc.out != "" && (len(c.SystemOut) != 1 || !strings.Contains(c.SystemOut[0], tc.out)):
				t.Errorf("system-out %q; want it to contain %q", c.SystemOut, tc.out)
			}
			if got := property(su, "decision"); len(got) != 1 || got[0] != tc.d.ID {
				t.Errorf("property decision = %q; want %q", got, tc.d.ID)
			}
		})
	}
}

func TestJUnitDecisionsProperties(t *testing.T) {
	d := loadDecision(t, "deny-incident")
	var b bytes.Buffer
	if err := JUnitDecisions(&b, []*engine.Decision{d}); err != nil {
		t.Fatal(err)
	}
	su := parseJUnit(t, b.Bytes()).Suites[0]
	if su.Timestamp == nil || *su.Timestamp != "2026-11-26T10:05:00Z" {
		t.Errorf("timestamp %v; want the decision's evaluatedAt", su.Timestamp)
	}
	for name, want := range map[string]string{
		"allow": "false", "reason": "policy.deny", "gate": "deploy", "release": "lv-2026-11-26.1",
		"policy.revision": d.Policy.Revision, "input.digest": d.Input.Digest, "opened": d.Opened[0],
	} {
		if got := property(su, name); len(got) != 1 || got[0] != want {
			t.Errorf("property %s = %q; want %q", name, got, want)
		}
	}
	if got := property(su, "evidence"); len(got) != len(d.Evidence) {
		t.Errorf("%d evidence properties; want %d", len(got), len(d.Evidence))
	}
}

func TestJUnitDecisionsEscapes(t *testing.T) {
	var b bytes.Buffer
	if err := JUnitDecisions(&b, []*engine.Decision{trickyDecision()}); err != nil {
		t.Fatal(err)
	}
	c := caseNamed(t, parseJUnit(t, b.Bytes()).Suites[0], "forbidden.direct-push")
	if len(c.Failures) != 1 {
		t.Fatalf("%d failures; want 1", len(c.Failures))
	}
	// The control character cannot be written in XML 1.0: it becomes U+FFFD.
	want := "deploy by <mallory> at 100% on a|b, c: d\r\nsecond line \uFFFD & more\n::set-env name=X::y"
	if got := c.Failures[0].Message; got != want {
		t.Errorf("failure message %q; want %q", got, want)
	}
	validateXSD(t, b.Bytes())
}

func TestJUnitTests(t *testing.T) {
	var b bytes.Buffer
	if err := JUnitTests(&b, testReport(), "policies"); err != nil {
		t.Fatal(err)
	}
	s := parseJUnit(t, b.Bytes())
	if len(s.Suites) != 2 {
		t.Fatalf("%d suites; want one per package, 2", len(s.Suites))
	}
	gates, rules := s.Suites[0], s.Suites[1]
	if *gates.Name != "data.shipgate.gates_test" || *rules.Name != "data.shipgate.rules.approval_test" {
		t.Errorf("suites %q, %q", *gates.Name, *rules.Name)
	}
	if c := caseNamed(t, gates, "test_allows"); len(c.Failures)+len(c.Errors)+len(c.Skipped) != 0 || c.Time != "0.260" {
		t.Errorf("passing test: %+v", c)
	}
	if c := caseNamed(t, gates, "test_denies"); len(c.Failures) != 1 || c.Failures[0].Text != "policies/gates/gates_test.rego:28: failed at gates/gates_test.rego:30:2" {
		t.Errorf("failed test: %+v", c.Failures)
	}
	if c := caseNamed(t, rules, "test_boom"); len(c.Errors) != 1 || !strings.HasPrefix(c.Errors[0].Text, "policies/rules/approval_test.rego:7: eval_conflict_error") {
		t.Errorf("errored test: %+v", c.Errors)
	}
	if c := caseNamed(t, rules, "todo_test_later"); len(c.Skipped) != 1 {
		t.Errorf("skipped test: %+v", c)
	}
	if atoi(t, "skipped", rules.Skipped) != 1 || *s.Tests != "4" || *s.Failures != "1" || *s.Errors != "1" {
		t.Errorf("counts: suites %s tests, %s failures, %s errors; skipped %s", *s.Tests, *s.Failures, *s.Errors, *rules.Skipped)
	}
	validateXSD(t, b.Bytes())
}
