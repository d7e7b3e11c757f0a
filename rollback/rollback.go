// Package rollback takes a service back to a state that was verified, and
// describes what it did as a Rollback evidence document.
//
// A fast rollback returns the app's checkout to the commit of the newest
// release of the same service and environment whose verify gate allowed
// (Target reads it from the ledger), rebuilds it and restarts it with the
// approved deploy command. An emergency rollback turns a feature flag off
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

// Plan is one rollback to carry out.
type Plan struct {
	Strategy string
	Trigger  string
	// FromCommit is what runs now (the checkout's HEAD).
	FromCommit string
	// Target is where a fast rollback goes; its zero value (with TargetErr)
	// when none was found.
	Target    Target
	TargetErr error
	// Flag and FlagsFile: the flag an emergency rollback turns off, in the
	// JSON flags file of the app.
	Flag, FlagsFile string
	// Build rebuilds the checkout (fast only); Restart is the approved
	// deploy command.
	Build, Restart []string
	Reason         string
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
	Now   func() time.Time
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
		if len(p.Build) > 0 {
			if err := r.command(ctx, res, "build", p.Build); err != nil {
				return err
			}
		}
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
