package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/artifact"
	"github.com/localizevideos/shipgate/collect/git"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/rollback"
	"github.com/localizevideos/shipgate/runner"
)

// RollbackRequest says how to roll a release back.
type RollbackRequest struct {
	// Release is the release rolled back, completed from its Plans.
	Release engine.Release
	// Emergency turns Flag off in FlagsFile (default Dir/flags.json)
	// instead of going back to the last verified release.
	Emergency       bool
	Flag, FlagsFile string
	Trigger, Reason string
	Build           []string
	Dir             string
	MainBranches    []string
	// Artifacts opens the artifact store; an error means a rebuild. With
	// Rebuild, the target's artifact is not restored.
	Artifacts func() (*artifact.Store, error)
	Rebuild   bool
	// OutputPaths are the configured build output, recorded by tree
	// digest when the target's artifact names none.
	OutputPaths func() ([]string, error)
	// Env is the envelope of the Rollback (its release, repository and
	// commit are filled in here).
	Env    runner.Envelope
	Signer *evidence.Signer
	// Log receives the progress and the output of the commands.
	Log io.Writer
	Now func() time.Time
}

// RollbackOutcome is a rollback that ran and was recorded.
type RollbackOutcome struct {
	Plan   rollback.Plan
	Result rollback.Result
	// Doc is the recorded Rollback document; nil when it could not be
	// recorded.
	Doc *evidence.Document
	// Deployed names the release's deploy duration (DeployDuration).
	Deployed string
}

// Rollback rolls req.Release back and records it in b; it is never gated.
// From the moment it starts, whatever fails is recorded as a failed
// Rollback: an error with an outcome is a rollback that ran but could
// not be recorded; an error without one stopped it before it ran.
func Rollback(ctx context.Context, b Backend, req RollbackRequest) (*RollbackOutcome, error) {
	rel := req.Release
	p := rollback.Plan{Strategy: rollback.Fast, Trigger: req.Trigger, Reason: req.Reason, Build: req.Build}
	if req.Emergency {
		p.Strategy, p.Flag, p.FlagsFile = rollback.Emergency, req.Flag, req.FlagsFile
		if p.FlagsFile == "" {
			p.FlagsFile = filepath.Join(req.Dir, "flags.json")
		}
	}
	b.RollbackPlan(ctx, rel, &p)
	repo := rel.Repository
	facts, ferr := git.Collect(req.Dir, req.MainBranches)
	if ferr == nil {
		p.FromCommit = facts.Commit
		if repo == "" {
			repo = facts.Repository
		}
	}
	if ferr != nil && p.Strategy == rollback.Fast {
		// The checkout cannot be read: going back to a commit there would
		// be blind. (An emergency rollback only needs the flags file.)
		p.TargetErr = ferr
	}
	var arts *artifact.Store
	if p.Strategy == rollback.Fast && p.TargetErr == nil {
		fmt.Fprintf(req.Log, "shipgate: rollback of %s: back to release %s @ %s (verify allowed it in %s)\n",
			rel.ID, p.Target.ReleaseID, ShortHex(p.Target.Commit), p.Target.Decision)
		var err error
		switch arts, err = req.Artifacts(); {
		case err != nil:
			// A rollback is never stopped by its settings: it rebuilds.
			arts, p.Artifact, p.ArtifactErr = nil, rollback.Artifact{}, fmt.Errorf("artifact store: %w", err)
		case req.Rebuild:
			p.Artifact, p.ArtifactErr = rollback.Artifact{}, errors.New("--rebuild asked for a rebuild")
		}
		if p.ArtifactErr == nil {
			fmt.Fprintf(req.Log, "shipgate: restoring its verified build output %s from %s\n", strings.Join(p.Artifact.Paths, ", "), p.Artifact.Digest)
		}
		// What the rollback leaves is recorded by its tree digest, for
		// reconcile: the target's recorded paths, else the configured ones.
		p.Output = p.Artifact.Paths
		if len(p.Output) == 0 && req.OutputPaths != nil {
			p.Output, _ = req.OutputPaths()
		}
	}
	env := req.Env
	env.ReleaseID, env.Service, env.Environment, env.Repository, env.Commit = rel.ID, rel.Service, rel.Environment, repo, rel.Commit
	// Check the envelope before running anything it could not record.
	if _, err := rollback.Evidence(env, rollback.Result{Plan: p}); err != nil {
		return nil, err
	}

	rb := &rollback.Rollbacker{Run: &runner.Runner{Stdout: req.Log, Stderr: req.Log, Dir: req.Dir, Now: req.Now}, Now: req.Now,
		Check: func(dir string) (string, bool, error) {
			f, err := git.Collect(dir, req.MainBranches)
			return f.Commit, f.Clean, err
		}}
	if arts != nil {
		rb.Artifacts = arts
	}
	out := &RollbackOutcome{Plan: p, Result: rb.Do(ctx, p)}

	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RecordTimeout)
	defer cancel()
	doc, err := RollbackDoc(rctx, b.Validator(), req.Signer, env, out.Result)
	if err == nil {
		_, err = b.AddEvidence(rctx, time.Time{}, []*evidence.Document{doc})
	}
	if err != nil {
		return out, fmt.Errorf("the rollback %s, but its Rollback evidence could not be recorded: %w", out.Result.Status, err)
	}
	out.Doc, out.Deployed = doc, b.DeployDuration(ctx, rel)
	return out, nil
}

// RollbackDoc builds and validates the Rollback document of res, sealed in
// a DSSE envelope when signer is not nil.
func RollbackDoc(ctx context.Context, v *evidence.Validator, signer *evidence.Signer, env runner.Envelope, res rollback.Result) (*evidence.Document, error) {
	b, err := rollback.Evidence(env, res)
	if err != nil {
		return nil, err
	}
	var doc *evidence.Document
	if signer != nil {
		doc, err = Seal(ctx, v, signer, "shipgate rollback", b)
	} else {
		doc, err = v.Decode("shipgate rollback", b)
	}
	if err != nil {
		return nil, fmt.Errorf("rollback evidence: %w", err)
	}
	return doc, nil
}
