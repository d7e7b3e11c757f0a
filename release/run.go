package release

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/artifact"
	"github.com/localizevideos/shipgate/collect/git"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/runner"
)

// Step runs a release step's command (shipgate run build, deploy) and
// records what happened, signed, in B.
type Step struct {
	B      Backend
	Signer *evidence.Signer
	// Env is the envelope of what the step records: the release, the
	// checkout's repository and commit, the actor.
	Env runner.Envelope
	CI  runner.CI
	// Facts are the git facts of the checkout Dir before the command.
	Facts        git.Facts
	Dir          string
	MainBranches []string
	Argv         []string
	// OutputPaths are the configured build output, relative to Dir (none
	// records no digest).
	OutputPaths []string
	// Keep keeps a passed build's output in the artifact store; nil keeps
	// nothing (its tree digest is still recorded).
	Keep func() (*runner.Artifact, error)
	// Run runs the command; Log receives the warnings.
	Run *runner.Runner
	Log io.Writer
	Now func() time.Time
}

// Recorded is a step's command that ran, and its recorded outcome.
type Recorded struct {
	Kind   string
	Doc    *evidence.Document
	Result runner.Result
}

// NotRecordedError is a command that ran but whose outcome could not be
// recorded.
type NotRecordedError struct {
	Kind   string
	Result runner.Result
	Err    error
}

// Error says what ran and why its outcome is not on record.
func (e *NotRecordedError) Error() string {
	return fmt.Sprintf("%s exited %d, but its %s evidence could not be recorded: %v", e.Result.Argv[0], e.Result.ExitCode, e.Kind, e.Err)
}

// Unwrap is the recording's error.
func (e *NotRecordedError) Unwrap() error { return e.Err }

// Build runs the build and records a Build with the checkout it ran in and
// a passed build's output. An error before the command ran means it did
// not run; a *NotRecordedError means it ran.
func (st *Step) Build(ctx context.Context) (*Recorded, error) {
	// Check the envelope before spending a build on evidence that would be
	// rejected (a release id the schema refuses, say).
	now := st.Now()
	b, err := runner.Build(st.Env, runner.Result{Argv: st.Argv, StartedAt: now, FinishedAt: now}, st.CI)
	if err == nil {
		_, err = st.B.Validator().Decode("shipgate run build", b)
	}
	if err != nil {
		return nil, fmt.Errorf("build evidence: %w; %s was not run", err, st.Argv[0])
	}
	res := st.Run.Run(ctx, st.Argv)
	src := st.buildSource()
	var art *runner.Artifact
	if res.ExitCode == 0 && res.Err == nil {
		art = st.buildOutput()
	}
	b, err = runner.BuildArtifact(st.Env, res, st.CI, src, art)
	return st.record(ctx, "Build", "shipgate run build", b, err, res)
}

// buildSource is the checkout the build ran in: clean only when it was
// clean before the command ran and still is after, at the same commit, so
// that an edit made while it built counts too. A checkout that cannot be
// read again is not clean.
func (st *Step) buildSource() *runner.Source {
	before := st.Facts
	src := &runner.Source{Branch: before.Branch, OnMain: before.OnMain, Clean: before.Clean, CommitKnown: before.CommitKnown}
	after, err := git.Collect(st.Dir, st.MainBranches)
	switch {
	case err != nil:
		src.Clean = false
		fmt.Fprintf(st.Log, "shipgate: warning: the checkout could not be read after the build (%v): the Build records it as not clean\n", err)
	case after.Commit != before.Commit:
		src.Clean = false
		fmt.Fprintf(st.Log, "shipgate: warning: HEAD moved from %s to %s while it built: the Build records the checkout as not clean\n", ShortHex(before.Commit), ShortHex(after.Commit))
	case !after.Clean:
		src.Clean = false
	}
	if !src.Clean {
		fmt.Fprintf(st.Log, "shipgate: warning: %s has uncommitted changes: this build is not of commit %s alone, and the deploy gate refuses it (forbidden.hot-patch)\n", st.Dir, ShortHex(before.Commit))
	}
	return src
}

// buildOutput describes the output of a passed build: kept in the
// artifact store for shipgate rollback when Keep is set, and its tree
// digest recorded either way, for the deploy gate and reconcile to compare
// with what is deployed. Nil when no build output is configured or it
// cannot be read; a build output that could not be kept only means a
// rollback to this build will rebuild.
func (st *Step) buildOutput() *runner.Artifact {
	paths := st.OutputPaths
	if len(paths) == 0 {
		return nil
	}
	if st.Keep != nil {
		a, err := st.Keep()
		if err == nil && a != nil {
			fmt.Fprintf(st.Log, "shipgate: kept build output %s as %s (%d bytes)\n", strings.Join(a.Paths, ", "), a.Digest, a.SizeBytes)
			fmt.Fprintf(st.Log, "shipgate: build output %s has tree digest %s\n", strings.Join(a.Paths, ", "), a.Tree)
			return a
		}
		fmt.Fprintf(st.Log, "shipgate: warning: the build output was not kept (%v): a rollback to this build will rebuild\n", err)
	}
	tree, err := artifact.Tree(st.Dir, paths)
	if err != nil {
		fmt.Fprintf(st.Log, "shipgate: warning: the build output %s could not be read (%v): the Build records no digest of it\n", strings.Join(paths, ", "), err)
		return nil
	}
	fmt.Fprintf(st.Log, "shipgate: build output %s has tree digest %s (not kept in the artifact store)\n", strings.Join(paths, ", "), tree)
	return &runner.Artifact{Tree: tree, Paths: paths}
}

// deployOutput is the build output in the checkout when the deploy is
// requested, which the deploy gate compares with the newest passed
// Build's: nil when none is configured or it cannot be read (the gate
// then denies if the Build recorded one).
func (st *Step) deployOutput() *runner.Artifact {
	if len(st.OutputPaths) == 0 {
		return nil
	}
	tree, err := artifact.Tree(st.Dir, st.OutputPaths)
	if err != nil {
		fmt.Fprintf(st.Log, "shipgate: warning: the build output %s could not be read (%v): the deploy request records no digest of it\n", strings.Join(st.OutputPaths, ", "), err)
		return nil
	}
	return &runner.Artifact{Tree: tree, Paths: st.OutputPaths}
}

// Deploy is a deploy the deploy gate was asked about.
type Deploy struct {
	st  *Step
	req runner.DeployRequest
	now time.Time
}

// AskDeploy records a Deploy request (the argv, the deployer, the
// trigger, the checkout and its build output) and asks the deploy gate of
// rel with it. The gate judges the release at the checkout's commit:
// evidence recorded for another commit, an older request included,
// cannot allow this one.
func (st *Step) AskDeploy(ctx context.Context, rel engine.Release) (*Deploy, *engine.Decision, error) {
	now := st.Now().UTC()
	req := runner.DeployRequest{Command: st.Argv, Actor: st.Env.Actor, Trigger: runner.Trigger(st.CI), Host: st.Env.Host, CI: st.CI,
		Source:   runner.Source{Branch: st.Facts.Branch, OnMain: st.Facts.OnMain, Clean: st.Facts.Clean, CommitKnown: st.Facts.CommitKnown},
		Artifact: st.deployOutput()}
	b, err := runner.Deploy(st.Env, req, now, nil)
	if err != nil {
		return nil, nil, err
	}
	requested, err := Seal(ctx, st.B.Validator(), st.Signer, "shipgate run deploy (requested)", b)
	if err != nil {
		return nil, nil, fmt.Errorf("deploy request: %w", err)
	}
	d, err := st.B.Decide(ctx, gate.Request{Gate: "deploy", Release: rel, Evidence: []*evidence.Document{requested}, Actor: st.Env.Actor, Now: now})
	return &Deploy{st: st, req: req, now: now}, d, err
}

// Run runs the deploy's command, which the gate allowed, and records the
// Deploy's outcome (succeeded or failed).
func (d *Deploy) Run(ctx context.Context) (*Recorded, error) {
	res := d.st.Run.Run(ctx, d.st.Argv)
	b, err := runner.Deploy(d.st.Env, d.req, d.now, &res)
	return d.st.record(ctx, "Deploy", "shipgate run deploy", b, err, res)
}

// record signs and records the outcome b of res, even after Ctrl-C.
func (st *Step) record(ctx context.Context, kind, source string, b []byte, err error, res runner.Result) (*Recorded, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RecordTimeout)
	defer cancel()
	var doc *evidence.Document
	if err == nil {
		doc, err = Seal(ctx, st.B.Validator(), st.Signer, source, b)
	}
	if err == nil {
		_, err = st.B.AddEvidence(ctx, time.Time{}, []*evidence.Document{doc})
	}
	if err != nil {
		return nil, &NotRecordedError{Kind: kind, Result: res, Err: err}
	}
	return &Recorded{Kind: kind, Doc: doc, Result: res}, nil
}

// Checkout reads the git facts of the checkout dir, the main branches
// named; commit, when given (--commit), must be its HEAD.
func Checkout(dir string, mainBranches []string, commit string) (git.Facts, error) {
	facts, err := git.Collect(dir, mainBranches)
	if err != nil {
		return git.Facts{}, err
	}
	if commit != "" && commit != facts.Commit {
		return git.Facts{}, fmt.Errorf("--commit %s is not the checkout's HEAD %s (%s)", commit, facts.Commit, dir)
	}
	return facts, nil
}

// Name names the release st records for, from rel and its recorded
// Plans (PlanRelease; configFile names where the service and environment
// can be set), warns on Log when no Plan declares the checkout's HEAD,
// and fills the release and the checkout into st.Env.
func (st *Step) Name(ctx context.Context, v *evidence.Validator, rel engine.Release, configFile string) (engine.Release, error) {
	named, declared, err := PlanRelease(ctx, PlansOf(st.B), v, rel, st.Facts.Commit, configFile)
	if err != nil {
		return named, err
	}
	if !declared {
		fmt.Fprintf(st.Log, "shipgate: warning: no Plan of release %s declares commit %s (HEAD of %s): what this run records will not count for the release\n",
			rel.ID, ShortHex(st.Facts.Commit), st.Dir)
	}
	st.Env.ReleaseID, st.Env.Service, st.Env.Environment = named.ID, named.Service, named.Environment
	st.Env.Repository, st.Env.Commit = st.Facts.Repository, st.Facts.Commit
	return named, nil
}
