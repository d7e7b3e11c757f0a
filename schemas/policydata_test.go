package schemas

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// defaultData reads the shipped policy data as jsonschema expects it.
func defaultData(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "policies", "shipgate", "config", "data.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return v.(map[string]any)
}

func compileData(t *testing.T) *jsonschema.Schema {
	t.Helper()
	s, err := CompileData()
	if err != nil {
		t.Fatalf("CompileData() = %v", err)
	}
	return s
}

func TestDataDefaultValid(t *testing.T) {
	if err := compileData(t).Validate(defaultData(t)); err != nil {
		t.Errorf("Validate(default data) = %v", err)
	}
}

// TestDataMinValid keeps testdata/valid/policydata.min.json, the smallest
// data the schema accepts (every list and map empty), valid: tests of
// policy sets that read no data use it.
func TestDataMinValid(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "valid", "policydata.min.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := compileData(t).Validate(v); err != nil {
		t.Errorf("Validate(policydata.min.json) = %v", err)
	}
}

func TestDataInvalid(t *testing.T) {
	s := compileData(t)
	key := "sha256:" + string(bytes.Repeat([]byte("ab"), 32))
	tests := []struct {
		name   string
		mutate func(*testing.T, map[string]any)
		want   []leaf
	}{
		{"missing incidents", del("/incidents"), []leaf{{"", "required"}}},
		{"missing blocking severities", del("/incidents/blocking_severities"), []leaf{{"/incidents", "required"}}},
		{"severity no IncidentStatus carries", set("/incidents/blocking_severities/0", "SEV1"), []leaf{{"/incidents/blocking_severities/0", "enum"}}},
		{"incident status", set("/incidents/blocking_statuses/0", "investigating"), []leaf{{"/incidents/blocking_statuses/0", "enum"}}},
		{"unknown top-level key", set("/incidnets", map[string]any{}), []leaf{{"", "additionalProperties"}}},
		{"unknown nested key", set("/freeze/enviroments", []any{"production"}), []leaf{{"/freeze", "additionalProperties"}}},
		{"list as a string", set("/approvers", "alice"), []leaf{{"/approvers", "type"}}},
		{"padded approver", set("/approvers/0", "alice "), []leaf{{"/approvers/0", "pattern"}}},
		{"days as a string", set("/runbook/max_review_age_days", "30"), []leaf{{"/runbook/max_review_age_days", "type"}}},
		{"fractional line limit", set("/change/max_lines", json.Number("40.5")), []leaf{{"/change/max_lines", "type"}}},
		{"zero due days", set("/postmortem/due_days", json.Number("0")), []leaf{{"/postmortem/due_days", "exclusiveMinimum"}}},
		{"strategy no FlagChange carries", set("/flags/gated_strategies/0", "percentage"), []leaf{{"/flags/gated_strategies/0", "enum"}}},
		{"trigger no Deploy carries", set("/deploy/allowed_triggers/0", "ci"), []leaf{{"/deploy/allowed_triggers/0", "enum"}}},
		{"bad duration", set("/freshness/Build", "7 days"), []leaf{{"/freshness/Build", "pattern"}}},
		{"duration as a number", set("/freshness/Build", json.Number("3600")), []leaf{{"/freshness/Build", "type"}}},
		{"freshness of no kind", set("/freshness/Builds", "1h"), []leaf{{"/freshness", "additionalProperties"}}},
		{"gate of no kind", set("/gates/deploy/required/0", "Ticket"), []leaf{{"/gates/deploy/required/0", "enum"}}},
		{"unknown gate", set("/gates/release", map[string]any{"required": []any{}}), []leaf{{"/gates", "additionalProperties"}}},
		{"missing gate", del("/gates/flag"), []leaf{{"/gates", "required"}}},
		{"service without deploy commands", del("/services/localizevideos-app/deploy_commands"), []leaf{{"/services/localizevideos-app", "required"}}},
		{"empty deploy command", set("/services/localizevideos-app/deploy_commands/0", []any{}), []leaf{{"/services/localizevideos-app/deploy_commands/0", "minItems"}}},
		{"capability prerequisite not a bool", set("/services/localizevideos-app/capabilities", map[string]any{"canary": map[string]any{"metrics": "yes"}}),
			[]leaf{{"/services/localizevideos-app/capabilities/canary/metrics", "type"}}},
		{"capability unknown prerequisite", set("/services/localizevideos-app/capabilities", map[string]any{"canary": map[string]any{"dashboards": true}}),
			[]leaf{{"/services/localizevideos-app/capabilities/canary", "additionalProperties"}}},
		{"service signing of no kind", set("/services/localizevideos-app/signing", map[string]any{"required_kinds": []any{"Binary"}, "trusted_keys": map[string]any{}}),
			[]leaf{{"/services/localizevideos-app/signing/required_kinds/0", "enum"}}},
		{"service signing is whole", set("/services/localizevideos-app/signing", map[string]any{"required_kinds": []any{"Build"}}),
			[]leaf{{"/services/localizevideos-app/signing", "required"}}},
		{"trusted key id", set("/signing/trusted_keys", map[string]any{"ed25519:abc": "ci"}), []leaf{{"/signing/trusted_keys", "additionalProperties"}}},
		{"trusted key id ok", set("/signing/trusted_keys", map[string]any{key: "ci"}), nil},
		{"window start without end", del("/freeze/calendar/1/end"), []leaf{{"/freeze/calendar/1", "dependentRequired/start"}}},
		{"window bad start", set("/freeze/calendar/1/start", "22/12/2026"), []leaf{{"/freeze/calendar/1/start", "pattern"}}},
		{"window local start", set("/freeze/calendar/1/start", "2026-12-22T00:00"), nil},
		{"recurring bad duration", set("/freeze/calendar/0/duration", "62"), []leaf{{"/freeze/calendar/0/duration", "pattern"}}},
		{"enforcement level", set("/enforcement", map[string]any{"change.size": "warn"}), []leaf{{"/enforcement/change.size", "enum"}}},
		{"enforcement rule id", set("/enforcement", map[string]any{"Change Size": "soft"}), []leaf{{"/enforcement", "additionalProperties"}}},
		{"clock skew", set("/clock_skew", "5 minutes"), []leaf{{"/clock_skew", "pattern"}}},
		{"clock skew ok", set("/clock_skew", "1m30s"), nil},
		{"no enforcement is fine", del("/enforcement"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := defaultData(t)
			tt.mutate(t, doc)
			if diff := cmp.Diff(tt.want, leaves(s.Validate(doc))); diff != "" {
				t.Errorf("Validate() leaves (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDataSchema(t *testing.T) {
	s, err := DataSchema()
	if err != nil {
		t.Fatalf("DataSchema() = %v", err)
	}
	banned := map[string]bool{"$ref": true, "$schema": true, "$id": true, "$defs": true, "$comment": true,
		"description": true, "propertyNames": true, "patternProperties": true, "dependentRequired": true, "pattern": true}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if banned[k] && !(len(path) > len("/properties") && path[len(path)-len("/properties"):] == "/properties") {
					t.Errorf("%s: has %q", path, k)
				}
				walk(path+"/"+k, e)
			}
		case []any:
			for _, e := range v {
				walk(path+"/[]", e)
			}
		}
	}
	walk("", s)
	if s["additionalProperties"] != false {
		t.Errorf("DataSchema() is open: additionalProperties = %v", s["additionalProperties"])
	}
	enf := s["properties"].(map[string]any)["enforcement"].(map[string]any)
	if diff := cmp.Diff(map[string]any{"type": "string", "enum": []any{"advisory", "soft", "hard"}}, enf["additionalProperties"]); diff != "" {
		t.Errorf("DataSchema() enforcement values, from patternProperties (-want +got):\n%s", diff)
	}
	// Every key of the shipped data must be known to the type checker, or
	// a rule reading it would not compile.
	known(t, "data", s, defaultData(t))
}

// TestDataKinds keeps the lists of evidence kinds equal: Kinds, the
// envelope's kind enum, and the keys freshness may have.
func TestDataKinds(t *testing.T) {
	files, err := readFiles()
	if err != nil {
		t.Fatal(err)
	}
	var enum []string
	for _, k := range files["envelope.json"]["$defs"].(map[string]any)["kind"].(map[string]any)["enum"].([]any) {
		enum = append(enum, k.(string))
	}
	if diff := cmp.Diff(Kinds, enum); diff != "" {
		t.Errorf("envelope.json kind enum (-Kinds +enum):\n%s", diff)
	}
	fresh := files[DataFile]["properties"].(map[string]any)["freshness"].(map[string]any)["properties"].(map[string]any)
	got := slices.Sorted(maps.Keys(fresh))
	if diff := cmp.Diff(slices.Sorted(slices.Values(Kinds)), got); diff != "" {
		t.Errorf("%s freshness keys (-Kinds +freshness):\n%s", DataFile, diff)
	}
}
