package release_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/client"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/rollback"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/server"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/sqlite"
)

const releaseID = "lv-2026-11-26.1"

// at is when the example release's deploy gate is asked.
var at = time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)

var allowed = filepath.Join("..", "examples", "localizevideos", "evidence", "allowed")

// fixture is the example policy set with a server's key, and a validator
// trusting the example keys.
type fixture struct {
	eng    *engine.Engine
	v      *evidence.Validator
	signer *evidence.Signer
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	signer := evidence.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize)))
	id, _ := signer.KeyID()
	over := keys.Overlay()
	over["signing"].(map[string]any)["servers"] = map[string]any{id: "test server"}
	raw, err := fs.ReadFile(policies.FS, "shipgate/config/data.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base, err := policyset.ReadData("data.yaml", raw)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Load(context.Background(), engine.Options{Policies: policies.FS, Data: policyset.MergeData(base, over)})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return fixture{eng: eng, v: evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring()), signer: signer}
}

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// backends are the two sides of one scenario: write records and decides
// (a pipeline), read reads and closes (an approver). Locally both are one
// ledger.
type backends struct {
	name        string
	write, read release.Backend
}

func localBackends(t *testing.T, f fixture) backends {
	db := openDB(t)
	l := release.NewLocal(&gate.Gate{Engine: f.eng, Validator: f.v, Clock: func() time.Time { return at }}, db)
	t.Cleanup(func() { l.Close() })
	return backends{"local", l, l}
}

func remoteBackends(t *testing.T, f fixture) backends {
	ctx := context.Background()
	db := openDB(t)
	t.Cleanup(func() { db.Close() })
	srv, err := server.New(server.Config{Store: db, Engine: f.eng, Validator: f.v, Signer: f.signer, Clock: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	b := backends{name: "remote"}
	for role, dst := range map[string]*release.Backend{auth.RolePipeline: &b.write, auth.RoleApprover: &b.read} {
		secret, _, err := auth.New(db).Create(ctx, "ci-"+role, role, "test")
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.New(hs.URL, secret)
		if err != nil {
			t.Fatal(err)
		}
		*dst = &release.Remote{Client: c, V: f.v}
	}
	return b
}

func load(t *testing.T, v *evidence.Validator, names ...string) []*evidence.Document {
	t.Helper()
	var docs []*evidence.Document
	for _, n := range names {
		d, err := v.LoadFile(filepath.Join(allowed, n))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	return docs
}

// Both backends record, decide, read and close alike: the CLI's steps
// see no difference between a local ledger and a server.
func TestBackendsAgree(t *testing.T) {
	f := newFixture(t)
	for _, b := range []backends{localBackends(t, f), remoteBackends(t, f)} {
		t.Run(b.name, func(t *testing.T) { scenario(t, f, b) })
	}
}

func scenario(t *testing.T, f fixture, b backends) {
	ctx := context.Background()
	docs := load(t, f.v, "plan.json", "incidents.json", "build.json", "deploy-requested.json", "deploy.json")
	entry, err := b.write.AddEvidence(ctx, time.Time{}, docs)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if entry[d.Digest] <= 0 {
			t.Errorf("AddEvidence: %s %s has no ledger entry: %v", d.Kind, d.Digest, entry)
		}
	}
	// Evidence is content-addressed: recorded again, it is not new.
	if again, err := b.write.AddEvidence(ctx, time.Time{}, docs[:1]); err != nil || len(again) != 0 {
		t.Errorf("AddEvidence again = %v, %v; want nothing new", again, err)
	}

	rel, err := release.OfPlans(ctx, release.PlansOf(b.write), f.v, engine.Release{ID: releaseID})
	if err != nil {
		t.Fatal(err)
	}
	if rel.Service != "localizevideos-app" || rel.Environment != "production" || rel.Repository != "localizevideos/app" || !strings.HasPrefix(rel.Commit, "3f2c9a0e") {
		t.Errorf("OfPlans = %+v", rel)
	}
	if _, err := release.OfPlans(ctx, release.PlansOf(b.write), f.v, engine.Release{ID: "lv-none"}); err == nil || !strings.Contains(err.Error(), "no Plan in the ledger declares it") {
		t.Errorf("OfPlans of a release without a Plan = %v", err)
	}

	// No approval: the deploy gate denies and opens a violation.
	d, err := b.write.Decide(ctx, gate.Request{Gate: "deploy", Release: rel, Actor: "ci-pipeline", Now: at})
	if err != nil {
		t.Fatal(err)
	}
	if d.Allow || !slices.ContainsFunc(d.Violations, func(v engine.Finding) bool { return v.Rule == "approval.required" }) {
		t.Fatalf("Decide = allow %t, violations %+v; want a denial for approval.required", d.Allow, d.Violations)
	}
	open, err := b.read.Violations(ctx, store.Filter{Status: store.StatusOpen, ReleaseID: releaseID})
	if err != nil || len(open) != 1 || open[0].DecisionID != d.ID {
		t.Fatalf("Violations(open) = %+v, %v; want the one decision %s opened", open, err, d.ID)
	}
	id := open[0].ID
	if _, err := b.read.Violation(ctx, "vio_none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Violation(unknown) = %v; want store.ErrNotFound", err)
	}
	st, err := b.read.Status(ctx, releaseID)
	if err != nil || len(st.Steps) == 0 || len(st.Open) != 1 || st.Open[0].ID != id {
		t.Errorf("Status = %+v, %v; want the steps and the open violation %s", st, err, id)
	}

	// Rollback plans: no verified release to go back to, and the approved
	// deploy command to restart with.
	p := rollback.Plan{Strategy: rollback.Fast}
	b.read.RollbackPlan(ctx, rel, &p)
	if !errors.Is(p.TargetErr, rollback.ErrNoTarget) {
		t.Errorf("RollbackPlan(fast).TargetErr = %v; want rollback.ErrNoTarget", p.TargetErr)
	}
	e := rollback.Plan{Strategy: rollback.Emergency}
	b.read.RollbackPlan(ctx, rel, &e)
	if e.TargetErr != nil || strings.Join(e.Restart, " ") != "pm2 restart localizevideos-app --update-env" {
		t.Errorf("RollbackPlan(emergency) = restart %q, %v", e.Restart, e.TargetErr)
	}
	wantDuration := map[string]string{"local": " (the deploy took 8.400s)", "remote": ""}[b.name]
	if got := b.read.DeployDuration(ctx, rel); got != wantDuration {
		t.Errorf("DeployDuration = %q; want %q", got, wantDuration)
	}
	if h, err := b.read.CurrentHold(ctx, rel); h != nil || err != nil {
		t.Errorf("CurrentHold = %+v, %v; want none", h, err)
	}

	// A Postmortem that names the violation closes it.
	pm := postmortem(t, f.v, id)
	ids, err := release.PostmortemCloses(pm, nil)
	if err != nil || !slices.Equal(ids, []string{id}) {
		t.Fatalf("PostmortemCloses = %v, %v", ids, err)
	}
	closed, err := b.read.ClosePostmortem(ctx, pm, ids)
	if err != nil || len(closed) != 1 || closed[0].ID != id || closed[0].ClosedBy != pm.Digest {
		t.Fatalf("ClosePostmortem = %+v, %v", closed, err)
	}
	if v, err := b.read.Violation(ctx, id); err != nil || v.Status != store.StatusClosed {
		t.Errorf("Violation after the postmortem = %+v, %v; want closed", v, err)
	}
	if _, err := b.read.ClosePostmortem(ctx, pm, ids); err == nil {
		t.Error("closing a closed violation again: no error")
	}
}

func postmortem(t *testing.T, v *evidence.Validator, ids ...string) *evidence.Document {
	t.Helper()
	b, err := json.Marshal(map[string]any{"apiVersion": "shipgate.dev/v1", "kind": "Postmortem",
		"release":     map[string]string{"id": releaseID, "service": "localizevideos-app", "environment": "production"},
		"subject":     map[string]string{"repository": "localizevideos/app", "commit": "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"},
		"collectedAt": "2026-11-26T12:00:00Z", "collector": map[string]string{"name": "hand", "actor": "carol"},
		"data": map[string]any{"violations": ids, "summary": "deploy asked before approval", "author": "carol", "completedAt": "2026-11-26T12:00:00Z"}})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := v.Decode("pm.json", b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// What a Postmortem closes is what it names: all of it by default, or
// those asked, each of which it must name.
func TestPostmortemCloses(t *testing.T) {
	v := newFixture(t).v
	pm := postmortem(t, v, "vio_a", "vio_b")
	for _, c := range []struct {
		asked, want []string
		notNamed    int // index of the id not named; -1 none
	}{
		{nil, []string{"vio_a", "vio_b"}, -1},
		{[]string{"vio_b"}, []string{"vio_b"}, -1},
		{[]string{"vio_a", "vio_c"}, nil, 1},
	} {
		got, err := release.PostmortemCloses(pm, c.asked)
		var nn *release.NotNamedError
		switch {
		case c.notNamed >= 0 && (!errors.As(err, &nn) || nn.Index != c.notNamed || nn.ID != c.asked[c.notNamed] || !slices.Equal(nn.Named, []string{"vio_a", "vio_b"})):
			t.Errorf("PostmortemCloses(%v) = %v, %v; want id %d not named", c.asked, got, err, c.notNamed)
		case c.notNamed < 0 && (err != nil || !slices.Equal(got, c.want)):
			t.Errorf("PostmortemCloses(%v) = %v, %v; want %v", c.asked, got, err, c.want)
		}
	}
}

// PlanRelease pins the commit to the checkout's and takes the service
// and environment from the Plans; a head no Plan declares is reported.
func TestPlanRelease(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	db := openDB(t)
	defer db.Close()
	l := release.NewLocal(&gate.Gate{Engine: f.eng, Validator: f.v}, db)
	if _, err := l.AddEvidence(ctx, at, load(t, f.v, "plan.json")); err != nil {
		t.Fatal(err)
	}
	head := "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"
	rel, declared, err := release.PlanRelease(ctx, db, f.v, engine.Release{ID: releaseID}, head, "shipgate.yaml")
	if err != nil || !declared || rel.Service != "localizevideos-app" || rel.Repository != "localizevideos/app" || rel.Commit != head {
		t.Errorf("PlanRelease(head) = %+v, %t, %v", rel, declared, err)
	}
	other := strings.Repeat("a", 40)
	rel, declared, err = release.PlanRelease(ctx, db, f.v, engine.Release{ID: releaseID}, other, "shipgate.yaml")
	if err != nil || declared || rel.Commit != other || rel.Repository != "" {
		t.Errorf("PlanRelease(other) = %+v, %t, %v; want the commit pinned, undeclared", rel, declared, err)
	}
	if _, _, err := release.PlanRelease(ctx, db, f.v, engine.Release{ID: "lv-none"}, head, "shipgate.yaml"); err == nil || !strings.Contains(err.Error(), "set them in shipgate.yaml") {
		t.Errorf("PlanRelease without a Plan = %v", err)
	}
}

// NewPostmortem writes the Postmortem of a release's open violations,
// bound to its Plan; it refuses closed ones.
func TestNewPostmortem(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	b := localBackends(t, f).read
	if _, err := b.AddEvidence(ctx, at, load(t, f.v, "plan.json", "incidents.json", "build.json", "deploy-requested.json")); err != nil {
		t.Fatal(err)
	}
	rel := engine.Release{ID: releaseID}
	if _, err := b.Decide(ctx, gate.Request{Gate: "deploy", Release: rel, Actor: "ci", Now: at}); err != nil {
		t.Fatal(err)
	}
	doc, ids, err := release.NewPostmortem(ctx, b, release.PostmortemDraft{Release: releaseID, Summary: "asked before approval", Author: "carol", Version: "test", Now: at})
	if err != nil || len(ids) != 1 || doc.Kind != "Postmortem" || doc.Commit != "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e" || doc.Actor != "carol" {
		t.Fatalf("NewPostmortem = %+v, %v, %v", doc, ids, err)
	}
	if got, _ := release.PostmortemCloses(doc, nil); !slices.Equal(got, ids) {
		t.Errorf("the Postmortem names %v; want %v", got, ids)
	}
	if _, err := b.ClosePostmortem(ctx, doc, ids); err != nil {
		t.Fatal(err)
	}
	if _, _, err := release.NewPostmortem(ctx, b, release.PostmortemDraft{Violations: ids, Summary: "again", Author: "carol", Now: at}); err == nil || !strings.Contains(err.Error(), "a postmortem closes open violations") {
		t.Errorf("NewPostmortem of a closed violation = %v", err)
	}
}

// release is the use-case layer: it never imports the command line.
func TestNoCommandLine(t *testing.T) {
	out, err := exec.Command("go", "list", "-pgo=off", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "spf13/cobra") || strings.Contains(dep, "spf13/pflag") || strings.HasSuffix(dep, "shipgate/cmd") || strings.HasSuffix(dep, "shipgate/server") {
			t.Errorf("release imports %s", dep)
		}
	}
}
