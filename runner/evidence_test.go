package runner_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/schemas"
)

var (
	t0  = time.Date(2026, 11, 26, 10, 6, 0, 0, time.UTC)
	env = runner.Envelope{ReleaseID: "lv-2026-11-26.1", Service: "localizevideos-app", Environment: "production",
		Repository: "localizevideos/app", Commit: "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e",
		Version: "0.1.0", Host: "prod-web-1", Actor: "dave"}
	ran = runner.Result{
		Argv: []string{"pm2", "restart", "localizevideos-app", "--update-env"}, StartedAt: t0,
		FinishedAt: t0.Add(8400 * time.Millisecond), Duration: 8400 * time.Millisecond,
		StdoutSHA256: "sha256:" + strings.Repeat("a", 64), StderrSHA256: "sha256:" + strings.Repeat("b", 64),
		Tail: []string{"[PM2] done"},
	}
	request = runner.DeployRequest{Command: ran.Argv, Actor: "dave", Trigger: "shipgate-run", Host: "prod-web-1",
		Source: runner.Source{Branch: "main", OnMain: true, Clean: true, CommitKnown: true}, CI: runner.CI{Provider: "none"}}
)

func validator(t *testing.T) *evidence.Validator {
	t.Helper()
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return evidence.NewValidator(reg, evidence.DefaultLimits)
}

const envelope = `"apiVersion": "shipgate.dev/v1",
  "release": {"id": "lv-2026-11-26.1", "service": "localizevideos-app", "environment": "production"},
  "subject": {"repository": "localizevideos/app", "commit": "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"},
  "collector": {"name": "shipgate", "version": "0.1.0", "host": "prod-web-1", "actor": "dave"},`

const output = `"output": {"stdoutSha256": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "stderrSha256": "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "tail": ["[PM2] done"]}`

func TestEvidence(t *testing.T) {
	failed := ran
	failed.ExitCode = 3
	build := ran
	build.Argv = []string{"npm", "run", "build"}
	tests := []struct {
		name string
		make func() ([]byte, error)
		want string
	}{
		{"build passed", func() ([]byte, error) { return runner.Build(env, build, runner.CI{Provider: "generic"}) }, `{` + envelope + `
		  "kind": "Build", "collectedAt": "2026-11-26T10:06:08.4Z",
		  "data": {"command": ["npm", "run", "build"], "status": "passed", "exitCode": 0,
		    "startedAt": "2026-11-26T10:06:00Z", "finishedAt": "2026-11-26T10:06:08.4Z", "durationSeconds": 8.4,
		    "ci": {"provider": "generic"}, ` + output + `}}`},
		{"build failed", func() ([]byte, error) { return runner.Build(env, failed, runner.CI{Provider: "none"}) }, `{` + envelope + `
		  "kind": "Build", "collectedAt": "2026-11-26T10:06:08.4Z",
		  "data": {"command": ["pm2", "restart", "localizevideos-app", "--update-env"], "status": "failed", "exitCode": 3,
		    "startedAt": "2026-11-26T10:06:00Z", "finishedAt": "2026-11-26T10:06:08.4Z", "durationSeconds": 8.4,
		    "ci": {"provider": "none"}, ` + output + `}}`},
		{"deploy requested", func() ([]byte, error) { return runner.Deploy(env, request, t0.Add(-time.Minute), nil) }, `{` + envelope + `
		  "kind": "Deploy", "collectedAt": "2026-11-26T10:05:00Z",
		  "data": {"command": ["pm2", "restart", "localizevideos-app", "--update-env"], "status": "requested",
		    "actor": "dave", "trigger": "shipgate-run", "host": "prod-web-1", "ci": {"provider": "none"},
		    "source": {"branch": "main", "onMain": true, "clean": true, "commitKnown": true}}}`},
		{"deploy succeeded", func() ([]byte, error) { return runner.Deploy(env, request, t0, &ran) }, `{` + envelope + `
		  "kind": "Deploy", "collectedAt": "2026-11-26T10:06:08.4Z",
		  "data": {"command": ["pm2", "restart", "localizevideos-app", "--update-env"], "status": "succeeded",
		    "actor": "dave", "trigger": "shipgate-run", "host": "prod-web-1", "ci": {"provider": "none"},
		    "source": {"branch": "main", "onMain": true, "clean": true, "commitKnown": true},
		    "startedAt": "2026-11-26T10:06:00Z", "finishedAt": "2026-11-26T10:06:08.4Z", "durationSeconds": 8.4, "exitCode": 0,
		    ` + output + `}}`},
		{"deploy failed", func() ([]byte, error) { return runner.Deploy(env, request, t0, &failed) }, `{` + envelope + `
		  "kind": "Deploy", "collectedAt": "2026-11-26T10:06:08.4Z",
		  "data": {"command": ["pm2", "restart", "localizevideos-app", "--update-env"], "status": "failed",
		    "actor": "dave", "trigger": "shipgate-run", "host": "prod-web-1", "ci": {"provider": "none"},
		    "source": {"branch": "main", "onMain": true, "clean": true, "commitKnown": true},
		    "startedAt": "2026-11-26T10:06:00Z", "finishedAt": "2026-11-26T10:06:08.4Z", "durationSeconds": 8.4, "exitCode": 3,
		    ` + output + `}}`},
	}
	v := validator(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.make()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Decode(tt.name, b); err != nil {
				t.Fatalf("Decode: %v\n%s", err, b)
			}
			var got, want any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatalf("want: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("document mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvidenceRejectsIncompleteEnvelope(t *testing.T) {
	for _, e := range []runner.Envelope{{}, {ReleaseID: "r", Service: "s", Environment: "e"}, {ReleaseID: "r", Service: "s", Environment: "e", Repository: "x", Commit: "c"}} {
		if _, err := runner.Build(e, ran, runner.CI{Provider: "none"}); err == nil {
			t.Errorf("Build(%+v) = nil error; want the missing field named", e)
		}
	}
}

// A command that could not start is a failed Build that still validates.
func TestEvidenceCannotStart(t *testing.T) {
	res := (&runner.Runner{}).Run(t.Context(), []string{"shipgate-test-no-such-command"})
	b, err := runner.Build(env, res, runner.CI{Provider: "none"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := validator(t).Decode("build", b)
	if err != nil {
		t.Fatalf("Decode: %v\n%s", err, b)
	}
	data := doc.Value["data"].(map[string]any)
	if data["status"] != "failed" || data["exitCode"] != json.Number("127") {
		t.Errorf("data %v; want failed with exit code 127", data)
	}
}

// A passed build records the checkout it ran in and the artifact its
// output was kept as.
func TestEvidenceBuildArtifact(t *testing.T) {
	art := &runner.Artifact{Digest: "sha256:" + strings.Repeat("c", 64), Tree: "sha256:" + strings.Repeat("d", 64), Paths: []string{"dist"}, SizeBytes: 1234}
	src := &runner.Source{Branch: "main", OnMain: true, Clean: false, CommitKnown: true}
	b, err := runner.BuildArtifact(env, ran, runner.CI{Provider: "none"}, src, art)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := validator(t).Decode("build", b)
	if err != nil {
		t.Fatalf("Decode: %v\n%s", err, b)
	}
	data := doc.Value["data"].(map[string]any)
	want := map[string]any{"digest": art.Digest, "tree": art.Tree, "paths": []any{"dist"}, "sizeBytes": json.Number("1234")}
	if diff := cmp.Diff(want, data["artifact"]); diff != "" {
		t.Errorf("data.artifact (-want +got):\n%s", diff)
	}
	wantSrc := map[string]any{"branch": "main", "onMain": true, "clean": false, "commitKnown": true}
	if diff := cmp.Diff(wantSrc, data["source"]); diff != "" {
		t.Errorf("data.source (-want +got):\n%s", diff)
	}

	// Output hashed but not kept (--no-artifact): the tree alone.
	b, err = runner.BuildArtifact(env, ran, runner.CI{Provider: "none"}, src, &runner.Artifact{Tree: art.Tree, Paths: []string{"dist"}})
	if err != nil {
		t.Fatal(err)
	}
	if doc, err = validator(t).Decode("build", b); err != nil {
		t.Fatalf("Decode: %v\n%s", err, b)
	}
	want = map[string]any{"tree": art.Tree, "paths": []any{"dist"}}
	if diff := cmp.Diff(want, doc.Value["data"].(map[string]any)["artifact"]); diff != "" {
		t.Errorf("data.artifact without an archive (-want +got):\n%s", diff)
	}
}

// A deploy request records the build output it found, and so does its
// outcome.
func TestEvidenceDeployArtifact(t *testing.T) {
	req := request
	req.Artifact = &runner.Artifact{Tree: "sha256:" + strings.Repeat("d", 64), Paths: []string{"dist"}}
	want := map[string]any{"tree": req.Artifact.Tree, "paths": []any{"dist"}}
	for _, res := range []*runner.Result{nil, &ran} {
		b, err := runner.Deploy(env, req, t0, res)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := validator(t).Decode("deploy", b)
		if err != nil {
			t.Fatalf("Decode: %v\n%s", err, b)
		}
		if diff := cmp.Diff(want, doc.Value["data"].(map[string]any)["artifact"]); diff != "" {
			t.Errorf("data.artifact (-want +got):\n%s", diff)
		}
	}
}
