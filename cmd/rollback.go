package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/collect/git"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/rollback"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/store"
)

func init() { addCommand(newRollbackCmd) }

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
}

// AddFlags binds the options to fs.
func (o *RollbackOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Dir, "dir", ".", "the app's git checkout: the one the deploy command restarts")
	fs.StringVar(&o.Build, "build", "npm run build", "the build command a fast rollback runs after the checkout (no shell; \"\" for none)")
	fs.StringSliceVar(&o.MainBranches, "main-branch", []string{"main"}, "branches (local or remote-tracking) that count as main")
}

// rollbackOptions are the flags of `shipgate rollback`.
type rollbackOptions struct {
	Release  ReleaseOptions
	Rollback RollbackOptions
	Actor    string
	Policy   PolicyOptions
	Ev       EvidenceOptions
	Sign     SigningOptions
	Store    StoreOptions
}

func newRollbackCmd(s Streams, g *globals) *cobra.Command {
	o := &rollbackOptions{}
	c := &cobra.Command{
		Use:   "rollback --release ID [--emergency --flag NAME]",
		Short: "Roll a release back (fast: the last verified commit; emergency: a flag off) and record it",
		Long: `Roll the release back and record what happened as a Rollback in the ledger.
A rollback is never gated: it runs during a freeze or an incident too, and
it is always recorded, failed or not, with the duration of every step so the
rule "rollback faster than deploy" judges real numbers.

Fast (the default): find the newest release of the same service and
environment whose verify gate allowed (other than this one, and not rolled
back since), check its commit out in --dir (git checkout --detach), run
--build, and restart with the approved deploy command of the policy data
(services.<service>.deploy_commands).

Emergency (--emergency --flag NAME): turn NAME off in the app's flags file
(--flags-file, default DIR/flags.json) and restart with the approved deploy
command.

Exit codes: 0 the rollback completed; 1 it failed (and was recorded as
failed); 2 an error before anything could be recorded (no Plan for the
release, a ledger that cannot be written, bad flags).`,
		Example: `  shipgate rollback --release lv-2026-11-26.2 --dir /srv/localizevideos/app
  shipgate rollback --release lv-2026-11-26.2 --dir /srv/localizevideos/app --emergency --flag new-session-store`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return rollbackCmdRun(c.Context(), s, g, o)
		},
	}
	f := c.Flags()
	o.Release.AddFlags(f, g)
	o.Rollback.AddFlags(f)
	f.BoolVar(&o.Rollback.Emergency, "emergency", false, "emergency rollback: turn --flag off and restart, instead of going back to the last verified commit")
	f.StringVar(&o.Rollback.Flag, "flag", "", "the feature flag an emergency rollback turns off")
	f.StringVar(&o.Rollback.FlagsFile, "flags-file", "", "the app's JSON flags file (default: DIR/flags.json)")
	f.StringVar(&o.Rollback.Trigger, "trigger", rollback.TriggerManual, "what asked for the rollback: manual, verify-failed or watch")
	f.StringVar(&o.Rollback.Reason, "reason", "", "why, in a sentence (recorded)")
	f.StringVar(&o.Actor, "actor", "", "who rolls back (default: $SHIPGATE_ACTOR, $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER)")
	_ = c.MarkFlagRequired("release")
	o.Policy.AddFlags(f, g)
	o.Ev.AddFlags(f)
	o.Sign.AddFlags(f)
	o.Store.AddFlags(f, g)
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
	gt, db, err := openGate(ctx, &o.Policy, &o.Ev, &o.Store)
	if err != nil {
		return err
	}
	defer db.Close()
	rel, err = releaseOfPlans(ctx, db, gt.Validator, rel)
	if err != nil {
		return err
	}
	signer, err := o.Sign.Signer(s.Err)
	if err != nil {
		return err
	}
	v, err := trustSigner(gt.Validator, &o.Ev, signer)
	if err != nil {
		return err
	}
	return doRollback(ctx, s, gt.Engine, v, signer, db, rel, &o.Rollback, actor(o.Actor, g))
}

// doRollback rolls rel back as o says and records it, signed by signer
// when it is not nil. From here on, whatever fails is recorded as a failed
// Rollback.
func doRollback(ctx context.Context, s Streams, eng *engine.Engine, v *evidence.Validator, signer *evidence.Signer, db ledgerStore, rel engine.Release, o *RollbackOptions, who string) error {
	p := rollback.Plan{Strategy: rollback.Fast, Trigger: o.Trigger, Reason: o.Reason, Build: strings.Fields(o.Build)}
	if o.Emergency {
		p.Strategy, p.Flag, p.FlagsFile = rollback.Emergency, o.Flag, o.FlagsFile
		if p.FlagsFile == "" {
			p.FlagsFile = filepath.Join(o.Dir, "flags.json")
		}
	}
	if cmds := eng.DeployCommands(rel.Service); len(cmds) > 0 {
		p.Restart = cmds[0]
	}
	repo := rel.Repository
	facts, ferr := git.Collect(o.Dir, o.MainBranches)
	if ferr == nil {
		p.FromCommit = facts.Commit
		if repo == "" {
			repo = facts.Repository
		}
	}
	if p.Strategy == rollback.Fast {
		p.Target, p.TargetErr = rollback.FindTarget(ctx, db, rel)
	}
	if ferr != nil && p.Strategy == rollback.Fast {
		// The checkout cannot be read: going back to a commit there would
		// be blind. (An emergency rollback only needs the flags file.)
		p.TargetErr = ferr
	}
	if p.Strategy == rollback.Fast && p.TargetErr == nil {
		fmt.Fprintf(s.Err, "shipgate: rollback of %s: back to release %s @ %s (verify allowed it in %s)\n",
			rel.ID, p.Target.ReleaseID, shortHex(p.Target.Commit), p.Target.Decision)
	}
	host, _ := os.Hostname()
	env := runner.Envelope{ReleaseID: rel.ID, Service: rel.Service, Environment: rel.Environment,
		Repository: repo, Commit: rel.Commit, Version: Version, Host: host, Actor: who}
	// Check the envelope before running anything it could not record.
	if _, err := rollback.Evidence(env, rollback.Result{Plan: p}); err != nil {
		return err
	}

	rb := &rollback.Rollbacker{Run: &runner.Runner{Stdout: s.Err, Stderr: s.Err, Dir: o.Dir, Now: time.Now}, Now: time.Now,
		Check: func(dir string) (string, bool, error) {
			f, err := git.Collect(dir, o.MainBranches)
			return f.Commit, f.Clean, err
		}}
	res := rb.Do(ctx, p)

	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	doc, err := rollbackDoc(rctx, v, signer, env, res)
	if err == nil {
		_, err = db.AddEvidence(rctx, time.Now(), []store.Evidence{gate.StoreEvidence(doc)})
	}
	if err != nil {
		return &exitError{code: ExitError, err: fmt.Errorf("the rollback %s, but its Rollback evidence could not be recorded: %w", res.Status, err)}
	}
	deployed := deployDuration(ctx, db, rel)
	fmt.Fprintf(s.Err, "shipgate: recorded Rollback %s (%s) for release %s: %s\n", res.Status, p.Strategy, rel.ID, doc.Digest)
	if len(doc.SignedBy) > 0 {
		fmt.Fprintf(s.Err, "shipgate: signed by %s (DSSE envelope kept in the ledger)\n", strings.Join(doc.SignedBy, ", "))
	}
	fmt.Fprintf(s.Out, "rollback %s %s: %s in %.3fs%s\n", p.Strategy, res.Status, rel.ID, res.Duration.Seconds(), deployed)
	if res.Err != nil {
		fmt.Fprintf(s.Err, "shipgate: rollback failed: %v\n", res.Err)
		return &exitError{code: ExitDeny, err: res.Err, silent: true}
	}
	return nil
}

// rollbackDoc builds and validates the Rollback document of res, sealed in
// a DSSE envelope when signer is not nil.
func rollbackDoc(ctx context.Context, v *evidence.Validator, signer *evidence.Signer, env runner.Envelope, res rollback.Result) (*evidence.Document, error) {
	b, err := rollback.Evidence(env, res)
	if err != nil {
		return nil, err
	}
	var doc *evidence.Document
	if signer != nil {
		doc, err = seal(ctx, v, signer, "shipgate rollback", b)
	} else {
		doc, err = v.Decode("shipgate rollback", b)
	}
	if err != nil {
		return nil, fmt.Errorf("rollback evidence: %w", err)
	}
	return doc, nil
}

// deployDuration names the duration of the release's latest succeeded
// Deploy, to set the rollback's beside it; "" when there is none.
func deployDuration(ctx context.Context, db ledgerStore, rel engine.Release) string {
	evs, err := db.Evidence(ctx, rel.ID)
	if err != nil {
		return ""
	}
	out := ""
	for _, e := range evs {
		if e.Kind != "Deploy" || e.Commit != rel.Commit {
			continue
		}
		var doc struct {
			Data struct {
				Status          string   `json:"status"`
				DurationSeconds *float64 `json:"durationSeconds"`
			} `json:"data"`
		}
		if json.Unmarshal(e.Body, &doc) == nil && doc.Data.Status == "succeeded" && doc.Data.DurationSeconds != nil {
			out = fmt.Sprintf(" (the deploy took %.3fs)", *doc.Data.DurationSeconds)
		}
	}
	return out
}
