package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/runner"
)

// runOptions are the flags of `shipgate run`.
type runOptions struct {
	options.Step
	Dir          string
	MainBranches []string
	Artifacts    options.Artifacts
}

// stepArgs takes the arguments of shipgate run: STEP -- CMD ARGS...
func stepArgs(c *cobra.Command, args []string) error {
	dash := c.ArgsLenAtDash()
	switch {
	case dash < 0:
		return errors.New("give the command after --, e.g. shipgate run build --release ID -- npm run build")
	case dash != 1:
		return fmt.Errorf("want one STEP before --, got %d", dash)
	case len(args) == dash:
		return errors.New("no command after --")
	}
	return nil
}

func (o *runOptions) flags(c *cobra.Command, g *options.Globals) {
	f := c.Flags()
	o.Step.AddFlags(f, g, "who runs the step")
	required(c, "release")
	f.StringVar(&o.Dir, "dir", ".", "the git checkout the step builds or deploys; CMD runs there")
	options.MainBranchVar(f, &o.MainBranches)
	f.StringSliceVar(&o.Artifacts.Paths, "artifact", nil, "build output, relative to --dir, that a passed build records and keeps for rollback, and a deploy compares (repeatable; default: the config's artifacts.paths)")
	f.BoolVar(&o.Artifacts.Off, "no-artifact", false, "keep no archive of this build's output (its tree digest is still recorded)")
	o.Artifacts.AddStoreFlag(f, g)
}

func (o *runOptions) run(ctx context.Context, s Streams, g *options.Globals, args []string) error {
	step, argv := args[0], args[1:] // build or deploy, and its command
	if step != "build" && step != "deploy" {
		return fmt.Errorf("run %s: only build and deploy are recorded steps", step)
	}
	// Bad artifact settings are a usage error, found before the command.
	if _, err := o.Artifacts.OutputPaths(); err != nil {
		return err
	}
	if step == "build" {
		if _, err := o.Artifacts.Store(); err != nil {
			return err
		}
	}
	rel, err := o.Release.Resolve()
	if err != nil {
		return err
	}
	facts, err := release.Checkout(o.Dir, o.MainBranches, rel.Commit)
	if err != nil {
		return err
	}
	v, signer, err := o.Ev.ValidatorSigning(&o.Sign.Signing, s.Err)
	if err != nil {
		return err
	}
	b, err := o.Remote.Backend(ctx, &o.Store.Store, options.BackendOptions{Engine: o.Policy.Engine, Lazy: true, V: v})
	if err != nil {
		return err
	}
	defer b.Close()
	paths, _ := o.Artifacts.OutputPaths() // checked above
	st := &release.Step{B: b, Signer: signer, Facts: facts, CI: runner.DetectCI(g.Env), Dir: o.Dir, MainBranches: o.MainBranches,
		Argv: argv, OutputPaths: paths, Log: s.Err, Now: s.now, Env: envelope(g.Actor(o.Actor)),
		Run: &runner.Runner{Stdout: s.Out, Stderr: s.Err, Dir: o.Dir, Now: s.now},
	}
	named, err := st.Name(ctx, v, rel, options.ConfigFile)
	if err != nil {
		return err
	}
	if !o.Artifacts.Off {
		st.Keep = release.KeepArtifact(o.Artifacts.Store, o.Dir, paths)
	}
	if step == "build" {
		r, err := st.Build(ctx)
		return recorded(s, r, err)
	}
	dep, d, err := st.AskDeploy(ctx, named)
	if d != nil {
		if werr := format.Text(s.Out, d); werr != nil {
			return werr
		}
	}
	notRun := fmt.Sprintf("%s was not run", argv[0])
	switch {
	case err != nil && dep == nil:
		return err
	case err != nil:
		return fmt.Errorf("deploy gate: %w; %s", err, notRun)
	case !d.Allow:
		fmt.Fprintf(s.Err, "shipgate: deploy denied; %s\n", notRun)
		return errDenied
	}
	r, err := dep.Run(ctx)
	return recorded(s, r, err)
}

// recorded reports a step's recorded outcome and answers with its
// command's exit code, or 2 when the outcome could not be recorded.
func recorded(s Streams, r *release.Recorded, err error) error {
	if err != nil {
		return err
	}
	// The exit code stays the command's, even if stderr fails.
	_ = console.Recorded(s.Err, r)
	return commandExit(r.Result)
}

// commandExit passes the command's exit code on. A code a process cannot
// exit with (a Windows status, say) becomes 1, never 0.
func commandExit(res runner.Result) error {
	if res.ExitCode == 0 && res.Err == nil {
		return nil
	}
	code := res.ExitCode
	if code < 1 || code > 255 {
		code = 1
	}
	err := fmt.Errorf("%s exited %d", res.Argv[0], res.ExitCode)
	if res.Err != nil {
		err = res.Err
	}
	return &exitError{code: code, err: err}
}
