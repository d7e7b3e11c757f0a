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
	return errDenied
}

// envelope is the envelope of what actor records on this host with this
// version of shipgate.
func envelope(actor string) runner.Envelope {
	host, _ := os.Hostname()
	return runner.Envelope{Version: Version, Host: host, Actor: actor}
}

// stepEnvelope is the envelope of what actor records for rel on this
// host.
func stepEnvelope(rel engine.Release, actor string) runner.Envelope {
	env := envelope(actor)
	env.ReleaseID, env.Service, env.Environment = rel.ID, rel.Service, rel.Environment
	env.Repository, env.Commit = rel.Repository, rel.Commit
	return env
}
