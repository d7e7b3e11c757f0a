package mutation_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
)

// The generator of testdata/negative (go test ./gate/mutation -run
// NegativeCorpus -update). The files it writes are the corpus, committed
// and reviewed as data; this only saves writing them by hand.

// corpus collects the cases.
type corpus struct {
	t     *testing.T
	steps map[string]*step
	specs []corpusSpec
}

type corpusSpec struct {
	name  string
	c     negCase
	files map[string][]byte
}

func writeCorpus(t *testing.T, steps map[string]*step) {
	k := &corpus{t: t, steps: steps}
	k.invalidDocuments()
	k.undecodable()
	k.envelopes()
	k.foreign()
	k.staleAndFuture()
	k.rules()

	// The cases are regenerated from scratch; README.md stays.
	old, err := os.ReadDir(negativeRoot)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range old {
		if e.IsDir() {
			if err := os.RemoveAll(filepath.Join(negativeRoot, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	seen := map[string]bool{}
	for _, s := range k.specs {
		if seen[s.name] {
			t.Fatalf("two negative cases named %s", s.name)
		}
		seen[s.name] = true
		dir := filepath.Join(negativeRoot, s.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		y, err := yaml.MarshalWithOptions(s.c, yaml.UseLiteralStyleIfMultiline(true))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "expect.yaml"), y, 0o644); err != nil {
			t.Fatal(err)
		}
		for name, b := range s.files {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("wrote %d negative cases to %s", len(k.specs), negativeRoot)
}

// at starts a case on the step base/gate: its gate, time and release, and
// its documents unless the case replaces or leaves them out.
func (k *corpus) at(stepID string) negCase {
	st := k.steps[stepID]
	if st == nil {
		k.t.Fatalf("no allowed step %s", stepID)
	}
	return negCase{Gate: st.gate, Now: st.now.Format(time.RFC3339), Release: st.release, Base: st.caseName}
}

// doc is a copy of a document of a step.
func (k *corpus) doc(stepID, name string) map[string]any {
	d := k.steps[stepID].doc(name)
	if d == nil {
		k.t.Fatalf("%s has no %s", stepID, name)
	}
	return cloneDoc(d.tree)
}

func (k *corpus) add(name, description string, c negCase, e negExpect, files map[string][]byte) {
	c.Description, c.Expect = description, e
	// The examples are signed: a changed copy of one is signed again with
	// its key, so that the case denies for what it changes, not for a
	// signature it lost. Invalid evidence stays bare (the validator refuses
	// it before any signature matters), and so do the envelope cases.
	if e.Keyword == "" && e.Pointer == nil {
		st := k.steps[c.Base+"/"+c.Gate]
		for name, b := range files {
			if st == nil {
				files[name] = sealAdded(b)
			} else if d := st.doc(name); d != nil {
				files[name] = reseal(d.key, b)
			} else {
				files[name] = sealAdded(b)
			}
		}
	}
	k.specs = append(k.specs, corpusSpec{name: name, c: c, files: files})
}

// invalidAt expects invalid evidence with a validation error of keyword
// ("" any) at pointer ("*" any).
func invalidAt(keyword, pointer string) negExpect {
	e := negExpect{Codes: []string{engine.ReasonEvidenceInvalid}, Keyword: keyword}
	if pointer != "*" {
		e.Pointer = &pointer
	}
	return e
}

func denyWith(codes ...string) negExpect { return negExpect{Codes: codes} }

// pointerOf turns a dotted path into a JSON pointer.
func pointerOf(dotted string) string {
	if dotted == "" {
		return ""
	}
	return "/" + strings.ReplaceAll(dotted, ".", "/")
}

func split(dotted string) []string { return strings.Split(dotted, ".") }

func parentOf(dotted string) string {
	i := strings.LastIndexByte(dotted, '.')
	if i < 0 {
		return ""
	}
	return dotted[:i]
}

// source is where a kind's document comes from: a document of an allowed
// step, or one made here for the kinds the examples do not have.
type source struct {
	step, doc string
}

var sources = map[string]source{
	"Plan":           {"allowed/deploy", "plan.json"},
	"IncidentStatus": {"allowed/deploy", "incidents.json"},
	"Build":          {"allowed/deploy", "build.json"},
	"Deploy":         {"allowed/deploy", "deploy-requested.json"},
	"Approval":       {"allowed/deploy", "approval.json"},
	"Verification":   {"allowed/verify", "verification.json"},
	"Monitoring":     {"allowed/complete", "monitoring.json"},
	"FlagChange":     {"flag-route/flag", "flagchange.json"},
	"Override":       {"override-error-budget/deploy", "override.json"},
}

// made are valid documents of the kinds no allowed example has, added to
// the allowed release at the deploy gate.
func (k *corpus) made(kind string) map[string]any {
	m := k.doc("allowed/deploy", "plan.json")
	m["kind"] = kind
	m["collectedAt"] = "2026-11-26T10:00:00Z"
	switch kind {
	case "Rollback":
		m["data"] = map[string]any{"strategy": "fast", "status": "succeeded", "trigger": "manual",
			"fromCommit": "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e", "toCommit": "9a8b7c6d5e4f30211203f4e5d6c7b8a990817263",
			"startedAt": "2026-11-26T09:59:00Z", "finishedAt": "2026-11-26T09:59:05Z", "durationSeconds": json.Number("5")}
	case "Postmortem":
		m["data"] = map[string]any{"violations": []any{"vio_01"}, "summary": "deployed during the freeze", "author": "dave",
			"completedAt": "2026-11-26T09:59:00Z"}
	case "Hold":
		m["data"] = map[string]any{"action": "place", "by": "bob", "reason": "watching the release by hand", "at": "2026-11-26T09:59:00Z"}
	case "ErrorBudget":
		m["data"] = map[string]any{"slo": "availability", "objective": json.Number("0.995"), "window": "28d",
			"errorRatio": json.Number("0.002"), "remaining": json.Number("0.6"), "measuredAt": "2026-11-26T10:00:00Z"}
	default:
		k.t.Fatalf("no made %s", kind)
	}
	return m
}

// kindDoc is a valid document of kind, where it goes and under what name.
func (k *corpus) kindDoc(kind string) (stepID, name string, m map[string]any) {
	if s, ok := sources[kind]; ok {
		return s.step, s.doc, k.doc(s.step, s.doc)
	}
	return "allowed/deploy", strings.ToLower(kind) + ".json", k.made(kind)
}

// required lists, per kind, the fields docs/evidence.md requires (array
// elements as index 0); "Deploy outcome" is a Deploy that ran.
var required = []struct {
	kind   string
	fields []string
}{
	{"Build", []string{"apiVersion", "kind", "release", "release.id", "release.service", "release.environment", "subject",
		"subject.repository", "subject.commit", "collectedAt", "collector", "collector.name", "collector.actor", "data"}},
	{"Plan", []string{"data.window.start", "data.window.end", "data.documentation.runbook.url", "data.documentation.releaseNotes.url",
		"data.rollbackPlan.previousCommit", "data.rollbackPlan.command", "data.errorBudget.remaining", "data.ci.status",
		"data.changeSize.filesChanged", "data.changeSize.linesAdded", "data.changeSize.linesDeleted"}},
	{"IncidentStatus", []string{"data.source", "data.incidents", "data.incidents.0.id", "data.incidents.0.severity", "data.incidents.0.status"}},
	{"Build", []string{"data.command", "data.status", "data.exitCode", "data.startedAt", "data.finishedAt", "data.durationSeconds", "data.ci.provider"}},
	{"Deploy", []string{"data.command", "data.status", "data.actor", "data.trigger", "data.source", "data.source.branch",
		"data.source.onMain", "data.source.clean", "data.source.commitKnown"}},
	{"Verification", []string{"data.checks", "data.checks.0.name", "data.checks.0.status", "data.startedAt", "data.finishedAt"}},
	{"Monitoring", []string{"data.window", "data.window.start", "data.window.end", "data.result", "data.signals",
		"data.signals.0.name", "data.signals.0.status", "data.signals.0.samples"}},
	{"FlagChange", []string{"data.flag", "data.strategy", "data.enabled", "data.actor"}},
	{"Approval", []string{"data.approver", "data.decision", "data.gate", "data.approvedAt"}},
	{"Override", []string{"data.rule", "data.approver", "data.reason", "data.createdAt", "data.expiresAt"}},
	{"Rollback", []string{"data.strategy", "data.status", "data.fromCommit", "data.startedAt", "data.finishedAt", "data.durationSeconds"}},
	{"Postmortem", []string{"data.violations", "data.summary", "data.author", "data.completedAt"}},
	{"Hold", []string{"data.action", "data.by", "data.at", "data.reason"}},
	{"ErrorBudget", []string{"data.slo", "data.objective", "data.window", "data.errorRatio", "data.remaining", "data.measuredAt"}},
}

// invalidDocuments: every required field missing, wrong types, values out
// of range or pattern, unknown fields in closed objects, bad enums.
func (k *corpus) invalidDocuments() {
	edit := func(name, desc, kind string, e negExpect, f func(m map[string]any)) {
		stepID, file, m := k.kindDoc(kind)
		f(m)
		k.add(name, desc, k.at(stepID), e, map[string][]byte{file: encode(m)})
	}
	for _, r := range required {
		for _, field := range r.fields {
			kind := r.kind
			name := "invalid-required-" + strings.ToLower(kind) + "-" + field
			if slices.Contains(required[0].fields, field) && r.kind == required[0].kind {
				name = "invalid-required-envelope-" + field
			}
			edit(name, kind+" without "+field+", which the schema requires", kind,
				invalidAt("required", pointerOf(parentOf(field))), func(m map[string]any) { remove(m, split(field)) })
		}
	}
	// The outcome of a Deploy that ran, and the emergency of a Plan.
	for _, field := range []string{"data.startedAt", "data.finishedAt", "data.durationSeconds", "data.exitCode"} {
		m := k.doc("allowed/verify", "deploy.json")
		remove(m, split(field))
		k.add("invalid-required-deploy-outcome-"+field, "a succeeded Deploy without "+field+", which a Deploy that ran requires",
			k.at("allowed/verify"), invalidAt("required", "/data"), map[string][]byte{"deploy.json": encode(m)})
	}
	for _, field := range []string{"data.emergency.incident", "data.emergency.justification"} {
		m := k.doc("emergency/deploy", "plan.json")
		remove(m, split(field))
		k.add("invalid-required-plan-"+field, "an emergency Plan without "+field, k.at("emergency/deploy"),
			invalidAt("required", "/data/emergency"), map[string][]byte{"plan.json": encode(m)})
	}

	// Wrong types, ranges and patterns.
	type bad struct {
		name, kind, field, keyword string
		value                      any
		desc                       string
	}
	for _, b := range []bad{
		{"type-exit-code-string", "Build", "data.exitCode", "type", "0", "an exit code written as a string"},
		{"type-status-number", "Build", "data.status", "type", json.Number("1"), "a status written as a number"},
		{"type-on-main-string", "Deploy", "data.source.onMain", "type", "true", "a boolean written as a string"},
		{"type-command-string", "Deploy", "data.command", "type", "pm2 restart localizevideos-app --update-env", "a shell string instead of an argument vector"},
		{"type-checks-object", "Verification", "data.checks", "type", map[string]any{"home": "passed"}, "checks as an object"},
		{"type-samples-fraction", "Monitoring", "data.signals.0.samples", "type", json.Number("1.5"), "a fractional sample count"},
		{"type-data-null", "Approval", "data", "type", nil, "data null"},
		{"type-release-string", "Approval", "release", "type", "lv-2026-11-26.1", "release as a string"},
		{"type-enabled-number", "FlagChange", "data.enabled", "type", json.Number("1"), "enabled as a number"},
		{"type-incidents-object", "IncidentStatus", "data.incidents", "type", map[string]any{}, "incidents as an object"},
		{"minimum-duration-negative", "Build", "data.durationSeconds", "minimum", json.Number("-1"), "a negative duration"},
		{"minimum-samples-negative", "Monitoring", "data.signals.0.samples", "minimum", json.Number("-1"), "a negative sample count"},
		{"maximum-percentage", "FlagChange", "data.percentage", "maximum", json.Number("101"), "a percentage above 100"},
		{"maximum-error-ratio", "ErrorBudget", "data.errorRatio", "maximum", json.Number("1.5"), "an error ratio above 1"},
		{"exclusive-maximum-objective", "ErrorBudget", "data.objective", "", json.Number("1"), "an SLO objective of 100%"},
		{"pattern-release-id-space", "Build", "release.id", "pattern", "lv 2026-11-26.1", "a release id with a space"},
		{"pattern-service-leading-dash", "Build", "release.service", "pattern", "-localizevideos-app", "a service starting with a dash"},
		{"pattern-commit-upper-case", "Build", "subject.commit", "pattern", "3F2C9A0E5B1D4C7A8E6F9B0C1D2E3F4A5B6C7D8E", "an upper-case commit"},
		{"pattern-commit-short", "Build", "subject.commit", "pattern", "3f2c9a0", "an abbreviated commit"},
		{"format-collected-at-no-zone", "Build", "collectedAt", "format", "2026-11-26T09:50:00", "a timestamp without a zone"},
		{"format-collected-at-month-13", "Build", "collectedAt", "format", "2026-13-26T09:50:00Z", "a timestamp in month 13"},
		{"pattern-collected-at-lower-t", "Build", "collectedAt", "pattern", "2026-11-26t09:50:00z", "a timestamp with lower-case t and z"},
		{"pattern-approver-trailing-space", "Approval", "data.approver", "pattern", "bob ", "an approver with a trailing space, which would pass a four-eyes check as another person"},
		{"pattern-actor-leading-space", "Deploy", "data.actor", "pattern", " dave", "a deployer with a leading space"},
		{"pattern-digest", "Build", "data.output", "pattern", map[string]any{"stdoutSha256": "sha256:xyz"}, "an output digest that is not sha256 hex"},
		{"min-length-justification", "Plan", "data.emergency", "minLength", map[string]any{"incident": "INC-42", "justification": "hotfix"}, "an emergency justified in fewer than 10 characters"},
		{"min-length-override-reason", "Override", "data.reason", "minLength", "because", "an override reason of fewer than 10 characters"},
		{"min-length-flag", "FlagChange", "data.flag", "minLength", "", "an empty flag name"},
		{"min-items-argv", "Build", "data.command", "minItems", []any{}, "an empty argument vector"},
		{"min-items-checks", "Verification", "data.checks", "minItems", []any{}, "a Verification without checks"},
		{"min-items-signals", "Monitoring", "data.signals", "minItems", []any{}, "a Monitoring without signals"},
		{"min-items-postmortem-violations", "Postmortem", "data.violations", "minItems", []any{}, "a Postmortem that closes nothing"},
		{"const-api-version", "Build", "apiVersion", "const", "shipgate.dev/v2", "another API version"},
		{"false-outcome-on-request", "Deploy", "data.exitCode", "false", json.Number("0"), "an exit code on a deploy that has not run"},
	} {
		pointer := pointerOf(b.field)
		switch b.field {
		case "data.output":
			pointer = "/data/output/stdoutSha256"
		case "data.emergency":
			pointer = "/data/emergency/justification"
		}
		e := invalidAt(b.keyword, pointer)
		if b.keyword == "" {
			e.Keyword = ""
		}
		edit("invalid-"+b.name, b.kind+" with "+b.desc, b.kind, e, func(m map[string]any) { set(m, split(b.field), b.value) })
	}

	// Unknown fields: every object of the evidence is closed but extensions.
	for _, c := range []struct{ kind, object string }{
		{"Build", ""}, {"Build", "release"}, {"Build", "subject"}, {"Build", "collector"}, {"Build", "data"},
		{"Build", "data.ci"}, {"Build", "data.artifact"}, {"Plan", "data"}, {"Plan", "data.window"},
		{"Plan", "data.documentation.runbook"}, {"Plan", "data.rollbackPlan"}, {"Plan", "data.errorBudget"},
		{"IncidentStatus", "data"}, {"IncidentStatus", "data.incidents.0"}, {"Deploy", "data"}, {"Deploy", "data.source"},
		{"Verification", "data"}, {"Verification", "data.checks.0"}, {"Monitoring", "data"}, {"Monitoring", "data.window"},
		{"Monitoring", "data.signals.0"}, {"FlagChange", "data"}, {"Approval", "data"}, {"Override", "data"},
		{"Rollback", "data"}, {"Postmortem", "data"}, {"Hold", "data"}, {"ErrorBudget", "data"},
	} {
		name := "invalid-unknown-field-" + strings.ToLower(c.kind) + "-" + c.object
		if c.object == "" {
			name = "invalid-unknown-field-" + strings.ToLower(c.kind)
		}
		where := c.object
		if where == "" {
			where = "the envelope"
		}
		edit(name, c.kind+" with a field its schema does not have in "+where, c.kind, invalidAt("additionalProperties", pointerOf(c.object)),
			func(m map[string]any) {
				obj, _ := get(m, split(c.object))
				if c.object == "" {
					obj = m
				}
				obj.(map[string]any)["approvedBy"] = "alice"
			})
	}

	// Values outside an enum.
	for _, c := range []struct{ kind, field, value string }{
		{"Build", "kind", "Deployment"}, {"Build", "data.status", "ok"}, {"Deploy", "data.status", "done"},
		{"Deploy", "data.trigger", "cron"}, {"IncidentStatus", "data.incidents.1.severity", "SEV-0"},
		{"IncidentStatus", "data.incidents.1.status", "closed"}, {"Verification", "data.checks.0.status", "ok"},
		{"Monitoring", "data.result", "ok"}, {"Monitoring", "data.signals.0.status", "degraded"},
		{"FlagChange", "data.strategy", "percentage"}, {"Approval", "data.decision", "approve"},
		{"Approval", "data.gate", "release"}, {"Override", "data.gate", "release"}, {"Build", "data.ci.provider", "jenkins"},
		{"Plan", "data.ci.status", "green"}, {"Rollback", "data.strategy", "slow"}, {"Hold", "data.action", "pause"},
	} {
		edit("invalid-enum-"+strings.ToLower(c.kind)+"-"+c.field, c.kind+" with "+c.field+" "+c.value+", not one of its values", c.kind,
			invalidAt("enum", pointerOf(c.field)), func(m map[string]any) { set(m, split(c.field), c.value) })
	}
}

// undecodable: documents the strict decoder refuses before any schema.
func (k *corpus) undecodable() {
	build := encode(k.doc("allowed/deploy", "build.json"))
	at := k.at("allowed/deploy")
	raw := func(name, desc, keyword, pointer string, b []byte) {
		k.add("undecodable-"+name, desc, at, invalidAt(keyword, pointer), map[string][]byte{"build.json": b})
	}
	big := k.doc("allowed/deploy", "build.json")
	set(big, []string{"data", "output"}, map[string]any{"tail": []any{strings.Repeat("x", 1<<20)}})
	raw("oversized", "a Build larger than the 1 MiB limit", "max-bytes", "", encode(big))
	deep := k.doc("allowed/deploy", "build.json")
	var nested any = "bottom"
	for range 70 {
		nested = []any{nested}
	}
	deep["extensions"] = map[string]any{"deep": nested}
	raw("deep-nesting", "a Build nesting arrays 70 levels deep, beyond the limit of 64", "max-depth", "*", encode(deep))
	raw("duplicate-key-kind", "a Build whose kind is given twice, as Build and as Approval", "duplicate-key", "/kind",
		bytes.Replace(build, []byte(`"kind": "Build",`), []byte(`"kind": "Build", "kind": "Approval",`), 1))
	raw("duplicate-key-status", "a Build whose data.status is given twice, passed and failed", "duplicate-key", "/data/status",
		encodeDuplicateKey(k.doc("allowed/deploy", "build.json"), []string{"data", "status"}, "failed"))
	raw("duplicate-key-commit", "a Build naming two commits", "duplicate-key", "/subject/commit",
		encodeDuplicateKey(k.doc("allowed/deploy", "build.json"), []string{"subject", "commit"}, otherCommit))
	raw("trailing-object", "a Build followed by a second document", "trailing-data", "", append(slices.Clone(build), []byte("{}\n")...))
	raw("trailing-garbage", "a Build followed by garbage", "", "*", append(slices.Clone(build), []byte("garbage")...))
	raw("non-utf8", "a Build with a byte that is not UTF-8 in a string", "utf8", "/collector/actor",
		bytes.Replace(build, []byte(`"ci-bot"`), []byte("\"ci-bot\xff\""), 1))
	raw("lone-surrogate", "a Build with a lone UTF-16 surrogate escape", "", "*",
		bytes.Replace(build, []byte(`"ci-bot"`), []byte(`"ci-bot\ud800"`), 1))
	raw("number-overflow", "a Build whose exit code overflows a double", "number", "/data/exitCode",
		bytes.Replace(build, []byte(`"exitCode": 0`), []byte(`"exitCode": 1e400`), 1))
	raw("number-precision", "a Build whose exit code a double cannot hold exactly", "number", "/data/exitCode",
		bytes.Replace(build, []byte(`"exitCode": 0`), []byte(`"exitCode": 9007199254740993`), 1))
	raw("syntax-missing-comma", "a Build with a comma missing", "syntax", "",
		bytes.Replace(build, []byte(`"kind": "Build",`), []byte(`"kind": "Build"`), 1))
	raw("empty-file", "an empty file", "syntax", "", []byte{})
	raw("byte-order-mark", "a Build preceded by a UTF-8 byte order mark", "", "*", append([]byte("\xef\xbb\xbf"), build...))
	raw("top-level-array", "an array of documents instead of one", "type", "", []byte("["+string(bytes.TrimSpace(build))+"]\n"))
	raw("top-level-string", "a string", "type", "", []byte(`"Build"`+"\n"))
	raw("top-level-null", "null", "type", "", []byte("null\n"))
	raw("no-kind", "an object without a kind", "required", "", []byte(`{"apiVersion": "shipgate.dev/v1"}`+"\n"))
	raw("unknown-kind", "a kind shipgate does not know", "enum", "/kind",
		bytes.Replace(build, []byte(`"kind": "Build",`), []byte(`"kind": "Attestation",`), 1))
}

// envelopes: DSSE envelopes that do not verify, and a signed document that
// is not valid.
func (k *corpus) envelopes() {
	at := k.at("allowed/deploy")
	build := encode(k.doc("allowed/deploy", "build.json"))
	seal := func(key ed25519.PrivateKey, doc []byte) map[string]any {
		b, err := evidence.NewSigner(key).Seal(context.Background(), doc)
		if err != nil {
			k.t.Fatal(err)
		}
		m, err := parseTree(b)
		if err != nil {
			k.t.Fatal(err)
		}
		return m
	}
	env := func(name, desc, keyword, pointer string, m map[string]any) {
		k.add("envelope-"+name, desc, at, invalidAt(keyword, pointer), map[string][]byte{"build.json": encode(m)})
	}
	stranger := ed25519.NewKeyFromSeed([]byte("a key the corpus gate distrusts."))
	env("unknown-key", "a Build signed by a key that is not trusted", "unknown-key", "/signatures/0/keyid", seal(stranger, build))
	forged := seal(corpusKey, build)
	set(forged, []string{"signatures", "0", "sig"}, base64.StdEncoding.EncodeToString(make([]byte, 64)))
	env("forged-signature", "a Build whose signature by the trusted key is forged", "signature", "/signatures/0/sig", forged)
	changed := seal(corpusKey, build)
	failed := bytes.Replace(build, []byte(`"status": "passed"`), []byte(`"status": "failed"`), 1)
	set(changed, []string{"payload"}, base64.StdEncoding.EncodeToString(failed))
	env("payload-changed", "a signed Build whose payload was changed after signing", "signature", "/signatures/0/sig", changed)
	otherType := seal(corpusKey, build)
	set(otherType, []string{"payloadType"}, "application/json")
	env("payload-type", "a signed Build with another payload type", "payload-type", "/payloadType", otherType)
	notB64 := seal(corpusKey, build)
	set(notB64, []string{"payload"}, "not base64!")
	env("payload-not-base64", "an envelope whose payload is not base64", "envelope", "/payload", notB64)
	extra := seal(corpusKey, build)
	extra["kindHint"] = "Build"
	env("extra-member", "an envelope with a member DSSE does not have", "envelope", "", extra)
	none := seal(corpusKey, build)
	none["signatures"] = []any{}
	env("no-signatures", "an envelope without signatures", "envelope", "/signatures", none)
	inner := encode(seal(corpusKey, build))
	env("nested", "an envelope inside an envelope", "envelope", "", seal(corpusKey, inner))
	invalid := k.doc("allowed/deploy", "build.json")
	remove(invalid, []string{"data", "status"})
	env("signed-invalid-document", "a validly signed Build without data.status", "required", "/data", seal(corpusKey, encode(invalid)))
}

// foreign: evidence of another release, service, environment, repository
// or commit does not count, so the rule that needs it denies.
func (k *corpus) foreign() {
	for _, t := range []struct{ step, doc string }{
		{"allowed/deploy", "plan.json"}, {"allowed/deploy", "incidents.json"}, {"allowed/deploy", "build.json"},
		{"allowed/deploy", "deploy-requested.json"}, {"allowed/deploy", "approval.json"}, {"allowed/verify", "deploy.json"},
		{"allowed/verify", "verification.json"}, {"allowed/complete", "monitoring.json"}, {"flag-route/flag", "flagchange.json"},
	} {
		for _, f := range []struct{ name, field, value string }{
			{"release", "release.id", otherRelease}, {"service", "release.service", "localizevideos-worker"},
			{"environment", "release.environment", "staging"}, {"repository", "subject.repository", "localizevideos/app-fork"},
			{"commit", "subject.commit", otherCommit},
		} {
			m := k.doc(t.step, t.doc)
			set(m, split(f.field), f.value)
			kind := m["kind"].(string)
			k.add("foreign-"+f.name+"-"+strings.TrimSuffix(t.doc, ".json")+"-"+k.steps[t.step].gate,
				"the "+kind+" names another "+f.name+" ("+f.value+"): it does not count", k.at(t.step),
				denyWith(absent[t.step+"/"+t.doc]...), map[string][]byte{t.doc: encode(m)})
		}
	}
	// The whole set belongs to another release, or two Plans disagree.
	rep := map[string][]byte{}
	for _, d := range k.steps["allowed/deploy"].docs {
		m := cloneDoc(d.tree)
		set(m, []string{"release", "id"}, otherRelease)
		rep[d.name] = encode(m)
	}
	k.add("foreign-release-every-document", "every document belongs to lv-2026-11-25.1, not to the release asked for",
		k.at("allowed/deploy"), denyWith(engine.ReasonEvidenceMissing), rep)
	plan := k.doc("allowed/deploy", "plan.json")
	set(plan, []string{"subject", "commit"}, otherCommit)
	k.add("conflict-two-plans", "a second Plan declares the release with another commit", k.at("allowed/deploy"),
		denyWith(engine.ReasonEvidenceConflict), map[string][]byte{"plan-2.json": encode(plan)})
}

// staleAndFuture: evidence older than its kind's freshness limit, or
// collected after the evaluation time (beyond the 5 minute clock skew).
func (k *corpus) staleAndFuture() {
	limits := map[string]time.Duration{"IncidentStatus": 10 * time.Minute, "Approval": 24 * time.Hour, "Build": 168 * time.Hour,
		"Deploy": 24 * time.Hour, "Verification": 2 * time.Hour, "Monitoring": 2 * time.Hour, "Override": 168 * time.Hour}
	for _, t := range []struct{ step, doc string }{
		{"allowed/deploy", "incidents.json"}, {"allowed/deploy", "build.json"}, {"allowed/deploy", "deploy-requested.json"},
		{"allowed/deploy", "approval.json"}, {"allowed/verify", "deploy.json"}, {"allowed/verify", "verification.json"},
		{"allowed/complete", "monitoring.json"}, {"override-error-budget/deploy", "override.json"},
		{"allowed/deploy", "plan.json"}, {"flag-route/flag", "flagchange.json"},
	} {
		st := k.steps[t.step]
		m := k.doc(t.step, t.doc)
		kind := m["kind"].(string)
		base := strings.TrimSuffix(t.doc, ".json") + "-" + st.gate
		if limit, ok := limits[kind]; ok {
			stale := k.doc(t.step, t.doc)
			stale["collectedAt"] = st.now.Add(-limit - time.Minute).Format(time.RFC3339)
			k.add("stale-"+base, "the "+kind+" was collected more than its "+limit.String()+" freshness limit ago", k.at(t.step),
				denyWith(absent[t.step+"/"+t.doc]...), map[string][]byte{t.doc: encode(stale)})
		}
		m["collectedAt"] = st.now.Add(10 * time.Minute).Format(time.RFC3339)
		k.add("future-"+base, "the "+kind+" was collected ten minutes after the evaluation time", k.at(t.step),
			denyWith(absent[t.step+"/"+t.doc]...), map[string][]byte{t.doc: encode(m)})
	}
}

// shifted is every document of a step with every timestamp moved by d.
func (k *corpus) shifted(stepID string, d time.Duration) map[string][]byte {
	out := map[string][]byte{}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for key, e := range x {
				x[key] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		case string:
			if ts, err := time.Parse(time.RFC3339, x); err == nil {
				return ts.Add(d).UTC().Format(time.RFC3339Nano)
			}
		}
		return v
	}
	for _, doc := range k.steps[stepID].docs {
		out[doc.name] = encode(walk(cloneDoc(doc.tree)))
	}
	return out
}
