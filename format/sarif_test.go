package format

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/regotest"
)

var sarifSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(SARIFSchema, doc); err != nil {
		return nil, err
	}
	return c.Compile(SARIFSchema)
})

// The parts of a SARIF log that code scanning reads, for the checks the
// schema cannot make.
type (
	xLog struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []xRun `json:"runs"`
	}
	xRun struct {
		Tool struct {
			Driver struct {
				Name    string `json:"name"`
				Version string `json:"version"`
				Rules   []struct {
					ID               string `json:"id"`
					ShortDescription struct {
						Text string `json:"text"`
					} `json:"shortDescription"`
					Help struct {
						Text string `json:"text"`
					} `json:"help"`
					DefaultConfiguration *struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		AutomationDetails struct {
			ID string `json:"id"`
		} `json:"automationDetails"`
		Invocations []struct {
			ExecutionSuccessful bool `json:"executionSuccessful"`
		} `json:"invocations"`
		Results []xResult `json:"results"`
	}
	xResult struct {
		RuleID    string `json:"ruleId"`
		RuleIndex int    `json:"ruleIndex"`
		Level     string `json:"level"`
		Message   struct {
			Text string `json:"text"`
		} `json:"message"`
		Locations []struct {
			PhysicalLocation *struct {
				ArtifactLocation struct {
					URI       string `json:"uri"`
					URIBaseID string `json:"uriBaseId"`
				} `json:"artifactLocation"`
				Region struct {
					StartLine int `json:"startLine"`
				} `json:"region"`
			} `json:"physicalLocation"`
			LogicalLocations []struct {
				FullyQualifiedName string `json:"fullyQualifiedName"`
			} `json:"logicalLocations"`
		} `json:"locations"`
		Suppressions []struct {
			Kind, Status, Justification string
		} `json:"suppressions"`
	}
)

// checkSARIF validates b against the SARIF 2.1.0 schema and what code
// scanning needs beyond it: every result's rule in tool.driver.rules at its
// ruleIndex, and a location for every result.
func checkSARIF(t *testing.T, b []byte) *xRun {
	t.Helper()
	sch, err := sarifSchema()
	if err != nil {
		t.Fatalf("compile the SARIF schema: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode sarif: %v", err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Fatalf("SARIF schema: %v\n%s", err, b)
	}
	var log xLog
	if err := json.Unmarshal(b, &log); err != nil {
		t.Fatal(err)
	}
	if log.Schema != SARIFSchema || log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("$schema %q, version %q, %d runs", log.Schema, log.Version, len(log.Runs))
	}
	run := &log.Runs[0]
	rules := run.Tool.Driver.Rules
	for i, r := range run.Results {
		if r.RuleIndex < 0 || r.RuleIndex >= len(rules) || rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %d: ruleId %q at ruleIndex %d is not in tool.driver.rules", i, r.RuleID, r.RuleIndex)
		}
		if len(r.Locations) == 0 {
			t.Errorf("result %d (%s): no location", i, r.RuleID)
		}
	}
	for i, r := range rules {
		if r.ID == "" || r.ShortDescription.Text == "" || r.Help.Text == "" {
			t.Errorf("rule %d %q: id, shortDescription and help text are required", i, r.ID)
		}
		if i > 0 && rules[i-1].ID >= r.ID {
			t.Errorf("rules not sorted and unique: %q then %q", rules[i-1].ID, r.ID)
		}
	}
	return run
}

func sarifOf(t *testing.T, ds ...*engine.Decision) *xRun {
	t.Helper()
	var b bytes.Buffer
	if err := SARIFDecisions(&b, ds, "1.2.3"); err != nil {
		t.Fatal(err)
	}
	return checkSARIF(t, b.Bytes())
}

func TestSARIFDecisionsSchema(t *testing.T) {
	var all []*engine.Decision
	for _, name := range fixtures {
		d := loadDecision(t, name)
		all = append(all, d)
		t.Run(name, func(t *testing.T) { sarifOf(t, d) })
	}
	t.Run("all", func(t *testing.T) { sarifOf(t, append(all, faultDecision(), trickyDecision())...) })
	t.Run("fault", func(t *testing.T) { sarifOf(t, faultDecision()) })
	t.Run("tricky", func(t *testing.T) { sarifOf(t, trickyDecision()) })
	t.Run("none", func(t *testing.T) { sarifOf(t) })
}

func TestSARIFDecisions(t *testing.T) {
	run := sarifOf(t, loadDecision(t, "deny-incident"))
	if d := run.Tool.Driver; d.Name != "shipgate" || d.Version != "1.2.3" || len(d.Rules) != 18 {
		t.Errorf("driver %s %s with %d rules; want shipgate 1.2.3 with the 18 rules of the deploy gate", d.Name, d.Version, len(d.Rules))
	}
	if len(run.Results) != 1 {
		t.Fatalf("%d results; want 1", len(run.Results))
	}
	r := run.Results[0]
	rule := run.Tool.Driver.Rules[r.RuleIndex]
	if r.RuleID != "forbidden.deploy-during-incident" || r.Level != "error" || !strings.HasPrefix(r.Message.Text, "open SEV-1 incident INC-42") {
		t.Errorf("result %s %s %q", r.RuleID, r.Level, r.Message.Text)
	}
	if rule.ShortDescription.Text != "No deploy during an open SEV-1/SEV-2 incident" || !strings.HasPrefix(rule.Help.Text, "resolve the incident first") || rule.DefaultConfiguration == nil || rule.DefaultConfiguration.Level != "error" {
		t.Errorf("rule %+v", rule)
	}
	loc := r.Locations[0].PhysicalLocation
	if loc == nil || loc.ArtifactLocation.URI != "examples/localizevideos/evidence/incident-sev1/incidents.json" || loc.ArtifactLocation.URIBaseID != "%SRCROOT%" || loc.Region.StartLine != 1 {
		t.Errorf("location %+v; want the incidents evidence file", loc)
	}
	if run.AutomationDetails.ID != "shipgate/deploy/" || !run.Invocations[0].ExecutionSuccessful {
		t.Errorf("automationDetails %q, invocations %+v", run.AutomationDetails.ID, run.Invocations)
	}
}

func TestSARIFDecisionsLevels(t *testing.T) {
	tests := []struct {
		name       string
		d          *engine.Decision
		rule       string
		level      string
		suppressed bool
		successful bool
	}{
		{"violation", loadDecision(t, "verify-failed"), "verify.mandatory-checks", "error", false, true},
		{"advisory warning", loadDecision(t, "warning"), "change.size", "warning", false, true},
		{"overridden", loadDecision(t, "overridden"), "checklist.error-budget", "note", true, true},
		{"missing evidence", loadDecision(t, "other-commit"), "evidence.missing", "error", false, true},
		{"invalid evidence", loadDecision(t, "invalid"), "evidence.invalid", "error", false, false},
		{"engine fault", faultDecision(), "engine.fault", "error", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := sarifOf(t, tc.d)
			var found *xResult
			for i := range run.Results {
				if run.Results[i].RuleID == tc.rule {
					found = &run.Results[i]
				}
			}
			if found == nil {
				t.Fatalf("no result for %s", tc.rule)
			}
			if found.Level != tc.level {
				t.Errorf("level %q; want %q", found.Level, tc.level)
			}
			if got := len(found.Suppressions) == 1 && found.Suppressions[0].Kind == "external" && found.Suppressions[0].Status == "accepted"; got != tc.suppressed {
				t.Errorf("suppressions %+v; want suppressed=%t", found.Suppressions, tc.suppressed)
			}
			if got := run.Invocations[0].ExecutionSuccessful; got != tc.successful {
				t.Errorf("executionSuccessful = %t; want %t", got, tc.successful)
			}
		})
	}
}

func TestSARIFDecisionsLocations(t *testing.T) {
	run := sarifOf(t, trickyDecision(), faultDecision())
	type loc struct{ uri, base, logical string }
	got := map[string][]loc{}
	for _, r := range run.Results {
		for _, l := range r.Locations {
			var x loc
			if p := l.PhysicalLocation; p != nil {
				x.uri, x.base = p.ArtifactLocation.URI, p.ArtifactLocation.URIBaseID
			}
			if len(l.LogicalLocations) > 0 {
				x.logical = l.LogicalLocations[0].FullyQualifiedName
			}
			got[r.RuleID] = append(got[r.RuleID], x)
		}
	}
	want := map[string][]loc{
		// One document from the ledger (no file), one from an absolute path.
		"forbidden.direct-push": {{uri: "file:///abs/evidence%20dir/deploy.json"}},
		// Only ledger evidence: the rule's policy file.
		"change.size":       {{uri: "policies/shipgate/rules/change/change.rego", base: "%SRCROOT%"}},
		"approval.required": {{uri: "policies/shipgate/rules/approval/approval.rego", base: "%SRCROOT%"}},
		// The engine's own rule: the gate, logically.
		"engine.fault": {{logical: "data.shipgate.gates.deploy.decision"}},
	}
	for rule, w := range want {
		if len(got[rule]) != len(w) || got[rule][0] != w[0] {
			t.Errorf("%s located at %+v; want %+v", rule, got[rule], w)
		}
	}
}

func TestSARIFTests(t *testing.T) {
	var b bytes.Buffer
	if err := SARIFTests(&b, testReport(), "policies", "1.2.3"); err != nil {
		t.Fatal(err)
	}
	run := checkSARIF(t, b.Bytes())
	if len(run.Results) != 2 {
		t.Fatalf("%d results; want the failed and the errored test", len(run.Results))
	}
	for i, want := range []struct{ rule, uri string }{
		{"data.shipgate.gates_test.test_denies", "policies/gates/gates_test.rego"},
		{"data.shipgate.rules.approval_test.test_boom", "policies/rules/approval_test.rego"},
	} {
		r := run.Results[i]
		p := r.Locations[0].PhysicalLocation
		if r.RuleID != want.rule || r.Level != "error" || p == nil || p.ArtifactLocation.URI != want.uri || p.Region.StartLine != testReport().Results[i+1].Row {
			t.Errorf("result %d: %s %s at %+v; want %s at %s", i, r.RuleID, r.Level, p, want.rule, want.uri)
		}
	}
	b.Reset()
	if err := SARIFTests(&b, &regotest.Report{}, "", "1.2.3"); err != nil {
		t.Fatal(err)
	}
	checkSARIF(t, b.Bytes())
}

// With the policy set's rule catalog, every rule's descriptor has its
// title, description and remediation, also the rules that raised no
// finding, and a finding without evidence files is located at its rule's
// annotated declaration.
func TestSARIFDecisionsWithRules(t *testing.T) {
	meta := engine.Catalog{
		"change.size": {ID: "change.size", Title: "Change is small", Description: "Fires when the change is big.", Enforcement: "advisory",
			Gates: []string{"deploy"}, Remediation: "split the release", File: "shipgate/rules/change/change.rego", Row: 19},
	}
	var b bytes.Buffer
	if err := SARIFDecisionsWithRules(&b, []*engine.Decision{loadDecision(t, "deny-incident")}, "1.2.3", meta); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID               string
						ShortDescription struct{ Text string }
						FullDescription  *struct{ Text string }
						Help             struct{ Text string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range log.Runs[0].Tool.Driver.Rules {
		if r.ID != "change.size" {
			continue
		}
		found = true
		if r.ShortDescription.Text != "Change is small" || r.FullDescription == nil || r.FullDescription.Text != "Fires when the change is big." || r.Help.Text != "split the release" {
			t.Errorf("change.size descriptor %+v; want the catalog's title, description and remediation", r)
		}
	}
	if !found {
		t.Fatal("change.size is not among the rules")
	}

	b.Reset()
	if err := SARIFDecisionsWithRules(&b, []*engine.Decision{trickyDecision()}, "1.2.3", meta); err != nil {
		t.Fatal(err)
	}
	run := checkSARIF(t, b.Bytes())
	for _, r := range run.Results {
		if r.RuleID != "change.size" {
			continue
		}
		p := r.Locations[0].PhysicalLocation
		if p == nil || p.ArtifactLocation.URI != "policies/shipgate/rules/change/change.rego" || p.Region.StartLine != 19 {
			t.Errorf("change.size located at %+v; want its declaration, line 19", p)
		}
		return
	}
	t.Error("no change.size result")
}
