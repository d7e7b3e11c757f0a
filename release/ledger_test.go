package release_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/collect/git"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/store"
)

// AddEvidence reports each document with its ledger entry, and a second
// add as not new.
func TestAddEvidenceReports(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	b := localBackends(t, f).write
	docs := load(t, f.v, "plan.json", "build.json")
	got, err := release.AddEvidence(ctx, b, docs)
	if err != nil || len(got) != 2 {
		t.Fatalf("AddEvidence = %+v, %v", got, err)
	}
	for i, a := range got {
		if !a.New || a.Entry <= 0 || a.Digest != docs[i].Digest || a.Kind != docs[i].Kind || a.Release != releaseID {
			t.Errorf("AddEvidence[%d] = %+v; want %s recorded as new", i, a, docs[i].Kind)
		}
	}
	again, err := release.AddEvidence(ctx, b, docs[:1])
	if err != nil || len(again) != 1 || again[0].New || again[0].Entry != 0 {
		t.Errorf("AddEvidence again = %+v, %v; want not new", again, err)
	}
}

// Validate names every invalid file, and a path that lists none.
func TestValidate(t *testing.T) {
	v := newFixture(t).v
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"kind":"Plan"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	got, bad := release.Validate(v, []string{filepath.Join(allowed, "plan.json"), dir, missing})
	if bad != 2 || len(got) != 3 {
		t.Fatalf("Validate = %+v, %d; want 3 results, 2 bad", got, bad)
	}
	if !got[0].Valid || got[0].Kind != "Plan" || got[0].Digest == "" {
		t.Errorf("Validate(plan.json) = %+v; want a valid Plan", got[0])
	}
	if got[1].Valid || (len(got[1].Errors) == 0 && got[1].Error == "") || got[1].Source != filepath.Join(dir, "bad.json") {
		t.Errorf("Validate(bad.json) = %+v; want it invalid, with why", got[1])
	}
	if got[2].Valid || got[2].Source != missing || got[2].Error == "" {
		t.Errorf("Validate(missing) = %+v; want the path's error", got[2])
	}
}

// Violations lists what the filter chooses; RecordedDecision reads a
// decision back with its ledger entry; PostmortemFile refuses another
// kind and an id the document does not name.
func TestLedgerReads(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	db := openDB(t)
	l := release.NewLocal(&gate.Gate{Engine: f.eng, Validator: f.v}, db)
	defer l.Close()
	if _, err := l.AddEvidence(ctx, at, load(t, f.v, "plan.json", "incidents.json", "build.json", "deploy-requested.json")); err != nil {
		t.Fatal(err)
	}
	d, err := l.Decide(ctx, gate.Request{Gate: "deploy", Release: engine.Release{ID: releaseID}, Actor: "ci", Now: at})
	if err != nil || d.Allow {
		t.Fatalf("Decide = %+v, %v; want a denial", d, err)
	}
	open, err := release.Violations(ctx, l, store.Filter{Status: store.StatusOpen}, at)
	if err != nil || len(open) == 0 || open[0].Release != releaseID || open[0].Overdue {
		t.Fatalf("Violations(open) = %+v, %v", open, err)
	}
	if closed, err := release.Violations(ctx, l, store.Filter{Status: store.StatusClosed}, at); err != nil || len(closed) != 0 {
		t.Errorf("Violations(closed) = %+v, %v; want none", closed, err)
	}
	seq, rec, err := release.RecordedDecision(ctx, db, d.ID)
	if err != nil || seq <= 0 || rec.Decision == nil || rec.Decision.ID != d.ID {
		t.Errorf("RecordedDecision(%s) = %d, %+v, %v", d.ID, seq, rec, err)
	}
	if _, _, err := release.RecordedDecision(ctx, db, "dec_none"); err == nil || !strings.HasPrefix(err.Error(), "decision dec_none: ") {
		t.Errorf("RecordedDecision(dec_none) = %v; want an error naming it", err)
	}

	pm := postmortem(t, f.v, "vio_a", "vio_b")
	if ids, err := release.PostmortemFile("pm.json", pm, nil); err != nil || !slices.Equal(ids, []string{"vio_a", "vio_b"}) {
		t.Errorf("PostmortemFile = %v, %v", ids, err)
	}
	if _, err := release.PostmortemFile("pm.json", pm, []string{"vio_c"}); err == nil || err.Error() != "pm.json: /data/violations: does not name vio_c (it names vio_a, vio_b)" {
		t.Errorf("PostmortemFile(vio_c) = %v", err)
	}
	plan := load(t, f.v, "plan.json")[0]
	if _, err := release.PostmortemFile("plan.json", plan, nil); err == nil || err.Error() != "plan.json: kind Plan: want a Postmortem" {
		t.Errorf("PostmortemFile(a Plan) = %v", err)
	}
}

// The automated rollback passes on only the flags that were given, the
// server last before the extra arguments.
func TestRollbackCommandArgs(t *testing.T) {
	for _, c := range []struct {
		name string
		rc   release.RollbackCommand
		want string
	}{
		{"bare", release.RollbackCommand{Release: "lv-1"}, "rollback --release lv-1 --trigger watch"},
		{"local", release.RollbackCommand{Config: "sg.yaml", Release: "lv-1", Store: "l.db", Policies: "p", Data: []string{"a.yaml", "b.yaml"},
			SigningKey: "k", TrustedKeys: []string{"t1"}, Extra: []string{"--dir=/srv"}},
			"--config sg.yaml rollback --release lv-1 --trigger watch --store l.db --policies p --data a.yaml --data b.yaml --signing-key k --trusted-key t1 --dir=/srv"},
		{"server", release.RollbackCommand{Release: "lv-1", Server: "https://sg", Token: "secret", Extra: []string{"--dir=/srv"}},
			"rollback --release lv-1 --trigger watch --server https://sg --dir=/srv"},
	} {
		if got := strings.Join(c.rc.Args(), " "); got != c.want {
			t.Errorf("%s: Args() = %q; want %q", c.name, got, c.want)
		}
	}
}

func TestPM2Home(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, c := range []struct {
		flag string
		env  map[string]string
		want string
	}{
		{"/flag", map[string]string{"PM2_HOME": "/env", "HOME": "/home/u"}, "/flag"},
		{"", map[string]string{"PM2_HOME": "/env", "HOME": "/home/u"}, "/env"},
		{"", map[string]string{"HOME": "/home/u"}, filepath.Join("/home/u", ".pm2")},
		{"", nil, ""},
	} {
		if got := release.PM2Home(c.flag, env(c.env)); got != c.want {
			t.Errorf("PM2Home(%q, %v) = %q; want %q", c.flag, c.env, got, c.want)
		}
	}
}

// Step.Name names the release from its Plans, fills the envelope from
// the checkout, and warns when no Plan declares the checkout's HEAD.
func TestStepName(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	b := localBackends(t, f).write
	planned(t, f, b)
	for _, c := range []struct {
		head, warn string
	}{
		{"3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e", ""},
		{strings.Repeat("a", 40), "shipgate: warning: no Plan of release lv-2026-11-26.1 declares commit aaaaaaaaaaaa (HEAD of app): what this run records will not count for the release\n"},
	} {
		var log strings.Builder
		st := &release.Step{B: b, Facts: git.Facts{Commit: c.head, Repository: "localizevideos/app"}, Dir: "app", Log: &log}
		named, err := st.Name(ctx, f.v, engine.Release{ID: releaseID}, "shipgate.yaml")
		if err != nil || named.Service != "localizevideos-app" || named.Commit != c.head {
			t.Fatalf("Name(%s) = %+v, %v", c.head, named, err)
		}
		if st.Env.ReleaseID != releaseID || st.Env.Service != "localizevideos-app" || st.Env.Environment != named.Environment || st.Env.Commit != c.head || st.Env.Repository != "localizevideos/app" {
			t.Errorf("Name(%s): Env = %+v", c.head, st.Env)
		}
		if log.String() != c.warn {
			t.Errorf("Name(%s) warned %q; want %q", c.head, log.String(), c.warn)
		}
	}
	if _, err := release.Checkout(t.TempDir(), []string{"main"}, ""); err == nil {
		t.Error("Checkout of a directory that is not a git checkout: no error")
	}
}
