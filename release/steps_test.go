package release_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/artifact"
	"github.com/localizevideos/shipgate/collect/httpcheck"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/rollback"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/store"
)

// planned records the example release's Plan through b and answers the
// release it declares.
func planned(t *testing.T, f fixture, b release.Backend) engine.Release {
	t.Helper()
	ctx := context.Background()
	if _, err := b.AddEvidence(ctx, at, load(t, f.v, "plan.json")); err != nil {
		t.Fatal(err)
	}
	rel, err := release.OfPlans(ctx, release.PlansOf(b), f.v, engine.Release{ID: releaseID})
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

func suite(t *testing.T, yaml string) *httpcheck.Suite {
	t.Helper()
	s, err := httpcheck.Load("checks.yaml", []byte(yaml), httpcheck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Verify records what the checks found, signed, before it asks the
// verify gate, on either backend; a failed check is a recorded denial,
// and an app that never got ready records nothing.
func TestVerify(t *testing.T) {
	f := newFixture(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
		}
	}))
	defer app.Close()
	for _, b := range []backends{localBackends(t, f), remoteBackends(t, f)} {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			rel := planned(t, f, b.write)
			req := release.VerifyRequest{Release: rel, Signer: keys.Signer(keys.EvidenceKey), Now: func() time.Time { return at.Add(7 * time.Minute) },
				Env: runner.Envelope{ReleaseID: rel.ID, Service: rel.Service, Environment: rel.Environment, Repository: rel.Repository, Commit: rel.Commit, Actor: "ci"}}
			var log bytes.Buffer
			req.Log = &log
			req.Suite = suite(t, "base: "+app.URL+"\nsteps:\n  - check: home\n    url: /missing\n    assert: [status == 200]\n")
			out, err := release.Verify(ctx, b.write, req)
			if err != nil || out == nil || out.Result.Passed() || out.Decision == nil || out.Decision.Allow {
				t.Fatalf("Verify of a failing app = %+v, %v; want a recorded failure, denied\n%s", out, err, &log)
			}
			if out.Doc.Kind != "Verification" || len(out.Doc.SignedBy) == 0 || !strings.Contains(log.String(), "recorded Verification failed") {
				t.Errorf("Verification %+v signed by %v\n%s", out.Doc.Kind, out.Doc.SignedBy, &log)
			}
			recorded, err := b.write.Plans(ctx, releaseID)
			if err != nil {
				t.Fatal(err)
			}
			if b.name == "local" && !slices.ContainsFunc(recorded, func(e store.Evidence) bool { return e.Digest == out.Doc.Digest }) {
				t.Errorf("the Verification %s is not in the ledger", out.Doc.Digest)
			}

			req.Suite = suite(t, "base: http://127.0.0.1:1\nready:\n  url: /\n  assert: [status == 200]\n  timeout: 50ms\n  interval: 10ms\nsteps:\n  - check: home\n    url: /\n    assert: [status == 200]\n")
			if out, err := release.Verify(ctx, b.write, req); out != nil || err == nil || !strings.Contains(err.Error(), "nothing was checked or recorded") {
				t.Errorf("Verify of an app never ready = %+v, %v", out, err)
			}
		})
	}
}

// A rollback is recorded, failed or not: an emergency one turns the flag
// off and records its restart's outcome; a fast one in a directory that
// is not a git checkout does not go back blind: it records its failure.
func TestRollbackIsRecorded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	b := localBackends(t, f).write
	rel := planned(t, f, b)
	dir := t.TempDir()
	flags := filepath.Join(dir, "flags.json")
	if err := os.WriteFile(flags, []byte(`{"new-session-store": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	req := release.RollbackRequest{Release: rel, Emergency: true, Flag: "new-session-store", Trigger: rollback.TriggerManual, Dir: dir,
		Artifacts: func() (*artifact.Store, error) { return &artifact.Store{Dir: t.TempDir()}, nil },
		Env:       runner.Envelope{Version: "test", Actor: "carol"}, Signer: keys.Signer(keys.EvidenceKey), Log: &log, Now: func() time.Time { return at }}
	out, err := release.Rollback(ctx, b, req)
	if err != nil {
		t.Fatalf("Rollback: %v\n%s", err, &log)
	}
	if out.Plan.Strategy != rollback.Emergency || out.Doc == nil || out.Doc.Kind != "Rollback" || len(out.Doc.SignedBy) == 0 {
		t.Errorf("emergency Rollback = %+v", out)
	}
	if b, _ := os.ReadFile(flags); !strings.Contains(string(b), "false") {
		t.Errorf("the flag is not off: %s", b)
	}
	req.Emergency = false
	out, err = release.Rollback(ctx, b, req)
	if err != nil || out.Result.Status != rollback.Failed || out.Plan.TargetErr == nil || out.Doc == nil {
		t.Fatalf("fast Rollback outside a checkout = %+v, %v; want a recorded failure", out, err)
	}
	stored, err := b.Plans(ctx, releaseID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range stored {
		if e.Kind == "Rollback" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d Rollbacks recorded; want 2", n)
	}
}
