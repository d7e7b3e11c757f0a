package runner

// CI providers, as evidence names them.
const (
	GitHubActions = "github-actions"
	GitLabCI      = "gitlab-ci"
	GenericCI     = "generic"
	NoCI          = "none"
)

// CI is the CI run a step ran in: the evidence's ci object.
type CI struct {
	Provider string `json:"provider"`
	RunID    string `json:"runId,omitempty"`
	RunURL   string `json:"runUrl,omitempty"`
}

// InCI reports whether the step ran in a CI pipeline.
func (c CI) InCI() bool { return c.Provider != "" && c.Provider != NoCI }

// DetectCI reads the CI run from the environment that getenv reads:
// GitHub Actions (GITHUB_ACTIONS, GITHUB_RUN_ID, GITHUB_SERVER_URL,
// GITHUB_REPOSITORY), GitLab CI (GITLAB_CI, CI_PIPELINE_ID, CI_JOB_URL), or
// another CI that sets CI=true. Outside CI, Provider is NoCI.
func DetectCI(getenv func(string) string) CI {
	if getenv == nil {
		return CI{Provider: NoCI}
	}
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		c := CI{Provider: GitHubActions, RunID: getenv("GITHUB_RUN_ID")}
		server, repo := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY")
		if server != "" && repo != "" && c.RunID != "" {
			c.RunURL = server + "/" + repo + "/actions/runs/" + c.RunID
		}
		return c
	case getenv("GITLAB_CI") == "true":
		return CI{Provider: GitLabCI, RunID: getenv("CI_PIPELINE_ID"), RunURL: getenv("CI_JOB_URL")}
	case isTrue(getenv("CI")):
		return CI{Provider: GenericCI}
	}
	return CI{Provider: NoCI}
}

func isTrue(s string) bool {
	switch s {
	case "true", "TRUE", "True", "1", "yes":
		return true
	}
	return false
}
