// Package rollback takes a service back to a state that was verified, and
// describes what it did as a Rollback evidence document.
//
// A fast rollback returns the app's checkout to the commit of the newest
// release of the same service and environment whose verify gate allowed
// (FindTarget reads it from the ledger), puts back the build output that
// release was verified with (the artifact its Build recorded, checked
// against the recorded digest: VerifiedArtifact) and restarts it with the
// approved deploy command. Only when that artifact is missing, does not
// match its digest or was never recorded does it rebuild, and the steps
// say so. An emergency rollback turns a feature flag off
// in the app's flags file and restarts. Rollback is never gated: it is
// always allowed and always recorded, and every step is timed so that the
// rule "rollback faster than deploy" judges real numbers.
package rollback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/artifact"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/store"
)

// Strategies and statuses, as the Rollback schema names them.
const (
	Fast      = "fast"
	Emergency = "emergency"

	Succeeded = "succeeded"
	Failed    = "failed"
)

// Triggers: who asked for the rollback.
const (
	TriggerManual       = "manual"
	TriggerVerifyFailed = "verify-failed"
	TriggerWatch        = "watch"
)

// Store is the ledger as a rollback reads it.
type Store interface {
	Decisions(ctx context.Context, releaseID string) ([]store.Decision, error)
	Evidence(ctx context.Context, releaseID string) ([]store.Evidence, error)
}

// Target is the release a fast rollback returns to.
type Target struct {
	ReleaseID string
	Commit    string
	// Decision is the verify decision that allowed it.
	Decision   string
	VerifiedAt time.Time
}

// ErrNoTarget means no earlier release of the service and environment
// passed verify: there is nothing known-good to return to.
var ErrNoTarget = errors.New("no earlier release passed verify")

// FindTarget returns the newest release of rel's service and environment,
// other than rel itself and not at rel's commit, whose verify gate allowed
// (dry runs do not count), and that was not itself rolled back since.
func FindTarget(ctx context.Context, st Store, rel engine.Release) (Target, error) {
	ds, err := st.Decisions(ctx, "")
	if err != nil {
		return Target{}, fmt.Errorf("read decisions: %w", err)
	}
	for _, d := range slices.Backward(ds) {
		if d.Gate != "verify" || !d.Allow || d.DryRun || d.ReleaseID == rel.ID ||
			d.Service != rel.Service || d.Environment != rel.Environment {
			continue
		}
		var body struct {
			Release engine.Release `json:"release"`
		}
		if err := json.Unmarshal(d.Body, &body); err != nil {
			return Target{}, fmt.Errorf("decision %s: %w", d.ID, err)
		}
		if body.Release.Commit == "" || body.Release.Commit == rel.Commit {
			continue
		}
		rolledBack, err := rolledBack(ctx, st, d.ReleaseID)
		if err != nil {
			return Target{}, err
		}
		if rolledBack {
			continue
		}
		return Target{ReleaseID: d.ReleaseID, Commit: body.Release.Commit, Decision: d.ID, VerifiedAt: d.EvaluatedAt}, nil
	}
	return Target{}, fmt.Errorf("%w: %s in %s has no release other than %s whose verify gate allowed", ErrNoTarget, rel.Service, rel.Environment, rel.ID)
}

// rolledBack reports whether a succeeded Rollback of the release is
// recorded: a release that had to be rolled back is no place to return to.
func rolledBack(ctx context.Context, st Store, releaseID string) (bool, error) {
	evs, err := st.Evidence(ctx, releaseID)
	if err != nil {
		return false, fmt.Errorf("read evidence of %s: %w", releaseID, err)
	}
	for _, e := range evs {
		if e.Kind != "Rollback" {
			continue
		}
		var doc struct {
			Data struct {
				Status string `json:"status"`
			} `json:"data"`
		}
		if err := json.Unmarshal(e.Body, &doc); err != nil {
			return false, fmt.Errorf("recorded evidence %s: %w", e.Digest, err)
		}
		if doc.Data.Status == Succeeded {
			return true, nil
		}
	}
	return false, nil
}

// Artifact is the build output a release was verified with, as its Build
// evidence recorded it.
type Artifact struct {
	Digest string
	Paths  []string
	// Build is the digest of the Build evidence that recorded it.
	Build string
}

// ErrNoArtifact means the target's Build evidence records no artifact:
// the fast rollback rebuilds.
var ErrNoArtifact = errors.New("no artifact recorded")

// VerifiedArtifact returns the artifact of the target's build: the last
// passed Build of the target release, at its commit, recorded before the
// verify decision that allowed it (so the one deployed and verified, not a
// later rebuild).
func VerifiedArtifact(ctx context.Context, st Store, t Target) (Artifact, error) {
	evs, err := st.Evidence(ctx, t.ReleaseID)
	if err != nil {
		return Artifact{}, fmt.Errorf("read evidence of %s: %w", t.ReleaseID, err)
	}
	var found *Artifact
	for _, e := range evs {
		if e.Kind != "Build" || e.Commit != t.Commit || (!t.VerifiedAt.IsZero() && e.AddedAt.After(t.VerifiedAt)) {
			continue
		}
		var doc struct {
			Data struct {
				Status   string `json:"status"`
				Artifact *struct {
					Digest string   `json:"digest"`
					Paths  []string `json:"paths"`
				} `json:"artifact"`
			} `json:"data"`
		}
		if err := json.Unmarshal(e.Body, &doc); err != nil {
			return Artifact{}, fmt.Errorf("recorded evidence %s: %w", e.Digest, err)
		}
		if doc.Data.Status != runner.BuildPassed {
			continue
		}
		// The last passed build counts, with or without an artifact.
		found = &Artifact{Build: e.Digest}
		if a := doc.Data.Artifact; a != nil && a.Digest != "" && len(a.Paths) > 0 {
			found.Digest, found.Paths = a.Digest, a.Paths
		}
	}
	switch {
	case found == nil:
		return Artifact{}, fmt.Errorf("%w: release %s has no passed Build at %s", ErrNoArtifact, t.ReleaseID, short(t.Commit))
	case found.Digest == "":
		return Artifact{}, fmt.Errorf("%w: the Build %s of release %s kept no build output", ErrNoArtifact, found.Build, t.ReleaseID)
	}
	return *found, nil
}

// Restorer puts a stored artifact back into a checkout (artifact.Store).
type Restorer interface {
	File(digest string) (string, error)
	Restore(digest, root string, paths []string) (artifact.Artifact, error)
}

var _ Restorer = (*artifact.Store)(nil)

// Plan is one rollback to carry out.
type Plan struct {
	Strategy string
	Trigger  string
	// FromCommit is what runs now (the checkout's HEAD).
	FromCommit string
	// Target is where a fast rollback goes; its zero value (with TargetErr)
	// when none was found. TargetErr set fails any rollback before its
	// first step: it also says why the rollback's ledger could not be
	// asked where or how to go (a server that did not answer).
	Target    Target
	TargetErr error
	// Artifact is the target's verified build output (fast only);
	// ArtifactErr says why there is none. Without one, the rollback
	// rebuilds.
	Artifact    Artifact
	ArtifactErr error
	// Flag and FlagsFile: the flag an emergency rollback turns off, in the
	// JSON flags file of the app.
	Flag, FlagsFile string
	// Build rebuilds the checkout (fast only) when the artifact cannot be
	// restored; Restart is the approved deploy command.
	Build, Restart []string
	// Output are the build output paths (relative to the checkout) whose
	// tree digest a fast rollback records once it has restored or rebuilt
	// them: what reconcile then expects to run. None records nothing.
	Output []string
	Reason string
}

// Step is one timed step of a rollback.
type Step struct {
	Name    string
	Command []string
	File    string
	Result  runner.Result
}

// Result is what a rollback did.
type Result struct {
	Plan                  Plan
	Status                string
	StartedAt, FinishedAt time.Time
	Duration              time.Duration
	Steps                 []Step
	// Notes say what the rollback did instead of the plan (a rebuild for
	// want of an artifact); the evidence's reason carries them.
	Notes []string
	// Artifact is the build output a fast rollback left in the checkout
	// (Plan.Output): its tree digest, and the archive it was restored
	// from; nil when there is none to record.
	Artifact *runner.Artifact
	// Err says why it failed; nil when it succeeded.
	Err error
}

// Checker reports the commit and cleanliness of the checkout after a fast
// rollback's checkout (collect/git in production).
type Checker func(dir string) (commit string, clean bool, err error)

// Rollbacker carries out rollback plans.
type Rollbacker struct {
	// Run runs each command; its Dir is the app's checkout.
	Run *runner.Runner
	// Check reads the checkout's state after the checkout step.
	Check Checker
	// Artifacts restores the target's build output; nil always rebuilds.
	Artifacts Restorer
	Now       func() time.Time
}

// Do carries out p, stopping at the first step that fails. It never
// returns without a Result: a failed rollback must be recorded too.
func (r *Rollbacker) Do(ctx context.Context, p Plan) Result {
	now := r.Now
	if now == nil {
		now = time.Now
	}
	res := Result{Plan: p, StartedAt: now()}
	res.Err = r.steps(ctx, p, &res, now)
	res.FinishedAt = now()
	res.Duration = max(res.FinishedAt.Sub(res.StartedAt), 0)
	res.Status = Succeeded
	if res.Err != nil {
		res.Status = Failed
	}
	return res
}

func (r *Rollbacker) steps(ctx context.Context, p Plan, res *Result, now func() time.Time) error {
	if p.TargetErr != nil {
		// Said first: with nowhere to go, the restart command is moot.
		return p.TargetErr
	}
	if len(p.Restart) == 0 {
		return errors.New("no approved deploy command to restart with (policy data services.<service>.deploy_commands)")
	}
	switch p.Strategy {
	case Fast:
		if p.TargetErr != nil {
			return p.TargetErr
		}
		if p.Target.Commit == "" {
			return ErrNoTarget
		}
		if err := r.command(ctx, res, "checkout", []string{"git", "checkout", "--detach", "--quiet", p.Target.Commit}); err != nil {
			return err
		}
		if r.Check != nil {
			head, clean, err := r.Check(r.Run.Dir)
			switch {
			case err != nil:
				return fmt.Errorf("after checkout: %w", err)
			case head != p.Target.Commit:
				return fmt.Errorf("after checkout, HEAD is %s, not %s", head, p.Target.Commit)
			case !clean:
				return fmt.Errorf("after checkout of %s, %s has uncommitted changes: the rollback would not run the verified code", short(p.Target.Commit), r.Run.Dir)
			}
		}
		restored, err := r.restore(p, res, now)
		if err != nil {
			return err
		}
		if !restored && len(p.Build) > 0 {
			if err := r.command(ctx, res, "build", p.Build); err != nil {
				return err
			}
		}
		r.output(p, res, restored)
	case Emergency:
		start := now()
		err := DisableFlag(p.FlagsFile, p.Flag)
		end := now()
		step := Step{Name: "disable-flag", File: p.FlagsFile, Result: runner.Result{StartedAt: start, FinishedAt: end, Duration: end.Sub(start), Tail: []string{}}}
		if err != nil {
			step.Result.ExitCode = 1
			step.Result.Tail = []string{err.Error()}
		}
		res.Steps = append(res.Steps, step)
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("strategy %q: want %s or %s", p.Strategy, Fast, Emergency)
	}
	return r.command(ctx, res, "restart", p.Restart)
}

// restore puts the target's verified artifact back, as the step
// "restore". It reports false when the rollback must rebuild instead: no
// artifact recorded (a note), or one that cannot be restored (the step,
// failed, says why). With no build command to fall back on, a failed
// restore fails the rollback: restarting would run whatever build output
// the checkout holds, not the verified one.
func (r *Rollbacker) restore(p Plan, res *Result, now func() time.Time) (bool, error) {
	a := p.Artifact
	switch {
	case a.Digest == "" && p.ArtifactErr != nil:
		res.Notes = append(res.Notes, fmt.Sprintf("rebuilt: %v", p.ArtifactErr))
		return false, nil
	case a.Digest == "":
		res.Notes = append(res.Notes, "rebuilt: no artifact of the target")
		return false, nil
	case r.Artifacts == nil:
		res.Notes = append(res.Notes, "rebuilt: no artifact store")
		return false, nil
	}
	start := now()
	file, ferr := r.Artifacts.File(a.Digest)
	if ferr != nil {
		file = a.Digest
	}
	got, err := r.Artifacts.Restore(a.Digest, r.Run.Dir, a.Paths)
	end := now()
	step := Step{Name: "restore", File: file, Result: runner.Result{StartedAt: start, FinishedAt: end, Duration: max(end.Sub(start), 0)}}
	if err == nil {
		step.Result.Tail = []string{fmt.Sprintf("restored %s from %s (%d bytes), recorded by Build %s",
			strings.Join(got.Paths, ", "), a.Digest, got.Size, a.Build)}
		res.Steps = append(res.Steps, step)
		return true, nil
	}
	step.Result.ExitCode = 1
	step.Result.Tail = []string{err.Error()}
	if len(p.Build) == 0 {
		res.Steps = append(res.Steps, step)
		return false, fmt.Errorf("restore: %w; and no build command to rebuild with", err)
	}
	step.Result.Tail = append(step.Result.Tail, "falling back to the build: "+strings.Join(p.Build, " "))
	res.Steps = append(res.Steps, step)
	res.Notes = append(res.Notes, fmt.Sprintf("rebuilt: the artifact %s could not be restored", a.Digest))
	return false, nil
}

// output records the tree digest of the build output the rollback left,
// so that reconcile can tell it from a later edit. One that cannot be
// read does not fail the rollback (the app may run without it); a note
// says why none is recorded.
func (r *Rollbacker) output(p Plan, res *Result, restored bool) {
	if len(p.Output) == 0 {
		return
	}
	tree, err := artifact.Tree(r.Run.Dir, p.Output)
	if err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("no digest of the build output recorded: %v", err))
		return
	}
	res.Artifact = &runner.Artifact{Tree: tree, Paths: slices.Clone(p.Output)}
	if restored {
		res.Artifact.Digest = p.Artifact.Digest
	}
}

func (r *Rollbacker) command(ctx context.Context, res *Result, name string, argv []string) error {
	out := r.Run.Run(ctx, argv)
	res.Steps = append(res.Steps, Step{Name: name, Command: argv, Result: out})
	switch {
	case out.Err != nil:
		return fmt.Errorf("%s: %w", name, out.Err)
	case out.ExitCode != 0:
		return fmt.Errorf("%s: %s exited %d", name, strings.Join(argv, " "), out.ExitCode)
	}
	return nil
}

// DisableFlag turns name off in the JSON flags file: true becomes false,
// and an object's "enabled" becomes false. A flag the file does not name,
// or a file that is not a JSON object, is an error: a rollback that
// changes nothing must not pass for one. The file is replaced atomically.
func DisableFlag(file, name string) error {
	if file == "" || name == "" {
		return errors.New("disable flag: no flags file or flag name")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read flags file: %w", err)
	}
	var flags map[string]json.RawMessage
	if err := json.Unmarshal(b, &flags); err != nil || flags == nil {
		return fmt.Errorf("flags file %s: want a JSON object of flag names: %v", file, err)
	}
	raw, ok := flags[name]
	if !ok {
		return fmt.Errorf("flags file %s: no flag %q (it has %s)", file, name, strings.Join(slices.Sorted(maps.Keys(flags)), ", "))
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("flags file %s: flag %q: %w", file, name, err)
	}
	switch x := v.(type) {
	case bool:
		v = false
	case map[string]any:
		x["enabled"] = false
	default:
		return fmt.Errorf("flags file %s, /%s: want true, false or an object with \"enabled\", got %s", file, name, raw)
	}
	nb, err := json.Marshal(v)
	if err != nil {
		return err
	}
	flags[name] = nb
	out, err := json.MarshalIndent(flags, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".flags-*.json")
	if err != nil {
		return fmt.Errorf("write flags file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(out, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write flags file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write flags file: %w", err)
	}
	if fi, err := os.Stat(file); err == nil {
		_ = os.Chmod(tmp.Name(), fi.Mode().Perm())
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("write flags file: %w", err)
	}
	return nil
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
