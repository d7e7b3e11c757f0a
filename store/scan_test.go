package store

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/ledger"
)

// documentOfJSON is what documentOf reads as: encoding/json's reading.
func documentOfJSON(body []byte) (doc, env json.RawMessage, err error) {
	var e struct {
		Payload struct {
			Document json.RawMessage `json:"document"`
			Envelope json.RawMessage `json:"envelope"`
		} `json:"payload"`
	}
	err = json.Unmarshal(body, &e)
	return e.Payload.Document, e.Payload.Envelope, err
}

// checkDocumentOf holds documentOf to encoding/json's reading of body.
func checkDocumentOf(t *testing.T, body []byte) {
	t.Helper()
	doc, env, err := documentOf(body)
	wdoc, wenv, werr := documentOfJSON(body)
	if (err != nil) != (werr != nil) || !bytes.Equal(doc, wdoc) || !bytes.Equal(env, wenv) ||
		(doc == nil) != (wdoc == nil) || (env == nil) != (wenv == nil) {
		t.Fatalf("documentOf(%q) = %q, %q, %v; encoding/json reads %q, %q, %v", body, doc, env, err, wdoc, wenv, werr)
	}
}

// evidenceBody is the body of an evidence entry as a store keeps it.
func evidenceBody(t testing.TB, payload string) []byte {
	t.Helper()
	_, body, err := ledger.Append(nil, ledger.Entry{Type: ledger.TypeEvidence, Key: "sha256:ab",
		Time: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), Payload: json.RawMessage(payload)})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

var documentOfCases = []string{
	`{"document":{"kind":"Build","n":1},"kind":"Build","source":"b.json"}`,
	`{"document":{"kind":"Build"},"envelope":{"payload":"e30=","signatures":[]},"kind":"Build","source":"b.json"}`,
	`{"Document":{"a":1},"document":{"b":2}}`,
	`{"DOCUMENT":{"a":1}}`,
	`{"document":null}`,
	`{"document":"x","envelope":[1]}`,
	`{"document":{},"envelope":{}}`,
	`{"kind":"Build"}`,
	`{}`,
	`[]`,
	`null`,
	`"payload"`,
}

func TestDocumentOf(t *testing.T) {
	for _, p := range documentOfCases {
		checkDocumentOf(t, evidenceBody(t, p))
	}
	for _, body := range []string{
		`{"payload":{"document":{"a":1}}}`,
		`{"Payload":{"document":{"a":1}},"payload":{"envelope":{"b":2}}}`,
		`{"PAYLOAD":{"document":{"a":1}}}`,
		`{"p\u0061yload":{"document":{"a":1}}}`,
		`{"payload":{"d\u006fcument":{"a":1}}}`,
		`{"payload":{"document":{"a":1}},"payload":{"envelope":{"b":2}}}`,
		`{"payload":null}`,
		`{"payload":1}`,
		`{"payload":{"document":{"a":1}}} `,
		`{ "payload": {"document": {"a": 1}} }`,
		`{"payload":{"document":{"a":1}}`,
		`[{"payload":{}}]`,
		`null`,
		``,
	} {
		checkDocumentOf(t, []byte(body))
	}
	// The bodies stores keep are read directly.
	body := evidenceBody(t, documentOfCases[1])
	if _, ok := objectMember(body, "payload"); !ok {
		t.Errorf("objectMember(%s, payload) declined", body)
	}
}

// FuzzDocumentOf compares documentOf with encoding/json over arbitrary
// bodies and over the bodies of arbitrary payloads.
func FuzzDocumentOf(f *testing.F) {
	for _, p := range documentOfCases {
		f.Add([]byte(p))
		f.Add(evidenceBody(f, p))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDocumentOf(t, b)
		if _, body, err := ledger.Append(nil, ledger.Entry{Type: ledger.TypeEvidence, Key: "k",
			Time: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), Payload: b}); err == nil {
			checkDocumentOf(t, body)
		}
	})
}

// checkDecisionBody holds decisionBodyOf to encoding/json's reading of b.
func checkDecisionBody(t *testing.T, b []byte) {
	t.Helper()
	got, ok := decisionBodyOf(b)
	var want decisionBody
	err := json.Unmarshal(b, &want)
	if !ok {
		if got != (decisionBody{}) {
			t.Fatalf("decisionBodyOf(%q) declined with %+v; want it empty", b, got)
		}
		return
	}
	if err != nil || got != want {
		t.Fatalf("decisionBodyOf(%q) = %+v; encoding/json reads %+v, %v", b, got, want, err)
	}
}

var decisionBodyCases = []string{
	`{"allow":true,"dryRun":false,"evaluatedAt":"2026-11-26T10:05:00Z","gate":"deploy","id":"dec_1","reason":"policy.allow","release":{"environment":"production","id":"lv-1","service":"app"},"rules":["a"],"violations":[]}`,
	`{"allow":false,"id":"dec_2","release":{"id":"lv-1"}}`,
	`{"allow":null,"gate":null,"release":null}`,
	`{"ID":"x","id":"y"}`,
	`{"dryrun":true}`,
	`{"dryRun":true,"dryrun":false}`,
	`{"id":"a\nb"}`,
	`{"id":1}`,
	`{"allow":"yes"}`,
	`{"release":"lv-1"}`,
	`{"release":{"ID":"x"}}`,
	`{"release":{"id":["x"]}}`,
	`{}`,
	`[]`,
	`{"id": "x"}`,
	`{"id":"x","id":"y"}`,
}

func TestDecisionBodyOf(t *testing.T) {
	for _, b := range decisionBodyCases {
		checkDecisionBody(t, []byte(b))
	}
	// The bodies the gate records are read directly.
	if _, ok := decisionBodyOf([]byte(decisionBodyCases[0])); !ok {
		t.Errorf("decisionBodyOf(%s) declined", decisionBodyCases[0])
	}
}

// FuzzDecisionBodyOf compares decisionBodyOf with encoding/json.
func FuzzDecisionBodyOf(f *testing.F) {
	for _, b := range decisionBodyCases {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecisionBody(t, b)
	})
}
