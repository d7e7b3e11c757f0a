package runner_test

import (
	"testing"

	"github.com/localizevideos/shipgate/runner"
)

func TestDetectCI(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want runner.CI
	}{
		{"none", nil, runner.CI{Provider: "none"}},
		{"github actions", map[string]string{"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_RUN_ID": "7712045531",
			"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "localizevideos/app"},
			runner.CI{Provider: "github-actions", RunID: "7712045531", RunURL: "https://github.com/localizevideos/app/actions/runs/7712045531"}},
		{"github actions without server", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "1"},
			runner.CI{Provider: "github-actions", RunID: "1"}},
		{"gitlab", map[string]string{"GITLAB_CI": "true", "CI": "true", "CI_PIPELINE_ID": "991",
			"CI_JOB_URL": "https://gitlab.com/lv/app/-/jobs/5"},
			runner.CI{Provider: "gitlab-ci", RunID: "991", RunURL: "https://gitlab.com/lv/app/-/jobs/5"}},
		{"generic", map[string]string{"CI": "true"}, runner.CI{Provider: "generic"}},
		{"CI=false", map[string]string{"CI": "false"}, runner.CI{Provider: "none"}},
	}
	for _, tt := range tests {
		got := runner.DetectCI(func(k string) string { return tt.env[k] })
		if got != tt.want {
			t.Errorf("DetectCI(%s) = %+v; want %+v", tt.name, got, tt.want)
		}
		if wantTrigger := map[bool]string{true: "pipeline", false: "shipgate-run"}[tt.want.Provider != "none"]; runner.Trigger(got) != wantTrigger {
			t.Errorf("Trigger(%s) = %q; want %q", tt.name, runner.Trigger(got), wantTrigger)
		}
	}
}
