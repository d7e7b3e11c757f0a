package cmd

import (
	"os"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/runner"
)

// decided maps a decision to the exit code: 0 allow, 1 deny (already
// printed), the error otherwise.
func decided(d *engine.Decision, err error) error {
	switch {
	case err != nil:
		return err
	case d.Allow:
		return nil
	}
	return &exitError{code: ExitDeny, err: errDenied, silent: true}
}

// stepEnvelope is the envelope of what actor records for rel on this
// host.
func stepEnvelope(rel engine.Release, actor string) runner.Envelope {
	host, _ := os.Hostname()
	return runner.Envelope{ReleaseID: rel.ID, Service: rel.Service, Environment: rel.Environment,
		Repository: rel.Repository, Commit: rel.Commit, Version: Version, Host: host, Actor: actor}
}
