package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/server"
	"github.com/localizevideos/shipgate/server/web"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// The fixture ledger: LocalizeVideos releases taken through the real
// gate, engine and validator into a real SQLite store, from the example
// cases (examples/localizevideos/evidence/*/case.yaml), each under its own
// release id and, for the later ones, with every time moved. Approvals go
// through the real server.Server.Approve, tokens through auth.Tokens on the
// same store.

const examples = "../../examples/localizevideos/evidence"

// Release ids of the fixture and what happened to them.
const (
	relAllowed      = "lv-2026-11-26.1" // allowed at deploy, verify and complete
	relNoApproval   = "lv-2026-11-26.2" // deploy denied: approval.required; waits
	relIncident     = "lv-2026-11-26.3" // deploy denied: forbidden.deploy-during-incident
	relDirectPush   = "lv-2026-11-26.4" // deploy denied: forbidden.direct-push; postmortem written
	relEmergency    = "lv-2026-11-27.1" // allowed on the emergency path; owes a postmortem
	relSelfApproved = "lv-2026-11-27.2" // bob deployed and approved it: denied; waits
	relLater        = "lv-2026-11-30.1" // like relNoApproval, four days later; waits
	relPlanned      = "lv-2026-11-30.2" // Plan and Build recorded, no gate asked; waits
)

// fixtureNow is the dashboard's time: the violations of 26 November
// (due 1 December 10:05) are overdue, the later ones are not.
var fixtureNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// Tokens of the fixture, by name.
var fixtureRoles = map[string]string{
	"alice":  auth.RoleApprover,
	"bob":    auth.RoleApprover,
	"ci-bot": auth.RolePipeline,
	"carol":  auth.RoleAuditor,
	"root":   auth.RoleAdmin,
}

// fixtureStore is what the fixture writes and the tests read: the
// server's store, SQLite or PostgreSQL.
type fixtureStore interface {
	server.Store
	Len(ctx context.Context) (int64, error)
	Close() error
}

type fixture struct {
	t      testing.TB
	ctx    context.Context
	db     fixtureStore
	v      *evidence.Validator
	g      *gate.Gate
	srv    *server.Server
	clock  time.Time
	n      int
	tokens map[string]string // name → secret
	// opened lists the violations each release's decisions opened.
	opened map[string][]string
}

// newFixture records the fixture in a SQLite store in t.TempDir().
func newFixture(t testing.TB) *fixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newFixtureOn(t, db)
}

func newFixtureOn(t testing.TB, db fixtureStore) *fixture {
	t.Helper()
	ctx := context.Background()
	// The example evidence is signed with the EXAMPLE keys; the server
	// signs what it records with a key of its own.
	signer := evidence.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize)))
	serverID, _ := signer.KeyID()
	eng, err := engine.Load(ctx, engine.Options{Policies: policies.FS, People: keys.People(), ServerKeys: map[string]string{serverID: "fixture server"}})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, db: db, v: evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring()).Trusting(signer.Public()),
		tokens: map[string]string{}, opened: map[string][]string{}}
	clock := func() time.Time { return f.clock }
	f.g = &gate.Gate{Engine: eng, Validator: f.v, Store: db, Clock: clock,
		NewID: func(prefix string, _ time.Time) string { f.n++; return fmt.Sprintf("%s_%04d", prefix, f.n) }}
	f.srv, err = server.New(server.Config{Store: db, Engine: eng, Validator: f.v, Signer: signer, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	f.clock = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	for name, role := range fixtureRoles {
		secret, _, err := f.srv.Tokens().Create(ctx, name, role, "test")
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[name] = secret
	}
	f.build()
	f.clock = fixtureNow
	return f
}

func (f *fixture) build() {
	day := 24 * time.Hour
	f.runCase("allowed", relAllowed, 0)
	f.runCase("no-approval", relNoApproval, 0)
	f.runCase("incident-sev1", relIncident, 0)
	f.runCase("direct-push", relDirectPush, 0)
	f.postmortem(relDirectPush, time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	f.runCase("emergency", relEmergency, 0)
	f.runCase("emergency-self-approved", relSelfApproved, 0)
	f.runCase("no-approval", relLater, 4*day)
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	f.add(at, f.doc("allowed/plan.json", "lv-2026-11-26.1", relPlanned, 4*day, nil),
		f.doc("allowed/build.json", "lv-2026-11-26.1", relPlanned, 4*day, nil))
}

// caseFile is the part of case.yaml the fixture replays.
type caseFile struct {
	Release string `yaml:"release"`
	Steps   []struct {
		Gate     string   `yaml:"gate"`
		Now      string   `yaml:"now"`
		Evidence []string `yaml:"evidence"`
		Expect   struct {
			Allow bool `yaml:"allow"`
		} `yaml:"expect"`
	} `yaml:"steps"`
}

// runCase replays an example case as release id, every time moved by
// shift, asking each gate with the case's documents.
func (f *fixture) runCase(name, id string, shift time.Duration) {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(examples, name, "case.yaml"))
	if err != nil {
		f.t.Fatal(err)
	}
	var c caseFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		f.t.Fatalf("%s/case.yaml: %v", name, err)
	}
	for _, step := range c.Steps {
		now, err := time.Parse(time.RFC3339, step.Now)
		if err != nil {
			f.t.Fatal(err)
		}
		now = now.Add(shift)
		var docs []*evidence.Document
		for _, p := range step.Evidence {
			docs = append(docs, f.doc(filepath.Join(name, p), c.Release, id, shift, nil))
		}
		f.clock = now.Add(time.Second)
		d, err := f.g.Decide(f.ctx, gate.Request{Gate: step.Gate, Release: engine.Release{ID: id}, Evidence: docs, Actor: "dave", Now: now})
		if err != nil {
			f.t.Fatalf("%s: %s gate of %s: %v", name, step.Gate, id, err)
		}
		if d.Allow != step.Expect.Allow {
			f.t.Fatalf("%s: %s gate of %s allowed %t; the case expects %t (%v)", name, step.Gate, id, d.Allow, step.Expect.Allow, d.Violations)
		}
		f.opened[id] = append(f.opened[id], d.Opened...)
	}
}

// doc reads an example document (a path under examples), renames release
// from to id, moves every RFC 3339 time by shift, applies edit and
// decodes it.
func (f *fixture) doc(path, from, id string, shift time.Duration, edit func(map[string]any)) *evidence.Document {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(examples, path))
	if err != nil {
		f.t.Fatal(err)
	}
	signed := !bytes.Equal(keys.Open(b), b)
	dec := json.NewDecoder(bytes.NewReader(keys.Open(b)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		f.t.Fatal(err)
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		case string:
			if t, err := time.Parse(time.RFC3339, x); err == nil {
				return t.Add(shift).UTC().Format(time.RFC3339Nano)
			}
			return strings.ReplaceAll(x, from, id)
		}
		return v
	}
	walk(m)
	if edit != nil {
		edit(m)
	}
	out, err := json.Marshal(m)
	if err != nil {
		f.t.Fatal(err)
	}
	if signed {
		// Edited, so signed again, as the example was.
		if out, err = keys.Seal(out); err != nil {
			f.t.Fatal(err)
		}
	}
	d, err := f.v.Decode(id+"/"+path, out)
	if err != nil {
		f.t.Fatalf("%s as %s: %v", path, id, err)
	}
	return d
}

// add records documents outside any gate, as `evidence add` does.
func (f *fixture) add(at time.Time, docs ...*evidence.Document) {
	f.t.Helper()
	var evs []store.Evidence
	for _, d := range docs {
		evs = append(evs, gate.StoreEvidence(d))
	}
	if _, err := f.db.AddEvidence(f.ctx, at, evs); err != nil {
		f.t.Fatal(err)
	}
}

// postmortem closes what the release's decisions opened.
func (f *fixture) postmortem(id string, at time.Time) {
	f.t.Helper()
	ids := f.opened[id]
	if len(ids) == 0 {
		f.t.Fatalf("%s opened no violation to close", id)
	}
	doc := f.doc("allowed/approval.json", "lv-2026-11-26.1", id, at.Sub(time.Date(2026, 11, 26, 10, 2, 0, 0, time.UTC)), func(m map[string]any) {
		m["kind"] = "Postmortem"
		m["collector"] = map[string]any{"name": "manual", "actor": "carol"}
		vs := make([]any, len(ids))
		for i, v := range ids {
			vs[i] = v
		}
		m["data"] = map[string]any{"violations": vs, "author": "carol", "summary": "a deploy started by hand on the server; the pipeline is now the only way in",
			"completedAt": at.Add(-time.Hour).Format(time.RFC3339), "url": "https://wiki.localizevideos.com/postmortems/" + id}
	})
	if _, err := f.db.ClosePostmortem(f.ctx, at, gate.StoreEvidence(doc), ids); err != nil {
		f.t.Fatalf("close %v: %v", ids, err)
	}
}

// sessionKey is the fixture's cookie key.
var sessionKey = bytes.Repeat([]byte("k"), 32)

// config is the dashboard's configuration over the fixture: tokens checked
// by auth.Tokens, approvals recorded by server.Server.Approve.
func (f *fixture) config() web.Config {
	return web.Config{
		Store: f.db,
		Authenticate: func(ctx context.Context, token string) (web.Principal, error) {
			p, err := f.srv.Tokens().Authenticate(ctx, token)
			return web.Principal{Name: p.Name, Role: p.Role}, err
		},
		Approve: func(ctx context.Context, p web.Principal, releaseID, note string) error {
			return f.srv.Approve(ctx, auth.Principal{Name: p.Name, Role: p.Role}, releaseID, note)
		},
		SessionKey: sessionKey,
		Now:        func() time.Time { return f.clock },
		Validator:  f.v,
		Logger:     slog.New(slog.NewTextHandler(testWriter{f.t}, nil)),
	}
}

func (f *fixture) handler(cfg web.Config) http.Handler {
	f.t.Helper()
	h, err := web.New(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

// ledgerLen is the number of ledger entries.
func (f *fixture) ledgerLen() int64 {
	f.t.Helper()
	n, err := f.db.Len(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}
