package project

import (
	"fmt"
	"strings"

	"github.com/localizevideos/shipgate/artifact"
	"github.com/localizevideos/shipgate/schemas"
)

// Config is shipgate.yaml: defaults for flags a repository always sets,
// and the artifacts kept for rollback (Artifacts).
type Config struct {
	Service     string `yaml:"service"`
	Environment string `yaml:"environment"`
	Store       string `yaml:"store"`
	Policies    string `yaml:"policies"`
	Data        string `yaml:"data"`
	Docs        string `yaml:"docs"` // the release document rollout data changes must update
	Keys        struct {
		Private string `yaml:"private"`
		Public  string `yaml:"public"`
	} `yaml:"keys"`
	// People binds people to the public keys (files) that sign their
	// approvals, overrides and holds: added to the policy data's
	// signing.people (People).
	People map[string][]string `yaml:"people"`
	// Server is the shipgate serve URL the remote-capable commands use
	// when neither --server nor $SHIPGATE_SERVER is given.
	Server string `yaml:"server"`
	// Token is refused, with its own message: the config is committed to
	// the repository, and a token there is a leaked one.
	Token *string `yaml:"token"`
	// Artifacts is the build output kept for a fast rollback, and where.
	Artifacts artifact.Config `yaml:"artifacts"`
}

// Check refuses what decoding the config at path accepts but a project
// must not hold: a token, a service or environment that is not a name, a
// server that is not an http(s) URL.
func (c *Config) Check(path string) error {
	if c.Token != nil {
		return fmt.Errorf("%s: token: an API token does not belong in the config, which is committed and read by anyone with the repository: give --token or $SHIPGATE_TOKEN (a CI secret)", path)
	}
	for _, f := range []struct{ key, v string }{{"service", c.Service}, {"environment", c.Environment}} {
		if f.v == "" {
			continue
		}
		if err := schemas.CheckName(f.key, f.v); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if c.Server != "" && !strings.HasPrefix(c.Server, "http://") && !strings.HasPrefix(c.Server, "https://") {
		return fmt.Errorf("%s: server: %q: want an http:// or https:// URL of shipgate serve", path, c.Server)
	}
	return nil
}
