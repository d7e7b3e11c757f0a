package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/localizevideos/shipgate/artifact"
	"github.com/localizevideos/shipgate/runner"
)

// RollbackCommand is `shipgate rollback` of one release run as a
// subprocess, as watch --auto-rollback runs it: with the watching
// command's configuration, store, policy and key flags, or its server.
// The rollback records itself, and watch stays a client of it.
type RollbackCommand struct {
	Config  string
	Release string
	Store   string
	// Policies, Data, Bundle and VerifyKey choose the policies.
	Policies  string
	Data      []string
	Bundle    string
	VerifyKey string
	// SigningKey signs the Rollback; TrustedKeys verify the evidence.
	SigningKey  string
	TrustedKeys []string
	// Server, when set, records the rollback there; Token goes in the
	// subprocess's environment (Environ plus SHIPGATE_TOKEN), out of the
	// process list.
	Server  string
	Token   string
	Environ []string
	// Extra are added last (watch --rollback-arg).
	Extra []string
}

// Args are the subprocess's arguments, without the program name.
func (c RollbackCommand) Args() []string {
	var args []string
	if c.Config != "" {
		args = append(args, "--config", c.Config)
	}
	args = append(args, "rollback", "--release", c.Release, "--trigger", "watch")
	fvs := [][2]string{{"--store", c.Store}, {"--policies", c.Policies}}
	for _, d := range c.Data {
		fvs = append(fvs, [2]string{"--data", d})
	}
	fvs = append(fvs, [2]string{"--bundle", c.Bundle}, [2]string{"--verify-key", c.VerifyKey}, [2]string{"--signing-key", c.SigningKey})
	for _, k := range c.TrustedKeys {
		fvs = append(fvs, [2]string{"--trusted-key", k})
	}
	for _, fv := range fvs {
		if fv[1] != "" {
			args = append(args, fv[0], fv[1])
		}
	}
	if c.Server != "" {
		args = append(args, "--server", c.Server)
	}
	return append(args, c.Extra...)
}

// Run runs this executable as c, its output and the command line to log;
// an exit code other than 0 is an error.
func (c RollbackCommand) Run(ctx context.Context, log io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the shipgate executable: %w", err)
	}
	args := c.Args()
	cmd := exec.CommandContext(ctx, exe, args...)
	if c.Server != "" {
		cmd.Env = append(c.Environ, "SHIPGATE_TOKEN="+c.Token)
	}
	// argv[0] "shipgate", as a shell would run it.
	cmd.Args[0] = "shipgate"
	cmd.Stdout, cmd.Stderr = log, log
	fmt.Fprintf(log, "shipgate: running shipgate %s\n", strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("shipgate rollback exited %d", ee.ExitCode())
		}
		return err
	}
	return nil
}

// KeepArtifact is a Step's Keep: it stores the build output paths of dir
// in the artifact store that open opens; none when paths is empty.
func KeepArtifact(open func() (*artifact.Store, error), dir string, paths []string) func() (*runner.Artifact, error) {
	return func() (*runner.Artifact, error) {
		if len(paths) == 0 {
			return nil, nil
		}
		st, err := open()
		if err != nil {
			return nil, err
		}
		a, err := st.Put(dir, paths)
		if err != nil {
			return nil, err
		}
		return &runner.Artifact{Digest: a.Digest, Tree: a.Tree, Paths: a.Paths, SizeBytes: a.Size}, nil
	}
}
