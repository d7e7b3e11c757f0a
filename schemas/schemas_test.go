package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func compile(t testing.TB) *Registry {
	t.Helper()
	r, err := Compile()
	if err != nil {
		t.Fatalf("Compile() = %v", err)
	}
	return r
}

// fixture reads testdata/valid/<kind>.<size>.json as jsonschema expects it
// (numbers as json.Number).
func fixture(t testing.TB, kind, size string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "valid", strings.ToLower(kind)+"."+size+".json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return v.(map[string]any)
}

func TestCompile(t *testing.T) {
	r := compile(t)
	for _, k := range Kinds {
		if _, ok := r.Schema(k); !ok {
			t.Errorf("Schema(%q) missing", k)
		}
	}
	if _, ok := r.Schema("Envelope"); ok {
		t.Errorf("Schema(%q) found; want only kinds", "Envelope")
	}
}

func TestFiles(t *testing.T) {
	want := []string{"envelope.json", DataFile}
	for _, k := range Kinds {
		want = append(want, File(k))
	}
	entries, err := FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
		b, _ := FS.ReadFile(e.Name())
		var doc struct {
			Schema string `json:"$schema"`
			ID     string `json:"$id"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		if doc.Schema != "https://json-schema.org/draft/2020-12/schema" || doc.ID != BaseURL+e.Name() {
			t.Errorf("%s: $schema %q, $id %q", e.Name(), doc.Schema, doc.ID)
		}
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("embedded files (-want +got):\n%s", diff)
	}
}

// TestKindsDocumented keeps docs/evidence.md describing every kind, in the
// order of Kinds: its "Kinds" section has one heading per kind.
func TestKindsDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "evidence.md"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	in := false
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "## ") {
			in = strings.TrimSpace(line) == "## Kinds"
		}
		if h, ok := strings.CutPrefix(line, "### "); ok && in {
			got = append(got, strings.TrimSpace(h))
		}
	}
	if diff := cmp.Diff(Kinds, got); diff != "" {
		t.Errorf("docs/evidence.md kind headings (-Kinds +docs):\n%s", diff)
	}
}

func TestValidFixtures(t *testing.T) {
	r := compile(t)
	for _, k := range Kinds {
		for _, size := range []string{"min", "max"} {
			t.Run(k+"/"+size, func(t *testing.T) {
				s, _ := r.Schema(k)
				if err := s.Validate(fixture(t, k, size)); err != nil {
					t.Errorf("Validate() = %v", err)
				}
			})
		}
	}
}

// leaf is one failed keyword: where in the instance, and which keyword.
type leaf struct{ Pointer, Keyword string }

func leaves(err error) []leaf {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []leaf
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			var p strings.Builder
			for _, tok := range e.InstanceLocation {
				p.WriteString("/" + tok)
			}
			kw := strings.Join(e.ErrorKind.KeywordPath(), "/")
			if kw == "" {
				kw = "false"
			}
			out = append(out, leaf{p.String(), kw})
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	slices.SortFunc(out, func(a, b leaf) int { return strings.Compare(a.Pointer+a.Keyword, b.Pointer+b.Keyword) })
	return slices.Compact(out)
}

// at returns the parent container of the value at pointer p and its last token.
func at(t *testing.T, doc map[string]any, p string) (any, string) {
	t.Helper()
	toks := strings.Split(p, "/")[1:]
	var cur any = doc
	for _, tok := range toks[:len(toks)-1] {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			i, _ := strconv.Atoi(tok)
			cur = c[i]
		}
	}
	return cur, toks[len(toks)-1]
}

func set(p string, v any) func(*testing.T, map[string]any) {
	return func(t *testing.T, doc map[string]any) {
		parent, key := at(t, doc, p)
		switch c := parent.(type) {
		case map[string]any:
			c[key] = v
		case []any:
			i, _ := strconv.Atoi(key)
			c[i] = v
		}
	}
}

func del(p string) func(*testing.T, map[string]any) {
	return func(t *testing.T, doc map[string]any) {
		parent, key := at(t, doc, p)
		delete(parent.(map[string]any), key)
	}
}

func TestInvalid(t *testing.T) {
	r := compile(t)
	tests := []struct {
		name, kind, size string
		mutate           func(*testing.T, map[string]any)
		want             []leaf
	}{
		{"envelope unknown field", "Build", "min", set("/status", "ok"), []leaf{{"", "additionalProperties"}}},
		{"release unknown field", "Build", "min", set("/release/team", "x"), []leaf{{"/release", "additionalProperties"}}},
		{"subject unknown field", "Build", "min", set("/subject/tag", "v1"), []leaf{{"/subject", "additionalProperties"}}},
		{"collector unknown field", "Build", "min", set("/collector/os", "linux"), []leaf{{"/collector", "additionalProperties"}}},
		{"extensions are open", "Build", "max", set("/extensions/new", 1), nil},
		{"wrong apiVersion", "Build", "min", set("/apiVersion", "shipgate.dev/v2"), []leaf{{"/apiVersion", "const"}}},
		{"kind of another schema", "Build", "min", set("/kind", "Deploy"), []leaf{{"/kind", "const"}}},
		{"missing release", "Build", "min", del("/release"), []leaf{{"", "required"}}},
		{"bad release id", "Build", "min", set("/release/id", "-x"), []leaf{{"/release/id", "pattern"}}},
		{"release id too long", "Build", "min", set("/release/id", strings.Repeat("a", 129)), []leaf{{"/release/id", "pattern"}}},
		{"release id leaving its directory", "Build", "min", set("/release/id", "../../etc/passwd"), []leaf{{"/release/id", "pattern"}}},
		{"release id with a NUL", "Build", "min", set("/release/id", "lv\x00x"), []leaf{{"/release/id", "pattern"}}},
		{"release id with a newline", "Build", "min", set("/release/id", "lv\nx"), []leaf{{"/release/id", "pattern"}}},
		{"service with a slash", "Build", "min", set("/release/service", "a/b"), []leaf{{"/release/service", "pattern"}}},
		{"environment of 10 KiB", "Build", "min", set("/release/environment", strings.Repeat("p", 10<<10)), []leaf{{"/release/environment", "pattern"}}},
		{"actor with a NUL", "Build", "min", set("/collector/actor", "al\x00ice"), []leaf{{"/collector/actor", "pattern"}}},
		{"actor with a newline", "Build", "min", set("/collector/actor", "alice\nINFO forged"), []leaf{{"/collector/actor", "pattern"}}},
		{"postmortem names a path", "Postmortem", "min", set("/data/violations/0", "../v"), []leaf{{"/data/violations/0", "pattern"}}},
		{"upper-case commit", "Build", "min", set("/subject/commit", strings.Repeat("A", 40)), []leaf{{"/subject/commit", "pattern"}}},
		{"short commit", "Build", "min", set("/subject/commit", "3f2c9a0"), []leaf{{"/subject/commit", "pattern"}}},
		{"timestamp without zone", "Build", "min", set("/collectedAt", "2026-11-26T10:00:00"), []leaf{{"/collectedAt", "format"}}},
		{"timestamp lower-case z", "Build", "min", set("/collectedAt", "2026-11-26T10:00:00z"), []leaf{{"/collectedAt", "pattern"}}},
		{"timestamp impossible day", "Build", "min", set("/collectedAt", "2026-02-30T10:00:00Z"), []leaf{{"/collectedAt", "format"}}},
		{"timestamp not a string", "Build", "min", set("/collectedAt", json.Number("1")), []leaf{{"/collectedAt", "type"}}},
		{"empty actor", "Build", "min", set("/collector/actor", ""), []leaf{{"/collector/actor", "minLength"}, {"/collector/actor", "pattern"}}},
		{"padded actor", "Build", "min", set("/collector/actor", "alice "), []leaf{{"/collector/actor", "pattern"}}},
		{"extensions not an object", "Build", "min", set("/extensions", "x"), []leaf{{"/extensions", "type"}}},
		{"data unknown field", "Build", "min", set("/data/foo", true), []leaf{{"/data", "additionalProperties"}}},
		{"data nested unknown field", "Build", "max", set("/data/artifact/size", 1), []leaf{{"/data/artifact", "additionalProperties"}}},
		{"build bad status", "Build", "min", set("/data/status", "ok"), []leaf{{"/data/status", "enum"}}},
		{"build fractional exitCode", "Build", "min", set("/data/exitCode", json.Number("0.5")), []leaf{{"/data/exitCode", "type"}}},
		{"build negative duration", "Build", "min", set("/data/durationSeconds", json.Number("-1")), []leaf{{"/data/durationSeconds", "minimum"}}},
		{"build empty argv", "Build", "min", set("/data/command", []any{}), []leaf{{"/data/command", "minItems"}}},
		{"build shell string", "Build", "min", set("/data/command", "npm run build"), []leaf{{"/data/command", "type"}}},
		{"build bad digest", "Build", "max", set("/data/artifact/digest", "sha256:AB"), []leaf{{"/data/artifact/digest", "pattern"}}},
		{"build artifact no paths", "Build", "max", set("/data/artifact/paths", []any{}), []leaf{{"/data/artifact/paths", "minItems"}}},
		{"build artifact empty path", "Build", "max", set("/data/artifact/paths", []any{""}), []leaf{{"/data/artifact/paths/0", "minLength"}}},
		{"build bad tree", "Build", "max", set("/data/artifact/tree", "abc"), []leaf{{"/data/artifact/tree", "pattern"}}},
		{"build source needs clean", "Build", "max", del("/data/source/clean"), []leaf{{"/data/source", "required"}}},
		{"deploy artifact needs tree", "Deploy", "max", del("/data/artifact/tree"), []leaf{{"/data/artifact", "required"}}},
		{"build artifact negative size", "Build", "max", set("/data/artifact/sizeBytes", json.Number("-1")), []leaf{{"/data/artifact/sizeBytes", "minimum"}}},
		{"build ci without provider", "Build", "max", del("/data/ci/provider"), []leaf{{"/data/ci", "required"}}},
		{"plan window needs both", "Plan", "max", del("/data/window/end"), []leaf{{"/data/window", "required"}}},
		{"plan runbook needs url", "Plan", "max", del("/data/documentation/runbook/url"), []leaf{{"/data/documentation/runbook", "required"}}},
		{"plan ci needs status", "Plan", "max", del("/data/ci/status"), []leaf{{"/data/ci", "required"}}},
		{"plan negative lines", "Plan", "max", set("/data/changeSize/linesAdded", json.Number("-1")), []leaf{{"/data/changeSize/linesAdded", "minimum"}}},
		{"plan short justification", "Plan", "max", set("/data/emergency/justification", "because"), []leaf{{"/data/emergency/justification", "minLength"}}},
		{"plan rollbackPlan needs command", "Plan", "max", del("/data/rollbackPlan/command"), []leaf{{"/data/rollbackPlan", "required"}}},
		{"incident bad severity", "IncidentStatus", "max", set("/data/incidents/1/severity", "SEV-5"), []leaf{{"/data/incidents/1/severity", "enum"}}},
		{"deploy outcome needs exitCode", "Deploy", "max", del("/data/exitCode"), []leaf{{"/data", "required"}}},
		{"deploy failed needs timing", "Deploy", "min", set("/data/status", "failed"), []leaf{{"/data", "required"}}},
		{"deploy request has no exitCode", "Deploy", "min", set("/data/exitCode", json.Number("0")), []leaf{{"/data/exitCode", "false"}}},
		{"deploy source incomplete", "Deploy", "min", del("/data/source/clean"), []leaf{{"/data/source", "required"}}},
		{"verification no checks", "Verification", "min", set("/data/checks", []any{}), []leaf{{"/data/checks", "minItems"}}},
		{"monitoring sample value string", "Monitoring", "max", set("/data/samples/0/values/error-rate", "high"), []leaf{{"/data/samples/0/values/error-rate", "type"}}},
		{"monitoring negative samples", "Monitoring", "min", set("/data/signals/0/samples", json.Number("-1")), []leaf{{"/data/signals/0/samples", "minimum"}}},
		{"rollback fast needs toCommit", "Rollback", "min", del("/data/toCommit"), []leaf{{"/data", "required"}}},
		{"rollback emergency needs flag", "Rollback", "max", del("/data/flag"), []leaf{{"/data", "required"}}},
		{"rollback step needs exitCode", "Rollback", "max", del("/data/steps/0/exitCode"), []leaf{{"/data/steps/0", "required"}}},
		{"rollback failed fast may lack toCommit", "Rollback", "min", func(t *testing.T, doc map[string]any) {
			set("/data/status", "failed")(t, doc)
			del("/data/toCommit")(t, doc)
		}, nil},
		{"rollback step needs command or file", "Rollback", "max", del("/data/steps/1/command"), []leaf{{"/data/steps/1", "required"}}},
		{"rollback step not both command and file", "Rollback", "max", set("/data/steps/1/file", "flags.json"), []leaf{{"/data/steps/1", "oneOf"}}},
		{"rollback bad trigger", "Rollback", "min", set("/data/trigger", "cron"), []leaf{{"/data/trigger", "enum"}}},
		{"rollback bad toRelease", "Rollback", "min", set("/data/toRelease", "-x"), []leaf{{"/data/toRelease", "pattern"}}},
		{"flag percentage above 100", "FlagChange", "max", set("/data/percentage", json.Number("100.5")), []leaf{{"/data/percentage", "maximum"}}},
		{"approval bad gate", "Approval", "min", set("/data/gate", "release"), []leaf{{"/data/gate", "enum"}}},
		{"override short reason", "Override", "min", set("/data/reason", "hotfix"), []leaf{{"/data/reason", "minLength"}}},
		{"postmortem no violations", "Postmortem", "min", set("/data/violations", []any{}), []leaf{{"/data/violations", "minItems"}}},
		{"postmortem action needs owner", "Postmortem", "max", del("/data/actions/1/owner"), []leaf{{"/data/actions/1", "required"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := fixture(t, tt.kind, tt.size)
			tt.mutate(t, doc)
			s, _ := r.Schema(tt.kind)
			if diff := cmp.Diff(tt.want, leaves(s.Validate(doc))); diff != "" {
				t.Errorf("Validate() leaves (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnknownDataFieldEveryKind(t *testing.T) {
	r := compile(t)
	for _, k := range Kinds {
		doc := fixture(t, k, "max")
		doc["data"].(map[string]any)["unknown"] = "x"
		s, _ := r.Schema(k)
		if diff := cmp.Diff([]leaf{{"/data", "additionalProperties"}}, leaves(s.Validate(doc))); diff != "" {
			t.Errorf("%s: Validate() leaves (-want +got):\n%s", k, diff)
		}
	}
}

func TestInputSchema(t *testing.T) {
	in, err := InputSchema()
	if err != nil {
		t.Fatalf("InputSchema() = %v", err)
	}
	if len(in) != len(Kinds) {
		t.Errorf("InputSchema() has %d kinds; want %d", len(in), len(Kinds))
	}
	banned := map[string]bool{"$ref": true, "$schema": true, "$id": true, "$defs": true, "$comment": true,
		"allOf": true, "if": true, "then": true, "else": true, "format": true, "pattern": true}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				// Property names are data, not keywords.
				if banned[k] && !strings.HasSuffix(path, "/properties") {
					t.Errorf("%s: has %q", path, k)
				}
				walk(path+"/"+k, e)
			}
		case []any:
			for i, e := range v {
				walk(path+"/"+strconv.Itoa(i), e)
			}
		}
	}
	for _, k := range Kinds {
		s, ok := in[k].(map[string]any)
		if !ok {
			t.Errorf("InputSchema()[%q] missing", k)
			continue
		}
		walk(k, s)
		props := s["properties"].(map[string]any)
		if diff := cmp.Diff(map[string]any{"type": "string", "const": k}, props["kind"]); diff != "" {
			t.Errorf("%s: kind (-want +got):\n%s", k, diff)
		}
		if diff := cmp.Diff(map[string]any{"type": "string"}, props["digest"]); diff != "" {
			t.Errorf("%s: digest (-want +got):\n%s", k, diff)
		}
		// Every field of the maximal fixture must be known to the type checker,
		// or a policy reading it would not compile.
		known(t, k, s, fixture(t, k, "max"))
	}
}

// known reports fields of doc that the closed objects of schema s do not
// declare.
func known(t *testing.T, path string, s map[string]any, doc any) {
	switch d := doc.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for k, v := range d {
			if ps, ok := props[k].(map[string]any); ok {
				known(t, path+"/"+k, ps, v)
			} else if s["additionalProperties"] == false {
				t.Errorf("%s: field %q unknown to the input schema", path, k)
			}
		}
	case []any:
		if is, ok := s["items"].(map[string]any); ok {
			for i, v := range d {
				known(t, path+"/"+strconv.Itoa(i), is, v)
			}
		}
	}
}

func TestInputSchemaFresh(t *testing.T) {
	a, _ := InputSchema()
	a["Plan"].(map[string]any)["properties"].(map[string]any)["kind"] = nil
	b, _ := InputSchema()
	if b["Plan"].(map[string]any)["properties"].(map[string]any)["kind"] == nil {
		t.Error("InputSchema() results share state")
	}
	if b["Build"].(map[string]any)["properties"].(map[string]any)["release"] == nil {
		t.Error("InputSchema()[Build] lost the envelope")
	}
}

func BenchmarkCompile(b *testing.B) {
	for b.Loop() {
		compile(b)
	}
}

// The envelope's $defs/name and $defs/person are the Go patterns, so a
// value the CLI or the API refuses is refused in a document too.
func TestNamePatternsMatchTheEnvelope(t *testing.T) {
	b, err := FS.ReadFile("envelope.json")
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Defs map[string]struct {
			Pattern string `json:"pattern"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	if got := env.Defs["name"].Pattern; got != NamePattern {
		t.Errorf("envelope.json $defs/name pattern = %q; want NamePattern %q", got, NamePattern)
	}
	if got := env.Defs["person"].Pattern; got != PersonPattern {
		t.Errorf("envelope.json $defs/person pattern = %q; want PersonPattern %q", got, PersonPattern)
	}
	if got := env.Defs["commit"].Pattern; got != CommitPattern {
		t.Errorf("envelope.json $defs/commit pattern = %q; want CommitPattern %q", got, CommitPattern)
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"lv-2026-11-26.1", "localizevideos-app", "production", "dec_06h1em68w1y9mnt30hkqg7xf9m", "ci-4711:deploy", strings.Repeat("a", 128)} {
		if err := CheckName("release id", ok); err != nil {
			t.Errorf("CheckName(%q) = %v; want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "../../etc/passwd", "a/b", "lv\x00x", "lv\nx", "lv x", ".hidden", "-flag", strings.Repeat("a", 129), strings.Repeat("a", 10<<10), "lé"} {
		err := CheckName("release id", bad)
		var ne *NameError
		if !errors.As(err, &ne) {
			t.Errorf("CheckName(%q) = %v; want a *NameError", bad, err)
		}
	}
	if err := CheckName("release id", strings.Repeat("a", 10<<10)); err == nil || len(err.Error()) > 200 {
		t.Errorf("CheckName(10 KiB) = %v; want a short error", err)
	}
	if err := CheckName("release id", "lv\x00x"); err == nil || !strings.Contains(err.Error(), `"lv\x00x"`) {
		t.Errorf("CheckName(NUL) = %v; want the NUL shown escaped", err)
	}
	for _, ok := range []string{"alice", "Zoë Müller", "ci-bot[bot]", "a"} {
		if err := CheckPerson("actor", ok); err != nil {
			t.Errorf("CheckPerson(%q) = %v; want nil", ok, err)
		}
	}
	for _, bad := range []string{"", " alice", "alice ", "al\x00ice", "al\nice", "al\tice", strings.Repeat("a", 201), "\xff"} {
		if err := CheckPerson("actor", bad); err == nil {
			t.Errorf("CheckPerson(%q) = nil; want an error", bad)
		}
	}
}
