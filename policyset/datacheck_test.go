package policyset_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/internal/policytest"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/regotest"
)

// defaultDataText is the shipped data file, to edit into bad ones.
func defaultDataText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../policies/shipgate/config/data.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lineOf is the 1-based line of the first line of text containing s.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	i := strings.Index(text, s)
	if i < 0 {
		t.Fatalf("%q not in the data", s)
	}
	return strings.Count(text[:i], "\n") + 1
}

func edit(t *testing.T, text, old, new string) string {
	t.Helper()
	if !strings.Contains(text, old) {
		t.Fatalf("%q not in the data", old)
	}
	return strings.Replace(text, old, new, 1)
}

// loadFiles loads the default rules with data read from files as the
// command line reads --data: a plain file, or overlays (+name).
func loadFiles(t *testing.T, opts engine.Options, files ...policyset.DataFile) error {
	t.Helper()
	var data map[string]any
	for i, f := range files {
		m, err := policyset.ReadData(f.Name, f.Raw)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case !f.Overlay:
			data = m
		case i == 0:
			data = policyset.MergeData(policytest.Data(t), m)
		default:
			data = policyset.MergeData(data, m)
		}
	}
	if opts.Policies == nil && opts.Bundle == nil {
		opts.Policies = policies.FS
	}
	opts.Data, opts.DataFiles = data, files
	_, err := engine.Load(context.Background(), opts)
	return err
}

// problems returns the problems of a *DataError inside a *PolicyError.
func problems(t *testing.T, err error) []policyset.DataProblem {
	t.Helper()
	var pe *engine.PolicyError
	var de *policyset.DataError
	if !errors.As(err, &pe) || !errors.As(err, &de) {
		t.Fatalf("Load() = %v; want a *PolicyError with a *DataError", err)
	}
	return de.Problems
}

// want is what a test checks of a problem.
type want struct {
	file    string
	line    int
	key     string
	keyword string
	message string // a part of it
}

func checkProblems(t *testing.T, got []policyset.DataProblem, wants ...want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("problems = %v; want %d", got, len(wants))
	}
	for i, w := range wants {
		g := got[i]
		if g.File != w.file || g.Line != w.line || g.Key != w.key || g.Keyword != w.keyword || !strings.Contains(g.Message, w.message) {
			t.Errorf("problem %d = %+v; want %+v", i, g, w)
		}
		if w.line > 0 && !strings.HasPrefix(g.Error(), w.file+":") {
			t.Errorf("problem %d reads %q; want it to start with the file and line", i, g.Error())
		}
	}
}

// Each class of error in a data file names the file, the line, the key and
// what was expected.
func TestDataErrors(t *testing.T) {
	def := defaultDataText(t)
	noIncidents := edit(t, def, "incidents:\n  blocking_severities: [SEV-1, SEV-2]\n  blocking_statuses: [open, mitigated]\n", "")
	sev1 := edit(t, def, "blocking_severities: [SEV-1, SEV-2]", "blocking_severities: [SEV1, SEV-2]")
	typo := edit(t, def, "  environments: [production]", "  enviroments: [production]")
	str := edit(t, def, "max_review_age_days: 30", `max_review_age_days: "30"`)
	dur := edit(t, def, "  Build: 168h", "  Build: 7d")
	window := edit(t, def, `      end: "2027-01-04T00:00:00Z"`, `      end: "2026-01-04T00:00:00Z"`)
	tests := []struct {
		name  string
		files []policyset.DataFile
		want  []want
	}{
		{"missing key", []policyset.DataFile{{Name: "bad.yaml", Raw: []byte(noIncidents)}},
			[]want{{"bad.yaml", lineOf(t, noIncidents, "approvers:"), "incidents", "required", "required key is missing"}}},
		{"severity no IncidentStatus carries", []policyset.DataFile{{Name: "bad.yaml", Raw: []byte(sev1)}},
			[]want{{"bad.yaml", lineOf(t, sev1, "SEV1"), "incidents.blocking_severities[0]", "enum", `want one of "SEV-1", "SEV-2", "SEV-3", "SEV-4"; got "SEV1"`}}},
		{"unknown key", []policyset.DataFile{{Name: "bad.yaml", Raw: []byte(typo)}}, []want{
			{"bad.yaml", lineOf(t, typo, "freeze:"), "freeze.environments", "required", "required key is missing"},
			{"bad.yaml", lineOf(t, typo, "enviroments:"), "freeze.enviroments", "additionalProperties", "unknown key; want one of calendar, environments"},
		}},
		{"wrong type", []policyset.DataFile{{Name: "bad.yaml", Raw: []byte(str)}},
			[]want{{"bad.yaml", lineOf(t, str, "max_review_age_days"), "runbook.max_review_age_days", "type", "want number; got string"}}},
		{"bad duration", []policyset.DataFile{{Name: "bad.yaml", Raw: []byte(dur)}},
			[]want{{"bad.yaml", lineOf(t, dur, "Build: 7d"), "freshness.Build", "pattern", `want a Go duration such as 10m, 24h or 1h30m; got "7d"`}}},
		{"what the engine checks beyond the schema", []policyset.DataFile{{Name: "bad.yaml", Raw: []byte(window)}},
			[]want{{"bad.yaml", lineOf(t, window, `end: "2026-01-04`), "freeze.calendar[1].end", "value", "end 2026-01-04T00:00:00Z is not after start"}}},
		{"JSON", []policyset.DataFile{{Name: "bad.json", Raw: []byte("{\n  \"approvers\": [\"alice\"],\n  \"services\": 3\n}\n")}}, []want{
			{"bad.json", 1, "change", "required", "missing"},
			{"bad.json", 1, "deploy", "required", "missing"},
			{"bad.json", 1, "environments", "required", "missing"},
			{"bad.json", 1, "flags", "required", "missing"},
			{"bad.json", 1, "freeze", "required", "missing"},
			{"bad.json", 1, "freshness", "required", "missing"},
			{"bad.json", 1, "gates", "required", "missing"},
			{"bad.json", 1, "incidents", "required", "missing"},
			{"bad.json", 1, "monitoring", "required", "missing"},
			{"bad.json", 1, "postmortem", "required", "missing"},
			{"bad.json", 1, "runbook", "required", "missing"},
			{"bad.json", 1, "signing", "required", "missing"},
			{"bad.json", 1, "verification", "required", "missing"},
			{"bad.json", 3, "services", "type", "want object; got number"},
		}},
		{"overlay value", []policyset.DataFile{
			{Name: "ok.yaml", Raw: []byte("approvers: [erin]\n"), Overlay: true},
			{Name: "over.yaml", Raw: []byte("# stricter\nincidents:\n  blocking_severities: [SEV-1, SEV-2, SEV3]\n"), Overlay: true},
		}, []want{{"over.yaml", 3, "incidents.blocking_severities[2]", "enum", `got "SEV3"`}}},
		{"overlay removes a key", []policyset.DataFile{{Name: "over.yaml", Raw: []byte("approvers: [erin]\nmonitoring: null\n"), Overlay: true}},
			[]want{{"over.yaml", 2, "monitoring", "required", "required key is missing"}}},
		{"overlay adds an object without its keys", []policyset.DataFile{{Name: "over.yaml", Raw: []byte("services:\n  web:\n    capabilities: {}\n"), Overlay: true}},
			[]want{{"over.yaml", 2, "services.web.deploy_commands", "required", "required key is missing"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, problems(t, loadFiles(t, engine.Options{}, tt.files...)), tt.want...)
		})
	}
}

// An overlay given first applies over the policy set's own data file, and
// an error in that file names it.
func TestDataErrorInPolicySetFile(t *testing.T) {
	own := edit(t, defaultDataText(t), "  gated_strategies: [user-percentage, canary, traffic-split]", "  gated_strategies: [percentage]")
	fsys := policytest.Edited(t, map[string]func(string) string{
		"shipgate/config/data.yaml": func(string) string { return own },
	})
	w := want{"shipgate/config/data.yaml", lineOf(t, own, "[percentage]"), "flags.gated_strategies[0]", "enum", `got "percentage"`}
	_, err := engine.Load(context.Background(), engine.Options{Policies: fsys})
	checkProblems(t, problems(t, err), w)

	over := policyset.DataFile{Name: "over.yaml", Raw: []byte("approvers: [erin]\n"), Overlay: true}
	m, err := policyset.ReadData(over.Name, over.Raw)
	if err != nil {
		t.Fatal(err)
	}
	base, err := policyset.ReadData("data.yaml", []byte(own))
	if err != nil {
		t.Fatal(err)
	}
	_, err = engine.Load(context.Background(), engine.Options{Policies: fsys, Data: policyset.MergeData(base, m), DataFiles: []policyset.DataFile{over}})
	checkProblems(t, problems(t, err), w)

	_, err = regotest.Run(context.Background(), regotest.Options{Policies: fsys})
	checkProblems(t, problems(t, err), w)
}

// Data given as a value, and a bundle's data, name no file: the key only.
func TestDataErrorWithoutFile(t *testing.T) {
	data := policytest.Data(t)
	delete(data, "incidents")
	_, err := engine.Load(context.Background(), engine.Options{Policies: policies.FS, Data: data})
	checkProblems(t, problems(t, err), want{"", 0, "incidents", "required", "required key is missing"})
	if got, w := err.Error(), "policy data: incidents: required key is missing"; got != w {
		t.Errorf("Load() = %q; want %q", got, w)
	}

	if _, err := engine.BuildBundle(context.Background(), engine.BundleOptions{Policies: policies.FS, Data: data}); err == nil {
		t.Error("BuildBundle() of data without incidents succeeded")
	}
	b, err := engine.BuildBundle(context.Background(), engine.BundleOptions{Policies: policies.FS})
	if err != nil {
		t.Fatal(err)
	}
	bad := *b
	bad.Data = map[string]any{"shipgate": map[string]any{"config": data}}
	_, err = engine.Load(context.Background(), engine.Options{Bundle: &bad})
	checkProblems(t, problems(t, err), want{"", 0, "incidents", "required", "required key is missing"})
}

// A policy set without any data is refused: every rule reads data.
func TestNoData(t *testing.T) {
	fsys := fstest.MapFS{"gates/deploy.rego": {Data: []byte("package shipgate.gates.deploy\n\ndecision := {\"allow\": false, \"violations\": [], \"rules\": [\"r\"]}\n")}}
	if _, err := engine.Load(context.Background(), engine.Options{Policies: fsys}); !errors.Is(err, policyset.ErrNoData) {
		t.Errorf("Load() = %v; want ErrNoData", err)
	}
	if _, err := regotest.Run(context.Background(), regotest.Options{Policies: fsys}); !errors.Is(err, policyset.ErrNoData) {
		t.Errorf("Test() = %v; want ErrNoData", err)
	}
	if _, err := engine.Load(context.Background(), engine.Options{Bundle: &bundle.Bundle{Modules: []bundle.ModuleFile{}}}); !errors.Is(err, policyset.ErrNoData) {
		t.Errorf("Load(bundle) = %v; want ErrNoData", err)
	}
}

// A recorded policy set loads as it was recorded, whatever the data
// schema of this version says of its data and of what its rules read.
func TestDataRecorded(t *testing.T) {
	data := policytest.Data(t)
	delete(data, "incidents")
	data["monitoring"].(map[string]any)["min_samples"] = 3
	fsys := policytest.Edited(t, map[string]func(string) string{
		"shipgate/rules/monitoring/monitoring.rego": policytest.Replace(t, `["monitoring", "min_window_minutes"]`, `["monitoring", "min_samples"]`),
		"shipgate/rules/freeze/freeze.rego":         policytest.Replace(t, "lib.config.freeze.environments", "lib.config.freeze.frozen"),
	})
	if _, err := engine.Load(context.Background(), engine.Options{Policies: fsys, Data: data}); err == nil {
		t.Fatal("Load() succeeded; want the data and the reads refused")
	}
	if _, err := engine.Load(context.Background(), engine.Options{Policies: fsys, Data: data, Recorded: true}); err != nil {
		t.Errorf("Load(Recorded) = %v", err)
	}
}

// A rule that reads a key the data schema lacks does not compile, at its
// file and row: through lib.config (the type checker, from the annotation
// on config), through a constant object.get path, or straight from data.
func TestReadUndeclaredKey(t *testing.T) {
	tests := []struct {
		name, file, old, new string
		row                  int
		msg                  string
	}{
		{"through lib.config", "shipgate/rules/freeze/freeze.rego", "lib.config.freeze.environments", "lib.config.freeze.enviroments",
			91, "rego_type_error: undefined ref: data.shipgate.lib.config.freeze.enviroments"},
		{"past a list", "shipgate/rules/verify/verify.rego", "some name in lib.config.verification.mandatory_checks", "some name in lib.config.verification.mandatory_checks[_].names",
			88, "rego_type_error: undefined ref: data.shipgate.lib.config.verification.mandatory_checks"},
		{"object.get", "shipgate/rules/monitoring/monitoring.rego", `["monitoring", "required_signals"]`, `["monitoring", "required_signal"]`,
			39, "rego_type_error: data.shipgate.config.monitoring.required_signal: the data schema (schemas/policydata.json) has no such key; want one of min_samples, min_window_minutes, required_signals"},
		{"straight from data", "shipgate/rules/change/change.rego", "size.filesChanged > lib.config.change.max_files", "size.filesChanged > data.shipgate.config.change.max_file",
			38, "data.shipgate.config.change.max_file: the data schema (schemas/policydata.json) has no such key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := policytest.Edited(t, map[string]func(string) string{tt.file: policytest.Replace(t, tt.old, tt.new)})
			_, err := engine.Load(context.Background(), engine.Options{Policies: fsys})
			var pe *engine.PolicyError
			if !errors.As(err, &pe) || len(pe.Errors) == 0 {
				t.Fatalf("Load() = %v; want a compile error", err)
			}
			e := pe.Errors[0]
			if e.Location == nil || e.Location.File != tt.file || e.Location.Row != tt.row || !strings.Contains(e.Error(), tt.msg) {
				t.Errorf("Load() = %v; want %s:%d: %s", err, tt.file, tt.row, tt.msg)
			}
		})
	}
}

// The data files shipped beside the default policies validate.
func TestExampleDataValid(t *testing.T) {
	raw, err := os.ReadFile("../examples/localizevideos/watch-demo-data.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := loadFiles(t, engine.Options{}, policyset.DataFile{Name: "watch-demo-data.yaml", Raw: raw, Overlay: true}); err != nil {
		t.Errorf("Load(+watch-demo-data.yaml) = %v", err)
	}
	if err := loadFiles(t, engine.Options{}, policyset.DataFile{Name: "data.yaml", Raw: []byte(defaultDataText(t))}); err != nil {
		t.Errorf("Load(data.yaml) = %v", err)
	}
}
