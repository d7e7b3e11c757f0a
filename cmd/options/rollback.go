package options

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/artifact"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/rollback"
)

// Artifacts choose the artifact store and, for a build, the build
// output to keep in it (project.Artifacts).
type Artifacts struct{ project.Artifacts }

// AddStoreFlag binds --artifact-store to fs.
func (o *Artifacts) AddStoreFlag(fs *pflag.FlagSet, g *Globals) {
	o.Settings = g
	fs.StringVar(&o.Dir, "artifact-store", "", "directory of the build artifacts (default: the config's artifacts.dir, or "+artifact.DefaultDir+")")
}

// Use makes the options read their defaults from g's config, for a
// command that binds none of their flags.
func (o *Artifacts) Use(g *Globals) { o.Settings = g }

// Rollback says how to roll the app back: shared by shipgate rollback
// and shipgate verify --rollback-on-fail.
type Rollback struct {
	Dir          string
	Build        string
	Emergency    bool
	Flag         string
	FlagsFile    string
	Trigger      string
	Reason       string
	MainBranches []string
	Artifacts    Artifacts
}

// AddFlags binds the options to fs.
func (o *Rollback) AddFlags(fs *pflag.FlagSet, g *Globals) {
	fs.StringVar(&o.Dir, "dir", ".", "the app's git checkout: the one the deploy command restarts")
	fs.StringVar(&o.Build, "build", "npm run build", "the build command a fast rollback runs after the checkout when the verified artifact cannot be restored (no shell; \"\" for none)")
	MainBranchVar(fs, &o.MainBranches)
	o.Artifacts.AddStoreFlag(fs, g)
	fs.BoolVar(&o.Artifacts.Off, "rebuild", false, "rebuild with --build instead of restoring the target's verified artifact")
}

// Validate checks the flags that go together.
func (o *Rollback) Validate() error {
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
