package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/localizevideos/shipgate/schemas"
)

var registry = sync.OnceValues(schemas.Compile)

func newValidator(t testing.TB, lim Limits) *Validator {
	t.Helper()
	reg, err := registry()
	if err != nil {
		t.Fatalf("schemas.Compile() = %v", err)
	}
	return NewValidator(reg, lim)
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// doc returns a document of kind with the given data object.
func doc(kind, data string) string {
	return `{"apiVersion":"shipgate.dev/v1","kind":"` + kind + `",` +
		`"release":{"id":"lv-1","service":"app","environment":"production"},` +
		`"subject":{"repository":"localizevideos/app","commit":"3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"},` +
		`"collectedAt":"2026-11-26T10:00:00Z","collector":{"name":"shipgate","actor":"ci-bot"},"data":` + data + `}`
}

const buildData = `{"command":["npm","run","build"],"status":"passed","exitCode":0,"startedAt":"2026-11-26T09:58:00Z","finishedAt":"2026-11-26T09:59:12Z","durationSeconds":72}`

func TestDecodeRejects(t *testing.T) {
	nested := func(n int) string {
		return `{"kind":"Build","a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
	}
	tests := []struct {
		name string
		lim  Limits
		in   string
		want ValidationErrors
	}{
		{"too large", Limits{MaxBytes: 10}, `{"kind":"Build"}`,
			ValidationErrors{{"f.json", "", "max-bytes", "document exceeds the limit of 10 bytes"}}},
		{"invalid utf8 in value", Limits{}, "{\"kind\":\"Bu\xffild\"}",
			ValidationErrors{{"f.json", "/kind", "utf8", "invalid UTF-8 at byte offset 11"}}},
		{"invalid utf8 in key", Limits{}, "{\"a\":{\"k\xff\":1}}",
			ValidationErrors{{"f.json", "/a", "utf8", "invalid UTF-8 at byte offset 8"}}},
		{"invalid utf8 after value", Limits{}, "{}\xff",
			ValidationErrors{{"f.json", "", "utf8", "invalid UTF-8 at byte offset 2"}}},
		{"invalid utf8 beats syntax", Limits{}, "{\"a\":[1,,2],\"b\":\"\xc3\"}",
			ValidationErrors{{"f.json", "/a/1", "utf8", "invalid UTF-8 at byte offset 17"}}},
		{"lone high surrogate", Limits{}, `{"a":["\ud800"]}`,
			ValidationErrors{{"f.json", "/a/0", "utf8", `string has a lone UTF-16 surrogate escape \ud800`}}},
		{"high surrogate without low", Limits{}, `{"a":"\ud800\u0041"}`,
			ValidationErrors{{"f.json", "/a", "utf8", `string has a lone UTF-16 surrogate escape \ud800`}}},
		{"lone low surrogate", Limits{}, `{"a":"x\\\udc00"}`,
			ValidationErrors{{"f.json", "/a", "utf8", `string has a lone UTF-16 surrogate escape \udc00`}}},
		{"duplicate key", Limits{}, `{"a":1,"a":2}`,
			ValidationErrors{{"f.json", "/a", "duplicate-key", `duplicate key "a"`}}},
		{"duplicate nested key", Limits{}, `{"x":{"y":[{"z":1,"z":{}}]}}`,
			ValidationErrors{{"f.json", "/x/y/0/z", "duplicate-key", `duplicate key "z"`}}},
		{"duplicate key spelled with an escape", Limits{}, `{"a":1,"\u0061":2}`,
			ValidationErrors{{"f.json", "/a", "duplicate-key", `duplicate key "a"`}}},
		{"duplicate key needing pointer escapes", Limits{}, `{"x":{"a/b~":1,"a/b~":2}}`,
			ValidationErrors{{"f.json", "/x/a~1b~0", "duplicate-key", `duplicate key "a/b~"`}}},
		{"duplicate key in extensions", Limits{}, doc("Build", buildData)[:len(doc("Build", buildData))-1] + `,"extensions":{"k":1,"k":1}}`,
			ValidationErrors{{"f.json", "/extensions/k", "duplicate-key", `duplicate key "k"`}}},
		{"too deep", Limits{MaxDepth: 3}, `{"a":[[[1]]]}`,
			ValidationErrors{{"f.json", "/a/0/0", "max-depth", "objects and arrays nest deeper than 3 levels"}}},
		{"deep at the limit", Limits{MaxDepth: 3}, `{"a":[[1]]}`,
			ValidationErrors{{"f.json", "", "required", `missing property "kind"`}}},
		{"default depth at the limit", Limits{}, nested(63),
			ValidationErrors{{"f.json", "", "additionalProperties", `additional property "a" is not allowed`}, {"f.json", "", "required", `missing property "apiVersion"`},
				{"f.json", "", "required", `missing property "collectedAt"`}, {"f.json", "", "required", `missing property "collector"`}, {"f.json", "", "required", `missing property "data"`},
				{"f.json", "", "required", `missing property "release"`}, {"f.json", "", "required", `missing property "subject"`}}},
		{"default depth exceeded", Limits{}, nested(64),
			ValidationErrors{{"f.json", "/a" + strings.Repeat("/0", 63), "max-depth", "objects and arrays nest deeper than 64 levels"}}},
		{"second value", Limits{}, `{} {}`,
			ValidationErrors{{"f.json", "", "trailing-data", "unexpected data after the top-level value at byte offset 3"}}},
		{"trailing garbage", Limits{}, "{}\n x",
			ValidationErrors{{"f.json", "", "trailing-data", "unexpected data after the top-level value at byte offset 4"}}},
		{"truncated", Limits{}, `{"a":`,
			ValidationErrors{{"f.json", "/a", "syntax", "unexpected end of input at byte offset 5"}}},
		{"trailing comma", Limits{}, `{"a":[1,2,]}`,
			ValidationErrors{{"f.json", "/a/2", "syntax", "invalid character ']' looking for beginning of value at byte offset 10"}}},
		{"empty", Limits{}, ``,
			ValidationErrors{{"f.json", "", "syntax", "unexpected end of input at byte offset 0"}}},
		{"byte order mark", Limits{}, "\ufeff{}",
			ValidationErrors{{"f.json", "", "syntax", "invalid character 'ï' looking for beginning of value at byte offset 1"}}},
		{"array document", Limits{}, `[{"kind":"Build"}]`,
			ValidationErrors{{"f.json", "", "type", "value must be of type object, got array"}}},
		{"null document", Limits{}, `null`,
			ValidationErrors{{"f.json", "", "type", "value must be of type object, got null"}}},
		{"number overflow", Limits{}, `{"a":-1e400}`,
			ValidationErrors{{"f.json", "/a", "number", "number -1e400 is out of the range of an IEEE 754 double"}}},
		{"number underflow", Limits{}, `{"a":[0.0, 1e-400]}`,
			ValidationErrors{{"f.json", "/a/1", "number", "number 1e-400 underflows an IEEE 754 double to 0"}}},
		{"unsafe integer", Limits{}, `{"a":9007199254740992}`,
			ValidationErrors{{"f.json", "/a", "number", "integer 9007199254740992 is outside ±(2^53-1) and cannot be represented exactly; use a string"}}},
		{"missing kind", Limits{}, `{"apiVersion":"shipgate.dev/v1"}`,
			ValidationErrors{{"f.json", "", "required", `missing property "kind"`}}},
		{"unknown kind", Limits{}, doc("Deployment", buildData),
			ValidationErrors{{"f.json", "/kind", "enum", `value must be one of "Plan", "IncidentStatus", "Build", "Deploy", "Verification", "Monitoring", "Rollback", "FlagChange", "Approval", "Override", "Postmortem", "Hold", "ErrorBudget"`}}},
		{"kind not a string", Limits{}, `{"kind":["Build"]}`,
			ValidationErrors{{"f.json", "/kind", "enum", `value must be one of "Plan", "IncidentStatus", "Build", "Deploy", "Verification", "Monitoring", "Rollback", "FlagChange", "Approval", "Override", "Postmortem", "Hold", "ErrorBudget"`}}},
		{"schema failures sorted", Limits{}, doc("Build", `{"foo":1,"command":["make"],"status":"ok","startedAt":"2026-11-26T09:58:00Z","finishedAt":"2026-11-26T09:59:12Z","durationSeconds":-0.5}`),
			ValidationErrors{
				{"f.json", "/data", "additionalProperties", `additional property "foo" is not allowed`},
				{"f.json", "/data", "required", `missing property "exitCode"`},
				{"f.json", "/data/durationSeconds", "minimum", "value must be >= 0, got -0.5"},
				{"f.json", "/data/status", "enum", `value must be one of "passed", "failed"`},
			}},
		{"data not an object", Limits{}, doc("Build", `[]`),
			ValidationErrors{{"f.json", "/data", "type", "value must be of type object, got array"}}},
		{"bad commit and timestamp", Limits{}, strings.Replace(strings.Replace(doc("Build", buildData), "3f2c9a0e", "3F2C9A0E", 1), "10:00:00Z", "10:00:00", 1),
			ValidationErrors{
				{"f.json", "/collectedAt", "format", `value "2026-11-26T10:00:00" is not a valid date-time: less than 20 characters long`},
				{"f.json", "/subject/commit", "pattern", `value "3F2C9A0E5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e" does not match pattern "^[0-9a-f]{40}$"`},
			}},
		{"requested deploy with outcome", Limits{}, doc("Deploy", `{"command":["pm2","reload","app"],"status":"requested","actor":"alice","trigger":"manual","source":{"branch":"main","onMain":true,"clean":true,"commitKnown":true},"exitCode":0}`),
			ValidationErrors{{"f.json", "/data/exitCode", "false", `property "exitCode" is not allowed here`}}},
		{"fast rollback without toCommit", Limits{}, doc("Rollback", `{"strategy":"fast","status":"succeeded","fromCommit":"3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e","startedAt":"2026-11-26T10:00:00Z","finishedAt":"2026-11-26T10:00:00Z","durationSeconds":0,"steps":[{"name":"x","command":"x","exitCode":0,"durationSeconds":0}]}`),
			ValidationErrors{
				{"f.json", "/data", "required", `missing property "toCommit"`},
				{"f.json", "/data/steps/0/command", "type", "value must be of type array, got string"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := newValidator(t, tt.lim).Decode("f.json", []byte(tt.in))
			if d != nil {
				t.Errorf("Decode() document = %+v; want nil", d)
			}
			var got ValidationErrors
			if !errors.As(err, &got) {
				t.Fatalf("Decode() error = %v (%T); want ValidationErrors", err, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode() errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	v := newValidator(t, DefaultLimits)
	got, err := v.Decode("testdata/build.json", readFile(t, "build.json"))
	if err != nil {
		t.Fatalf("Decode() = %v", err)
	}
	want := &Document{
		Source:      "testdata/build.json",
		Kind:        "Build",
		ReleaseID:   "lv-2026-11-26.1",
		Service:     "localizevideos-app",
		Environment: "production",
		Repository:  "localizevideos/app",
		Commit:      "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e",
		CollectedAt: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC),
		Actor:       "ci-bot",
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Document{}, "Digest", "Canonical", "Value")); diff != "" {
		t.Errorf("Decode() (-want +got):\n%s", diff)
	}
	if got.Value["data"].(map[string]any)["exitCode"] != json.Number("0") {
		t.Errorf("Value numbers are not json.Number: %#v", got.Value["data"])
	}
	canon, err := Canonical(readFile(t, "build.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != DigestOf(canon) {
		t.Errorf("Digest = %s; want DigestOf(Canonical(file)) = %s", got.Digest, DigestOf(canon))
	}
	if !bytes.Equal(got.Canonical, canon) {
		t.Errorf("Canonical = %s; want %s", got.Canonical, canon)
	}
}

func TestDigestInvariance(t *testing.T) {
	v := newValidator(t, DefaultLimits)
	base := doc("Build", buildData)
	var indented bytes.Buffer
	if err := json.Indent(&indented, []byte(base), "", "\t"); err != nil {
		t.Fatal(err)
	}
	same := map[string]string{
		"indented":   indented.String(),
		"key order":  doc("Build", `{"durationSeconds":72,"finishedAt":"2026-11-26T09:59:12Z","startedAt":"2026-11-26T09:58:00Z","exitCode":0,"status":"passed","command":["npm","run","build"]}`),
		"1.0 vs 1":   strings.Replace(base, `"durationSeconds":72`, `"durationSeconds":72.0`, 1),
		"exponent":   strings.Replace(base, `"durationSeconds":72`, `"durationSeconds":7.2e1`, 1),
		"exponent 2": strings.Replace(base, `"durationSeconds":72`, `"durationSeconds":720E-1`, 1),
		"minus zero": strings.Replace(base, `"exitCode":0`, `"exitCode":-0`, 1),
		"escapes":    strings.Replace(base, `"ci-bot"`, `"ci\u002dbo\u0074"`, 1),
	}
	want, err := v.Decode("base", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range same {
		got, err := v.Decode(name, []byte(in))
		if err != nil {
			t.Errorf("%s: Decode() = %v", name, err)
			continue
		}
		if got.Digest != want.Digest {
			t.Errorf("%s: Digest = %s; want %s", name, got.Digest, want.Digest)
		}
	}
	other, err := v.Decode("other", []byte(strings.Replace(base, `"durationSeconds":72`, `"durationSeconds":72.5`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if other.Digest == want.Digest {
		t.Errorf("a changed value kept the digest %s", other.Digest)
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"sorted and compact", `{ "b": 1.0, "a": [true, null, "\u00e9\n"], "c": 1e21, "d": 1E-7 }`, `{"a":[true,null,"é\n"],"b":1,"c":1e+21,"d":1e-7}`},
		{"utf16 key order", `{"\ud83d\ude00":1,"\ufb01":2}`, `{"😀":1,"ﬁ":2}`},
		{"html characters", `{"a":"<&>"}`, `{"a":"<&>"}`},
		{"scalar", ` 1.50 `, `1.5`},
		{"surrogate pair", `"\ud83d\ude00"`, `"😀"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonical([]byte(tt.in))
			if err != nil {
				t.Fatalf("Canonical(%q) = %v", tt.in, err)
			}
			if string(got) != tt.want {
				t.Errorf("Canonical(%q) = %s; want %s", tt.in, got, tt.want)
			}
		})
	}
	if _, err := Canonical([]byte(`{"a":1,"a":1}`)); err == nil {
		t.Error("Canonical(duplicate key) = nil error")
	}
	if got, want := DigestOf([]byte("{}")), "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"; got != want {
		t.Errorf("DigestOf({}) = %s; want %s", got, want)
	}
}

func TestErrorFormat(t *testing.T) {
	es := ValidationErrors{
		{"examples/bad.json", "/data/status", "enum", `value must be one of "passed", "failed"`},
		{"", "", "max-bytes", "too big"},
	}
	want := "examples/bad.json: /data/status: enum: value must be one of \"passed\", \"failed\"\n(root): max-bytes: too big"
	if got := es.Error(); got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	var err error = es
	var one ValidationError
	if !errors.As(err, &one) || one != es[0] {
		t.Errorf("errors.As(ValidationErrors, *ValidationError) = %v", one)
	}
}

func TestLoadPaths(t *testing.T) {
	v := newValidator(t, Limits{MaxBytes: 4096})
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	build := string(readFile(t, "build.json"))
	write("good/b.json", build)
	write("good/a.json", strings.Replace(build, "ci-bot", "alice", 1))
	write("good/notes.txt", "not evidence")
	write("good/sub/c.json", "not even JSON")
	single := write("plan.json", string(readFile(t, "plan.json")))

	docs, err := v.LoadPaths([]string{filepath.Join(dir, "good"), single})
	if err != nil {
		t.Fatalf("LoadPaths() = %v", err)
	}
	var got []string
	for _, d := range docs {
		got = append(got, filepath.Base(d.Source)+" "+d.Kind+" "+d.Actor)
	}
	if diff := cmp.Diff([]string{"a.json Build alice", "b.json Build ci-bot", "plan.json Plan ci-bot"}, got); diff != "" {
		t.Errorf("LoadPaths() documents (-want +got):\n%s", diff)
	}

	write("bad/1.json", `{"kind":"Build","kind":"Plan"}`)
	write("bad/2.json", strings.Repeat(" ", 4097))
	docs, err = v.LoadPaths([]string{filepath.Join(dir, "good"), filepath.Join(dir, "bad"), filepath.Join(dir, "missing")})
	if docs != nil {
		t.Errorf("LoadPaths() returned %d documents with an error", len(docs))
	}
	for _, want := range []string{
		filepath.Join(dir, "bad/1.json") + ": /kind: duplicate-key: ",
		filepath.Join(dir, "bad/2.json") + ": (root): max-bytes: ",
		"load evidence: stat " + filepath.Join(dir, "missing") + ": no such file or directory",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadPaths() error = %v; want it to contain %q", err, want)
		}
	}
	var ves ValidationErrors
	if !errors.As(err, &ves) {
		t.Errorf("LoadPaths() error %T does not contain ValidationErrors", err)
	}

	// A directory without documents is a mistaken path, not an empty batch.
	write("none/notes.txt", "not evidence")
	if err := os.Mkdir(filepath.Join(dir, "none/sub.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	none := filepath.Join(dir, "none")
	docs, err = v.LoadPaths([]string{filepath.Join(dir, "good"), none})
	if docs != nil || !errors.Is(err, ErrNoEvidence) {
		t.Fatalf("LoadPaths(dir without *.json) = %d documents, %v; want ErrNoEvidence", len(docs), err)
	}
	if want := none + ": no evidence (*.json) in it"; !strings.Contains(err.Error(), want) {
		t.Errorf("LoadPaths(dir without *.json) = %v; want it to contain %q", err, want)
	}
}

func BenchmarkDecode(b *testing.B) {
	v := newValidator(b, DefaultLimits)
	plan := readFile(b, "plan.json")
	b.SetBytes(int64(len(plan)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Decode("plan.json", plan); err != nil {
			b.Fatal(err)
		}
	}
}

// CheckJSON reads any JSON as strictly as a document is read, and names
// where it fails.
func TestCheckJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":[{"b":1}],"c":true}`: "",
		`[1,"x",null]`:             "",
		`{"a":1,"a":2}`:            `/a: duplicate-key: duplicate key "a"`,
		`{"a":[{"b":1,"b":1}]}`:    `/a/0/b: duplicate-key: duplicate key "b"`,
		`{"a":1} {}`:               "(root): trailing-data: unexpected data after the top-level value at byte offset 8",
		`[[[[1]]]]`:                "/0/0/0: max-depth: objects and arrays nest deeper than 3 levels",
		`{"a":"\ud800"}`:           `/a: utf8: `,
	} {
		err := CheckJSON([]byte(in), 3)
		switch {
		case want == "" && err != nil:
			t.Errorf("CheckJSON(%s) = %v; want nil", in, err)
		case want != "" && (err == nil || !strings.HasPrefix(err.Error(), want)):
			t.Errorf("CheckJSON(%s) = %v; want %q", in, err, want)
		}
	}
}
