package project

import (
	"cmp"
	"context"
	"errors"
	"time"

	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/replay"
	"github.com/localizevideos/shipgate/report"
)

// AuditReport is an audit report a command asks for: its period and
// filters (Options), the signed checkpoint file to verify the ledger
// against with its public key (Settings.ReadCheckpoint), and the policy
// set, evidence checks and ledger it reads.
type AuditReport struct {
	report.Options
	CheckpointFile, PublicKey string
	Policy                    *Policy
	Ev                        *Evidence
	// Store is the ledger; its Settings read the checkpoint.
	Store *Store
}

// Build reads the checkpoint, loads the policies (whose rule catalog
// titles the rules, except a bundle's, whose titles come from the findings
// only) and the validator, and builds the report of the ledger, opened
// for reading (report.Build).
func (o AuditReport) Build(ctx context.Context) (*report.Report, error) {
	cp, _, err := o.Store.Settings.ReadCheckpoint(o.CheckpointFile, o.PublicKey)
	if err != nil {
		return nil, err
	}
	eng, err := o.Policy.Engine(ctx)
	if err != nil {
		return nil, err
	}
	rules := eng.Catalog()
	if o.Policy.Bundle != "" { // a bundle's rule titles come from the findings only
		rules = nil
	}
	v, err := o.Ev.Validator()
	if err != nil {
		return nil, err
	}
	db, err := o.Store.OpenReadOnly(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ro := o.Options
	ro.Checkpoint, ro.Rules, ro.Engine, ro.Validator = cp, rules, eng, v
	return report.Build(ctx, db, ro)
}

// Change names the two sides of a policy change: a base (a directory or
// a git revision of the policy folder), a head directory, and the release
// document rollout data changes must update (--base, --head, --docs).
type Change struct {
	Base     string
	Head     string
	Docs     string
	Settings *Settings
}

// Resolve reads both policy trees (replay.OpenSides), the head and the
// release document defaulting to the config's.
func (o *Change) Resolve() (*replay.Sides, error) {
	if o.Base == "" {
		return nil, errors.New("--base is required: a directory or a git revision")
	}
	cfg, err := o.Settings.Config()
	if err != nil {
		return nil, err
	}
	return replay.OpenSides(o.Base, cmp.Or(o.Head, cfg.Policies), policies.FS, cmp.Or(o.Docs, cfg.Docs))
}

// PolicyDiff replays the decisions of the ledger of st under both sides
// of sd (replay.PolicyDiff): the sides' ownership of rollout data, their
// engines (each evaluation limited by timeout, the config's people being
// who they are on both sides), and the default evidence validator. start
// is told how many decisions there are.
func PolicyDiff(ctx context.Context, sd *replay.Sides, st *Store, timeout time.Duration, o replay.Options, start func(total int)) (replay.DiffReport, error) {
	doc, err := sd.Ownership()
	if err != nil {
		return replay.DiffReport{}, err
	}
	people, err := st.Settings.People()
	if err != nil {
		return replay.DiffReport{}, err
	}
	eng, err := sd.Load(ctx, timeout, people)
	if err != nil {
		return replay.DiffReport{}, err
	}
	if o.Validator, err = (&Evidence{}).Validator(); err != nil {
		return replay.DiffReport{}, err
	}
	db, err := st.OpenReadOnly(ctx)
	if err != nil {
		return replay.DiffReport{}, err
	}
	defer db.Close()
	return replay.PolicyDiff(ctx, db, sd, eng, doc, o, start)
}
