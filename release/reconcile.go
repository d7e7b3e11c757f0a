package release

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/localizevideos/shipgate/collect/git"
	"github.com/localizevideos/shipgate/collect/pm2"
	"github.com/localizevideos/shipgate/reconcile"
	"github.com/localizevideos/shipgate/store"
)

// PM2Request asks whether what a pm2 app runs is what the ledger says was
// deployed (shipgate reconcile pm2).
type PM2Request struct {
	PM2 *pm2.Client
	App string
	// Dir is the directory whose git state and build output count;
	// empty is the process's working directory.
	Dir          string
	MainBranches []string
	// Request carries the rest: the service, environment, release, build
	// output, actor, time, tolerance and postmortem due time. Its process,
	// git facts and directory are filled in here.
	Request reconcile.Request
}

// PM2Reconciled is a reconcile recorded.
type PM2Reconciled struct {
	Process pm2.Process
	Dir     string
	Facts   git.Facts
	Record  *reconcile.Record
}

// ReconcilePM2 reads the app's process and the git state of its
// directory, then opens the ledger and records the reconcile there
// (reconcile.Check): drift opens violations. What cannot be observed is
// an error, never clean.
func ReconcilePM2(ctx context.Context, open func(context.Context) (store.Store, error), req PM2Request) (*PM2Reconciled, error) {
	proc, err := req.PM2.Find(ctx, req.App)
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	dir := req.Dir
	if dir == "" {
		dir = proc.Cwd
	}
	if dir == "" {
		return nil, fmt.Errorf("reconcile: pm2 gives no working directory for %s: give --dir", req.App)
	}
	facts, err := git.Collect(dir, req.MainBranches)
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	db, err := open(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	r := req.Request
	r.Process, r.Git, r.Dir = proc, facts, dir
	rec, err := reconcile.Check(ctx, db, r)
	if err != nil {
		return nil, err
	}
	return &PM2Reconciled{Process: proc, Dir: dir, Facts: facts, Record: rec}, nil
}

// PM2Home is the PM2_HOME of the daemon to ask: flag, else $PM2_HOME,
// else ~/.pm2 (none without $HOME), read through getenv.
func PM2Home(flag string, getenv func(string) string) string {
	if flag != "" {
		return flag
	}
	if h := getenv("PM2_HOME"); h != "" {
		return h
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".pm2")
	}
	return ""
}
