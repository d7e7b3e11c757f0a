package replay

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/localizevideos/shipgate/engine"
)

// Sides are the two policy trees of a policy change: a base (a directory,
// or a git revision of the head's folder) and a head directory.
type Sides struct {
	Base, Head           fs.FS
	BaseLabel, HeadLabel string
	// Repo and Rev are set when the base is a git revision.
	Repo *Repo
	Rev  string
	// Docs is the release document that rollout data changes must update.
	Docs string
}

// OpenSides reads both policy trees. head is a directory, or "" for
// embedded (the built-in policy set). The base is a directory when one
// exists at that path, else a revision of the git repository holding the
// head folder ("policies" when the head is the embedded set).
func OpenSides(base, head string, embedded fs.FS, docs string) (*Sides, error) {
	if base == "" {
		return nil, errors.New("--base is required: a directory or a git revision")
	}
	sd := &Sides{Docs: docs}
	if head == "" {
		sd.Head, sd.HeadLabel = embedded, "embedded policies"
	} else {
		sd.Head, sd.HeadLabel = os.DirFS(head), head
	}
	if fi, err := os.Stat(base); err == nil && fi.IsDir() {
		sd.Base, sd.BaseLabel = os.DirFS(base), base
		return sd, nil
	}
	folder := head
	if folder == "" {
		folder = "policies"
	}
	from := folder
	if _, err := os.Stat(from); err != nil {
		from = "."
	}
	var err error
	if sd.Repo, err = OpenRepo(from); err != nil {
		return nil, fmt.Errorf("--base %s is not a directory, so a git revision: %w", base, err)
	}
	if sd.Base, err = sd.Repo.Tree(base, folder); err != nil {
		return nil, err
	}
	sd.Rev, sd.BaseLabel = base, base+":"+folder
	return sd, nil
}

// Ownership checks the release document against the rollout data the
// change touches (CheckOwnership).
func (sd *Sides) Ownership() (Ownership, error) {
	return CheckOwnership(sd.Base, sd.Head, sd.Repo, sd.Rev, sd.Docs)
}

// DiffReport is what `shipgate policy diff` reports: the two sides, the
// decisions that change, and the release document's ownership check.
type DiffReport struct {
	Base string `json:"base"`
	Head string `json:"head"`
	Report
	Documentation Ownership `json:"documentation"`
}

// Engines are the compiled policy sets of both sides.
type Engines struct{ Base, Head *engine.Engine }

// Load compiles both sides, each with its own data, binding people (the
// config's people and their key ids, the same on both sides).
func (sd *Sides) Load(ctx context.Context, timeout time.Duration, people map[string][]string) (Engines, error) {
	base, err := engine.Load(ctx, engine.Options{Policies: sd.Base, Timeout: timeout, People: people})
	if err != nil {
		return Engines{}, fmt.Errorf("base policies %s: %w", sd.BaseLabel, err)
	}
	head, err := engine.Load(ctx, engine.Options{Policies: sd.Head, Timeout: timeout, People: people})
	if err != nil {
		return Engines{}, fmt.Errorf("head policies %s: %w", sd.HeadLabel, err)
	}
	return Engines{Base: base, Head: head}, nil
}

// PolicyDiff replays the decisions of src through both sides' engines,
// each at the decision's recorded time, and reports every decision that
// changes, with doc (the sides' Ownership). start, when set, is called
// with the number of evaluations to come (opts.Progress counts them) once
// the decisions are loaded.
func PolicyDiff(ctx context.Context, src Source, sd *Sides, eng Engines, doc Ownership, opts Options, start func(total int)) (DiffReport, error) {
	h, err := Load(ctx, src, opts)
	if err != nil {
		return DiffReport{}, err
	}
	if start != nil {
		start(2 * h.Len())
	}
	base, err := h.Replay(ctx, eng.Base)
	if err != nil {
		return DiffReport{}, err
	}
	head, err := h.ReplayHead(ctx, base, eng.Base, eng.Head)
	if err != nil {
		return DiffReport{}, err
	}
	rep := DiffReport{Base: sd.BaseLabel, Head: sd.HeadLabel, Report: Diff(base, head), Documentation: doc}
	if rep.BaseRevision == "" {
		rep.BaseRevision, rep.HeadRevision = eng.Base.Revision(), eng.Head.Revision()
	}
	return rep, nil
}
