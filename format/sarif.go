package format

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/regotest"
)

// SARIFSchema is the $schema every log names: the OASIS SARIF 2.1.0 schema
// (errata 01), which format/testdata holds a copy of.
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// The SARIF objects shipgate writes: the subset of the schema it needs.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool              sarifTool         `json:"tool"`
		AutomationDetails *sarifAutomation  `json:"automationDetails,omitempty"`
		Invocations       []sarifInvocation `json:"invocations"`
		Results           []sarifResult     `json:"results"`
		Properties        map[string]any    `json:"properties,omitempty"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name    string      `json:"name"`
		Version string      `json:"version,omitempty"`
		Rules   []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string         `json:"id"`
		ShortDescription     *sarifMessage  `json:"shortDescription,omitempty"`
		FullDescription      *sarifMessage  `json:"fullDescription,omitempty"`
		Help                 *sarifMessage  `json:"help,omitempty"`
		DefaultConfiguration *sarifConfig   `json:"defaultConfiguration,omitempty"`
		Properties           map[string]any `json:"properties,omitempty"`
	}
	sarifConfig struct {
		Level string `json:"level"`
	}
	sarifMessage struct {
		Text string `json:"text"`
	}
	sarifAutomation struct {
		ID string `json:"id"`
	}
	sarifInvocation struct {
		ExecutionSuccessful        bool                `json:"executionSuccessful"`
		ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	}
	sarifNotification struct {
		Level   string       `json:"level"`
		Message sarifMessage `json:"message"`
	}
	sarifResult struct {
		RuleID              string             `json:"ruleId"`
		RuleIndex           int                `json:"ruleIndex"`
		Level               string             `json:"level"`
		Message             sarifMessage       `json:"message"`
		Locations           []sarifLocation    `json:"locations"`
		PartialFingerprints map[string]string  `json:"partialFingerprints,omitempty"`
		Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
		Properties          map[string]any     `json:"properties,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
		LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           sarifRegion   `json:"region"`
	}
	sarifArtifact struct {
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId,omitempty"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
	sarifLogical struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Status        string `json:"status"`
		Justification string `json:"justification"`
	}
)

// maxLocations is as many locations as code scanning keeps for a result.
const maxLocations = 10

func writeSARIF(w io.Writer, run sarifRun) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}}); err != nil {
		return fmt.Errorf("encode sarif: %w", err)
	}
	return nil
}

// SARIFDecisions writes ds as one SARIF 2.1.0 run of the tool shipgate at
// version. Every rule evaluated or reported is in tool.driver.rules, with
// its title and remediation when the decision carries them. Violations are
// results of level error, warnings of level warning, and overridden soft
// violations notes with an accepted external suppression naming the
// approver. A result is located at the files of its evidence when the
// decision knows them, else at the rule's file policies/shipgate/rules/<area>/<area>.rego,
// else (the engine's own rules) at the gate as a logical location. An
// engine fault makes the invocation unsuccessful.
func SARIFDecisions(w io.Writer, ds []*engine.Decision, version string) error {
	return SARIFDecisionsWithRules(w, ds, version, nil)
}

// SARIFDecisionsWithRules is SARIFDecisions with the rule catalog of the
// policy set that made ds (Engine.Catalog): each rule's descriptor takes
// its title, description, enforcement and remediation from it, also for
// the rules that raised no finding, and a result without evidence files
// is located at the rule's annotated declaration. meta may be nil.
func SARIFDecisionsWithRules(w io.Writer, ds []*engine.Decision, version string, meta engine.Catalog) error {
	ds = nonNil(ds)
	cat := newCatalog()
	cat.meta = meta
	for _, d := range ds {
		for _, r := range rules(d) {
			cat.add(d.Gate, r)
		}
	}
	run := sarifRun{
		Tool:        sarifTool{Driver: sarifDriver{Name: "shipgate", Version: version, Rules: cat.descriptors()}},
		Invocations: []sarifInvocation{{ExecutionSuccessful: true}},
		Results:     []sarifResult{},
	}
	var gates []string
	var summaries []any
	seenGate := map[string]bool{}
	for _, d := range ds {
		if !seenGate[d.Gate] {
			seenGate[d.Gate] = true
			gates = append(gates, d.Gate)
		}
		summaries = append(summaries, decisionSummary(d))
		src := sources(d)
		add := func(f engine.Finding, level string) {
			res := cat.result(d, f, level, src)
			if level == "note" {
				res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted",
					Justification: fmt.Sprintf("soft rule overridden by %s with Override %s", f.Approver, f.Override)}}
			}
			run.Results = append(run.Results, res)
		}
		for _, f := range d.Violations {
			add(f, "error")
			if isFault(f) {
				inv := &run.Invocations[0]
				inv.ExecutionSuccessful = false
				inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
					Level: "error", Message: sarifMessage{Text: fmt.Sprintf("%s gate, release %s: %s", d.Gate, d.Release.ID, f.Message)},
				})
			}
		}
		for _, f := range d.Warnings {
			add(f, "warning")
		}
		for _, f := range d.Overridden {
			add(f, "note")
		}
	}
	if len(gates) > 0 {
		// Code scanning keeps one analysis per category: one per gate set,
		// so the verify gate's upload does not close the deploy gate's alerts.
		sort.Strings(gates)
		run.AutomationDetails = &sarifAutomation{ID: "shipgate/" + strings.Join(gates, "+") + "/"}
	}
	run.Properties = map[string]any{"decisions": summaries}
	return writeSARIF(w, run)
}

func decisionSummary(d *engine.Decision) map[string]any {
	m := map[string]any{
		"decision":       d.ID,
		"gate":           d.Gate,
		"release":        d.Release.ID,
		"service":        d.Release.Service,
		"environment":    d.Release.Environment,
		"commit":         d.Release.Commit,
		"allow":          d.Allow,
		"reason":         d.Reason,
		"policyRevision": d.Policy.Revision,
		"inputDigest":    d.Input.Digest,
	}
	if !d.EvaluatedAt.IsZero() {
		m["evaluatedAt"] = d.EvaluatedAt.UTC().Format(time.RFC3339)
	}
	if d.DryRun {
		m["dryRun"] = true
	}
	if len(d.Obligations) > 0 {
		m["obligations"] = d.Obligations
	}
	if len(d.Opened) > 0 {
		m["opened"] = d.Opened
	}
	return m
}

// catalog merges the rules of several decisions into tool.driver.rules.
type catalog struct {
	byID  map[string]*rule
	gates map[string]map[string]bool
	index map[string]int
	// meta is the policy set's rule catalog, when known.
	meta engine.Catalog
}

func newCatalog() *catalog {
	return &catalog{byID: map[string]*rule{}, gates: map[string]map[string]bool{}}
}

func (c *catalog) add(gate string, r *rule) {
	m := c.byID[r.ID]
	if m == nil {
		m = &rule{ID: r.ID}
		c.byID[r.ID] = m
		c.gates[r.ID] = map[string]bool{}
	}
	m.learn(engine.Finding{Title: r.Title, Enforcement: r.Enforcement, Remediation: r.Remediation})
	if meta, ok := c.meta[r.ID]; ok {
		// Not the annotation's enforcement: policy data may change a
		// rule's level (enforcement), and the decision says what it was.
		m.learn(engine.Finding{Title: meta.Title, Remediation: meta.Remediation})
		m.Description = meta.Description
	}
	c.gates[r.ID][gate] = true
}

func (c *catalog) descriptors() []sarifRule {
	ids := make([]string, 0, len(c.byID))
	for id := range c.byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	c.index = map[string]int{}
	out := make([]sarifRule, 0, len(ids))
	for i, id := range ids {
		r := c.byID[id]
		c.index[id] = i
		var gates []string
		for g := range c.gates[id] {
			gates = append(gates, g)
		}
		sort.Strings(gates)
		desc := sarifRule{ID: id, Properties: map[string]any{"tags": append([]string{"shipgate"}, gates...)}}
		title := r.Title
		if title == "" {
			title = id
		}
		desc.ShortDescription = &sarifMessage{Text: title}
		if r.Description != "" {
			desc.FullDescription = &sarifMessage{Text: r.Description}
		}
		help := r.help()
		if help == "" {
			help = fmt.Sprintf("Rule %s of the %s gate; it raised no finding here, so its remediation is not known.", id, strings.Join(gates, ", "))
		}
		desc.Help = &sarifMessage{Text: help}
		if r.Enforcement != "" {
			desc.Properties["enforcement"] = r.Enforcement
			desc.DefaultConfiguration = &sarifConfig{Level: levelOf(r.Enforcement)}
		}
		out = append(out, desc)
	}
	return out
}

func levelOf(enforcement string) string {
	if enforcement == engine.Advisory {
		return "warning"
	}
	return "error"
}

func (c *catalog) result(d *engine.Decision, f engine.Finding, level string, src map[string]string) sarifResult {
	text := f.Message
	if f.Remediation != "" && f.Remediation != c.byID[f.Rule].help() {
		text += "\nFix: " + f.Remediation
	}
	sum := sha256.Sum256([]byte(d.Gate + "\x00" + f.Rule + "\x00" + f.Message))
	props := map[string]any{
		"decision":    d.ID,
		"gate":        d.Gate,
		"release":     d.Release.ID,
		"enforcement": f.Enforcement,
	}
	if len(f.Evidence) > 0 {
		props["evidence"] = f.Evidence
	}
	return sarifResult{
		RuleID:              f.Rule,
		RuleIndex:           c.index[f.Rule],
		Level:               level,
		Message:             sarifMessage{Text: text},
		Locations:           c.locations(d, f, src),
		PartialFingerprints: map[string]string{"shipgate/v1": hex.EncodeToString(sum[:16])},
		Properties:          props,
	}
}

// locations are where a result is: the files of its evidence, else the
// rule's annotated declaration when the rule catalog has it, else as
// findingLocations says.
func (c *catalog) locations(d *engine.Decision, f engine.Finding, src map[string]string) []sarifLocation {
	if meta, ok := c.meta[f.Rule]; ok && meta.File != "" && len(findingFiles(f, src)) == 0 {
		return []sarifLocation{physical(path.Join("policies", meta.File), max(meta.Row, 1))}
	}
	return findingLocations(d, f, src)
}

func findingLocations(d *engine.Decision, f engine.Finding, src map[string]string) []sarifLocation {
	var out []sarifLocation
	for _, file := range findingFiles(f, src) {
		if len(out) == maxLocations {
			break
		}
		out = append(out, physical(file, 1))
	}
	switch {
	case len(out) > 0:
	case !engineRule(f.Rule):
		out = append(out, physical(policyFile(f.Rule), 1))
	default:
		out = append(out, sarifLocation{LogicalLocations: []sarifLogical{{
			Name: d.Gate, FullyQualifiedName: "data.shipgate.gates." + d.Gate + ".decision", Kind: "module",
		}}})
	}
	return out
}

func physical(file string, line int) sarifLocation {
	uri, base := fileURI(file)
	return sarifLocation{PhysicalLocation: &sarifPhysical{
		ArtifactLocation: sarifArtifact{URI: uri, URIBaseID: base},
		Region:           sarifRegion{StartLine: line},
	}}
}

// SARIFTests writes the failed and errored tests of a policy test report as
// SARIF results of level error, each at its test's file and line (dir, the
// policy directory as given, prepended) and each test its own rule. The
// run's properties carry the counts and the coverage.
func SARIFTests(w io.Writer, rep *regotest.Report, dir, version string) error {
	run := sarifRun{
		Tool:              sarifTool{Driver: sarifDriver{Name: "shipgate", Version: version, Rules: []sarifRule{}}},
		Invocations:       []sarifInvocation{{ExecutionSuccessful: true}},
		Results:           []sarifResult{},
		AutomationDetails: &sarifAutomation{ID: "shipgate/policy-test/"},
	}
	if rep == nil {
		return writeSARIF(w, run)
	}
	index := map[string]int{}
	for _, r := range rep.Results {
		if r.Outcome != "fail" && r.Outcome != "error" {
			continue
		}
		id := testID(r)
		i, ok := index[id]
		if !ok {
			i = len(run.Tool.Driver.Rules)
			index[id] = i
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
				ID:                   id,
				ShortDescription:     &sarifMessage{Text: "Rego test " + r.Name},
				Help:                 &sarifMessage{Text: fmt.Sprintf("The policy test %s must pass: fix the policy or the test, then run `shipgate policy test` again.", id)},
				DefaultConfiguration: &sarifConfig{Level: "error"},
				Properties:           map[string]any{"tags": []string{"shipgate", "policy-test"}},
			})
		}
		msg := testMessage(r)
		run.Results = append(run.Results, sarifResult{
			RuleID:     id,
			RuleIndex:  i,
			Level:      "error",
			Message:    sarifMessage{Text: fmt.Sprintf("%s %s: %s", id, r.Outcome, msg)},
			Locations:  []sarifLocation{testLocation(dir, r)},
			Properties: map[string]any{"outcome": r.Outcome},
		})
	}
	run.Properties = map[string]any{
		"passed": rep.Passed, "failed": rep.Failed, "errored": rep.Errored, "skipped": rep.Skipped,
		"coverage": rep.Coverage,
	}
	return writeSARIF(w, run)
}

func testLocation(dir string, r regotest.Result) sarifLocation {
	if f := testFile(dir, r); f != "" {
		return physical(f, testLine(r))
	}
	return sarifLocation{LogicalLocations: []sarifLogical{{Name: r.Name, FullyQualifiedName: testID(r), Kind: "function"}}}
}
