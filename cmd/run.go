package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/artifact"
	"github.com/localizevideos/shipgate/collect/git"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/runner"
)

// recordTimeout bounds writing a step's outcome, which happens even after
// Ctrl-C: what ran must be on record.
const recordTimeout = release.RecordTimeout

// runOptions are the flags of `shipgate run`.
type runOptions struct {
	Step         string
	Argv         []string
	Release      ReleaseOptions
	Dir          string
	Actor        string
	MainBranches []string
	Policy       PolicyOptions
	Ev           EvidenceOptions
	Sign         SigningOptions
	Artifacts    ArtifactOptions
	Store        StoreOptions
	Remote       RemoteOptions
}

func newRunCmd(s Streams, g *globals) *cobra.Command {
	o := &runOptions{}
	c := &cobra.Command{
		Use:   "run STEP --release ID [flags] -- CMD ARGS...",
		Short: "Run a release step's command (build, deploy) and record what happened; deploy runs only if the deploy gate allows",
		Long: `Run CMD ARGS (no shell) in --dir, stream its output, and record what really
happened as evidence in the ledger: the argv, start, end, duration, exit code,
the SHA-256 of stdout and stderr, the last 20 lines of output, the CI run,
and the git facts of the checkout. subject.commit is the checkout's HEAD, so
evidence from another commit does not count for the release.

  build   run CMD, record a Build (passed when it exits 0) with the
          checkout it ran in (data.source: clean only if it was clean
          before CMD and still is after, at the same commit). A passed
          build's output (--artifact, else artifacts.paths in
          shipgate.yaml) is recorded by its tree digest
          (data.artifact.tree) and kept in the artifact store as a tar.gz
          named by its SHA-256 (data.artifact.digest), for shipgate
          rollback to restore instead of rebuilding.
  deploy  first record a Deploy request (the argv, the deployer, the trigger,
          the checkout's branch, cleanliness and reachability from main,
          and the tree digest of the build output in the checkout) and
          evaluate the deploy gate with it, printing the decision like
          shipgate gate: it denies a build of uncommitted changes and build
          output that is not what the newest passed Build produced
          (forbidden.hot-patch). Only if it allows, run CMD and record the
          Deploy's outcome (succeeded or failed).

Every document is signed with --signing-key (ed25519) in a DSSE envelope,
which the ledger keeps beside the document; gates verify it against the
trusted keys (--trusted-key) and policies can require it (signing in the
policy data). Without --signing-key, shipgate init's key signs, or else an
evidence key created on first use in .shipgate/keys/.

The release's service and environment come from the flags, then
shipgate.yaml, then the release's Plan; its commit is the checkout's HEAD
(--commit, if given, must be that commit).

With --server (or $SHIPGATE_SERVER, or server: in shipgate.yaml) the
command still runs here, but the evidence is recorded on the server, sent
as its DSSE envelope (the server must trust the signing key: shipgate serve
--trusted-key), and the deploy gate is the server's: it decides at its own
time with its own policies. The release's Plans are read from the server.

Exit codes: the command's exit code once it has run (0 when it succeeded);
1 when the deploy gate denies (the command is not run); 2 on an error,
including evidence that could not be recorded, even after a command that
succeeded.`,
		Example: `  shipgate run build --release lv-2026-11-26.1 -- npm run build
  shipgate run deploy --release lv-2026-11-26.1 -- pm2 restart localizevideos-app --update-env`,
		Args: func(c *cobra.Command, args []string) error {
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
		},
		RunE: func(c *cobra.Command, args []string) error {
			o.Step, o.Argv = args[0], args[1:]
			return runRun(c.Context(), s, g, o)
		},
	}
	f := c.Flags()
	o.Release.AddFlags(f, g)
	f.StringVar(&o.Dir, "dir", ".", "the git checkout the step builds or deploys; CMD runs there")
	personVar(f, &o.Actor, "actor", "", "who runs the step (default: $SHIPGATE_ACTOR, $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER)")
	f.StringSliceVar(&o.MainBranches, "main-branch", []string{"main"}, "branches (local or remote-tracking) that count as main")
	_ = c.MarkFlagRequired("release")
	o.Policy.AddFlags(f, g)
	o.Ev.AddFlags(f)
	o.Sign.AddFlags(f)
	f.StringSliceVar(&o.Artifacts.Paths, "artifact", nil, "build output, relative to --dir, that a passed build records and keeps for rollback, and a deploy compares (repeatable; default: the config's artifacts.paths)")
	f.BoolVar(&o.Artifacts.Off, "no-artifact", false, "keep no archive of this build's output (its tree digest is still recorded)")
	o.Artifacts.addStoreFlag(f, g)
	o.Store.AddFlags(f, g)
	o.Remote.AddFlags(f, g)
	return c
}

// step is what one run needs, gathered before the command runs.
type step struct {
	o    *runOptions
	s    Streams
	v    *evidence.Validator
	sign *evidence.Signer
	// b records and decides: the local ledger, or with --server the
	// server.
	b     release.Backend
	env   runner.Envelope
	ci    runner.CI
	facts git.Facts
	run   *runner.Runner
}

func runRun(ctx context.Context, s Streams, g *globals, o *runOptions) error {
	if o.Step != "build" && o.Step != "deploy" {
		return fmt.Errorf("run %s: only build and deploy are recorded steps", o.Step)
	}
	// Bad artifact settings are a usage error, found before the command.
	if _, err := o.Artifacts.outputPaths(); err != nil {
		return err
	}
	if o.Step == "build" {
		if _, err := o.Artifacts.Store(); err != nil {
			return err
		}
	}
	rel, err := o.Release.resolve()
	if err != nil {
		return err
	}
	facts, err := git.Collect(o.Dir, o.MainBranches)
	if err != nil {
		return err
	}
	if rel.Commit != "" && rel.Commit != facts.Commit {
		return fmt.Errorf("--commit %s is not the checkout's HEAD %s (%s)", rel.Commit, facts.Commit, o.Dir)
	}
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	signer, err := o.Sign.Signer(s.Err)
	if err != nil {
		return err
	}
	if v, err = trustSigner(v, &o.Ev, signer); err != nil {
		return err
	}
	b, err := o.Remote.backend(ctx, &o.Store, backendOptions{Policy: &o.Policy, Lazy: true, V: v})
	if err != nil {
		return err
	}
	defer b.Close()
	named, declared, err := release.PlanRelease(ctx, release.PlansOf(b), v, rel, facts.Commit, ConfigFile)
	if err != nil {
		return err
	}
	if !declared {
		fmt.Fprintf(s.Err, "shipgate: warning: no Plan of release %s declares commit %s (HEAD of %s): what this run records will not count for the release\n",
			rel.ID, shortHex(facts.Commit), o.Dir)
	}
	host, _ := os.Hostname()
	st := &step{o: o, s: s, v: v, sign: signer, b: b, facts: facts, ci: runner.DetectCI(g.getenv),
		env: runner.Envelope{ReleaseID: named.ID, Service: named.Service, Environment: named.Environment,
			Repository: facts.Repository, Commit: facts.Commit, Version: Version, Host: host, Actor: actor(o.Actor, g)},
		run: &runner.Runner{Stdout: s.Out, Stderr: s.Err, Dir: o.Dir, Now: s.now},
	}
	if o.Step == "build" {
		return st.build(ctx)
	}
	// The gate judges the release at the checkout's commit: evidence
	// recorded for another commit, an older request included, cannot
	// allow this one.
	return st.deploy(ctx, named)
}

func (st *step) build(ctx context.Context) error {
	// Check the envelope before spending a build on evidence that would be
	// rejected (a release id the schema refuses, say).
	now := st.s.now()
	b, err := runner.Build(st.env, runner.Result{Argv: st.o.Argv, StartedAt: now, FinishedAt: now}, st.ci)
	if err == nil {
		_, err = st.v.Decode("shipgate run build", b)
	}
	if err != nil {
		return fmt.Errorf("build evidence: %w; %s was not run", err, st.o.Argv[0])
	}
	res := st.run.Run(ctx, st.o.Argv)
	src := st.buildSource()
	var art *runner.Artifact
	if res.ExitCode == 0 && res.Err == nil {
		art = st.buildOutput()
	}
	b, err = runner.BuildArtifact(st.env, res, st.ci, src, art)
	return st.record(ctx, "Build", b, err, res)
}

// buildSource is the checkout the build ran in: clean only when it was
// clean before the command ran and still is after, at the same commit, so
// that an edit made while it built counts too. A checkout that cannot be
// read again is not clean.
func (st *step) buildSource() *runner.Source {
	before := st.facts
	src := &runner.Source{Branch: before.Branch, OnMain: before.OnMain, Clean: before.Clean, CommitKnown: before.CommitKnown}
	after, err := git.Collect(st.o.Dir, st.o.MainBranches)
	switch {
	case err != nil:
		src.Clean = false
		fmt.Fprintf(st.s.Err, "shipgate: warning: the checkout could not be read after the build (%v): the Build records it as not clean\n", err)
	case after.Commit != before.Commit:
		src.Clean = false
		fmt.Fprintf(st.s.Err, "shipgate: warning: HEAD moved from %s to %s while it built: the Build records the checkout as not clean\n", shortHex(before.Commit), shortHex(after.Commit))
	case !after.Clean:
		src.Clean = false
	}
	if !src.Clean {
		fmt.Fprintf(st.s.Err, "shipgate: warning: %s has uncommitted changes: this build is not of commit %s alone, and the deploy gate refuses it (forbidden.hot-patch)\n", st.o.Dir, shortHex(before.Commit))
	}
	return src
}

// buildOutput describes the output of a passed build (see
// ArtifactOptions): kept in the artifact store for shipgate rollback
// unless --no-artifact, and its tree digest recorded either way, for the
// deploy gate and reconcile to compare with what is deployed. Nil when no
// build output is configured or it cannot be read; a build output that
// could not be kept only means a rollback to this build will rebuild.
func (st *step) buildOutput() *runner.Artifact {
	paths, err := st.o.Artifacts.outputPaths()
	if err != nil || len(paths) == 0 {
		return nil // a bad setting was refused before the build
	}
	if !st.o.Artifacts.Off {
		a, err := keepArtifact(&st.o.Artifacts, st.o.Dir)
		if err == nil && a != nil {
			fmt.Fprintf(st.s.Err, "shipgate: kept build output %s as %s (%d bytes)\n", strings.Join(a.Paths, ", "), a.Digest, a.SizeBytes)
			fmt.Fprintf(st.s.Err, "shipgate: build output %s has tree digest %s\n", strings.Join(a.Paths, ", "), a.Tree)
			return a
		}
		fmt.Fprintf(st.s.Err, "shipgate: warning: the build output was not kept (%v): a rollback to this build will rebuild\n", err)
	}
	tree, err := artifact.Tree(st.o.Dir, paths)
	if err != nil {
		fmt.Fprintf(st.s.Err, "shipgate: warning: the build output %s could not be read (%v): the Build records no digest of it\n", strings.Join(paths, ", "), err)
		return nil
	}
	fmt.Fprintf(st.s.Err, "shipgate: build output %s has tree digest %s (not kept in the artifact store)\n", strings.Join(paths, ", "), tree)
	return &runner.Artifact{Tree: tree, Paths: paths}
}

// deployOutput is the build output in the checkout when the deploy is
// requested, which the deploy gate compares with the newest passed
// Build's: nil when none is configured or it cannot be read (the gate
// then denies if the Build recorded one).
func (st *step) deployOutput() *runner.Artifact {
	paths, err := st.o.Artifacts.outputPaths()
	if err != nil || len(paths) == 0 {
		return nil
	}
	tree, err := artifact.Tree(st.o.Dir, paths)
	if err != nil {
		fmt.Fprintf(st.s.Err, "shipgate: warning: the build output %s could not be read (%v): the deploy request records no digest of it\n", strings.Join(paths, ", "), err)
		return nil
	}
	return &runner.Artifact{Tree: tree, Paths: paths}
}

func (st *step) deploy(ctx context.Context, rel engine.Release) error {
	now := st.s.now().UTC()
	req := runner.DeployRequest{Command: st.o.Argv, Actor: st.env.Actor, Trigger: runner.Trigger(st.ci), Host: st.env.Host, CI: st.ci,
		Source:   runner.Source{Branch: st.facts.Branch, OnMain: st.facts.OnMain, Clean: st.facts.Clean, CommitKnown: st.facts.CommitKnown},
		Artifact: st.deployOutput()}
	b, err := runner.Deploy(st.env, req, now, nil)
	if err != nil {
		return err
	}
	requested, err := st.seal(ctx, "shipgate run deploy (requested)", b)
	if err != nil {
		return fmt.Errorf("deploy request: %w", err)
	}
	d, err := st.b.Decide(ctx, gate.Request{Gate: "deploy", Release: rel, Evidence: []*evidence.Document{requested}, Actor: st.env.Actor, Now: now})
	if d != nil {
		if werr := writeDecision(st.s.Out, "text", d); werr != nil {
			return werr
		}
	}
	notRun := fmt.Sprintf("%s was not run", st.o.Argv[0])
	switch {
	case err != nil:
		return fmt.Errorf("deploy gate: %w; %s", err, notRun)
	case !d.Allow:
		fmt.Fprintf(st.s.Err, "shipgate: deploy denied; %s\n", notRun)
		return &exitError{code: ExitDeny, err: errDenied, silent: true}
	}
	res := st.run.Run(ctx, st.o.Argv)
	b, err = runner.Deploy(st.env, req, now, &res)
	return st.record(ctx, "Deploy", b, err, res)
}

// record validates and appends the outcome of res, then answers with the
// command's exit code, or 2 when the outcome could not be recorded.
func (st *step) record(ctx context.Context, kind string, b []byte, err error, res runner.Result) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	var doc *evidence.Document
	if err == nil {
		doc, err = st.seal(ctx, fmt.Sprintf("shipgate run %s", st.o.Step), b)
	}
	if err == nil {
		_, err = st.b.AddEvidence(ctx, time.Time{}, []*evidence.Document{doc})
	}
	if err != nil {
		return &exitError{code: ExitError, err: fmt.Errorf("%s exited %d, but its %s evidence could not be recorded: %w",
			st.o.Argv[0], res.ExitCode, kind, err)}
	}
	status, _ := doc.Value["data"].(map[string]any)["status"].(string)
	fmt.Fprintf(st.s.Err, "shipgate: recorded %s %s for release %s @ %s: %s\n",
		kind, status, doc.ReleaseID, shortHex(doc.Commit), doc.Digest)
	fmt.Fprintf(st.s.Err, "shipgate: signed by %s (DSSE envelope kept in the ledger)\n", strings.Join(doc.SignedBy, ", "))
	return commandExit(res)
}

// seal signs the document b in a DSSE envelope and decodes that, so that
// the document carries its verified signer and the ledger keeps the
// envelope.
func (st *step) seal(ctx context.Context, source string, b []byte) (*evidence.Document, error) {
	return seal(ctx, st.v, st.sign, source, b)
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
