package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/artifact"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/rollback"
	"github.com/localizevideos/shipgate/runner"
)

func init() { addCommand(newRollbackCmd) }

// artifactConfig is the artifacts section of shipgate.yaml.
type artifactConfig = artifact.Config

// ArtifactOptions choose the artifact store and, for a build, the build
// output to keep in it.
type ArtifactOptions struct {
	Paths []string
	Dir   string
	// Off: keep nothing (run build --no-artifact); rebuild instead of
	// restoring (rollback --rebuild).
	Off bool
	g   *globals
}

func (o *ArtifactOptions) addStoreFlag(fs *pflag.FlagSet, g *globals) {
	o.g = g
	fs.StringVar(&o.Dir, "artifact-store", "", "directory of the build artifacts (default: the config's artifacts.dir, or "+artifact.DefaultDir+")")
}

// Store opens the artifact store the flags and shipgate.yaml name.
func (o *ArtifactOptions) Store() (*artifact.Store, error) {
	cfg, err := o.config()
	if err != nil {
		return nil, err
	}
	return cfg.Store(o.Dir, o.configName(), o.g.clock)
}

// outputPaths are the build output whose tree digest is recorded:
// --artifact, else the config's artifacts.paths, with or without
// --no-artifact (which only keeps the archive out of the store).
func (o *ArtifactOptions) outputPaths() ([]string, error) {
	if len(o.Paths) > 0 {
		return artifact.CleanPaths(o.Paths)
	}
	cfg, err := o.config()
	if err != nil {
		return nil, err
	}
	return cfg.OutputPaths(o.configName())
}

func (o *ArtifactOptions) config() (artifactConfig, error) {
	if o.g == nil {
		return artifactConfig{}, nil
	}
	cfg, err := o.g.config()
	return cfg.Artifacts, err
}

func (o *ArtifactOptions) configName() string {
	if o.g != nil && o.g.ConfigPath != "" {
		return o.g.ConfigPath
	}
	return ConfigFile
}

// RollbackOptions say how to roll the app back: shared by shipgate rollback
// and shipgate verify --rollback-on-fail.
type RollbackOptions struct {
	Dir          string
	Build        string
	Emergency    bool
	Flag         string
	FlagsFile    string
	Trigger      string
	Reason       string
	MainBranches []string
	Artifacts    ArtifactOptions
}

// AddFlags binds the options to fs.
func (o *RollbackOptions) AddFlags(fs *pflag.FlagSet, g *globals) {
	fs.StringVar(&o.Dir, "dir", ".", "the app's git checkout: the one the deploy command restarts")
	fs.StringVar(&o.Build, "build", "npm run build", "the build command a fast rollback runs after the checkout when the verified artifact cannot be restored (no shell; \"\" for none)")
	fs.StringSliceVar(&o.MainBranches, "main-branch", []string{"main"}, "branches (local or remote-tracking) that count as main")
	o.Artifacts.addStoreFlag(fs, g)
	fs.BoolVar(&o.Artifacts.Off, "rebuild", false, "rebuild with --build instead of restoring the target's verified artifact")
}

// rollbackOptions are the flags of `shipgate rollback`.
type rollbackOptions struct {
	stepOptions
	Rollback RollbackOptions
}

func newRollbackCmd(s Streams, g *globals) *cobra.Command {
	o := &rollbackOptions{}
	c := &cobra.Command{
		Use:  "rollback --release ID [--emergency --flag NAME]",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return rollbackCmdRun(c.Context(), s, g, o)
		},
	}
	f := c.Flags()
	o.stepOptions.addFlags(c, g, "who rolls back")
	o.Rollback.AddFlags(f, g)
	f.BoolVar(&o.Rollback.Emergency, "emergency", false, "emergency rollback: turn --flag off and restart, instead of going back to the last verified commit")
	f.StringVar(&o.Rollback.Flag, "flag", "", "the feature flag an emergency rollback turns off")
	f.StringVar(&o.Rollback.FlagsFile, "flags-file", "", "the app's JSON flags file (default: DIR/flags.json)")
	f.StringVar(&o.Rollback.Trigger, "trigger", rollback.TriggerManual, "what asked for the rollback: manual, verify-failed or watch")
	f.StringVar(&o.Rollback.Reason, "reason", "", "why, in a sentence (recorded)")
	return c
}

func (o *RollbackOptions) validate() error {
	switch {
	case o.Emergency && o.Flag == "":
		return errors.New("--emergency needs --flag NAME: the flag to turn off")
	case !o.Emergency && (o.Flag != "" || o.FlagsFile != ""):
		return errors.New("--flag and --flags-file are for --emergency")
	}
	switch o.Trigger {
	case rollback.TriggerManual, rollback.TriggerVerifyFailed, rollback.TriggerWatch:
	default:
		return fmt.Errorf("--trigger %q: want manual, verify-failed or watch", o.Trigger)
	}
	return nil
}

func rollbackCmdRun(ctx context.Context, s Streams, g *globals, o *rollbackOptions) error {
	if err := o.Rollback.validate(); err != nil {
		return err
	}
	rel, err := o.Release.resolve()
	if err != nil {
		return err
	}
	b, signer, rel, err := o.open(ctx, s, rel)
	if err != nil {
		return err
	}
	defer b.Close()
	return doRollback(ctx, s, b, signer, rel, &o.Rollback, actor(o.Actor, g))
}

// doRollback rolls rel back as o says and records it in b, signed by
// signer when it is not nil (release.Rollback), and reports it.
func doRollback(ctx context.Context, s Streams, b release.Backend, signer *evidence.Signer, rel engine.Release, o *RollbackOptions, who string) error {
	host, _ := os.Hostname()
	out, err := release.Rollback(ctx, b, release.RollbackRequest{Release: rel, Emergency: o.Emergency, Flag: o.Flag, FlagsFile: o.FlagsFile,
		Trigger: o.Trigger, Reason: o.Reason, Build: strings.Fields(o.Build), Dir: o.Dir, MainBranches: o.MainBranches,
		Artifacts: o.Artifacts.Store, Rebuild: o.Artifacts.Off, OutputPaths: o.Artifacts.outputPaths,
		Env: runner.Envelope{Version: Version, Host: host, Actor: who}, Signer: signer, Log: s.Err, Now: s.now})
	if err != nil {
		return err // exit 2: nothing ran, or what ran could not be recorded
	}
	// The exit code stays the rollback's, even if the output fails.
	_ = console.RolledBack(s.Err, s.Out, rel.ID, out)
	if out.Result.Err == nil {
		return nil
	}
	return &exitError{code: ExitDeny, err: out.Result.Err, silent: true}
}
