package console

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/watch"
)

// Recorded writes to log what a step (run build, run deploy) recorded:
// its kind and status, release, commit, digest and signers.
func Recorded(log io.Writer, r *release.Recorded) error {
	doc := r.Doc
	status, _ := doc.Value["data"].(map[string]any)["status"].(string)
	_, err := fmt.Fprintf(log, "shipgate: recorded %s %s for release %s @ %s: %s\nshipgate: signed by %s (DSSE envelope kept in the ledger)\n",
		r.Kind, status, doc.ReleaseID, release.ShortHex(doc.Commit), doc.Digest, strings.Join(doc.SignedBy, ", "))
	return err
}

// RolledBack writes a rollback of release id: what was recorded and its
// notes to log, the one-line outcome to out, and to log again why it
// failed, if it did.
func RolledBack(log, out io.Writer, id string, o *release.RollbackOutcome) error {
	res, doc := o.Result, o.Doc
	var b strings.Builder
	fmt.Fprintf(&b, "shipgate: recorded Rollback %s (%s) for release %s: %s\n", res.Status, o.Plan.Strategy, id, doc.Digest)
	if len(doc.SignedBy) > 0 {
		fmt.Fprintf(&b, "shipgate: signed by %s (DSSE envelope kept in the ledger)\n", strings.Join(doc.SignedBy, ", "))
	}
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "shipgate: %s\n", n)
	}
	_, err := io.WriteString(log, b.String())
	if _, werr := fmt.Fprintf(out, "rollback %s %s: %s in %.3fs%s\n", o.Plan.Strategy, res.Status, id, res.Duration.Seconds(), o.Deployed); err == nil {
		err = werr
	}
	if res.Err != nil {
		if _, werr := fmt.Fprintf(log, "shipgate: rollback failed: %v\n", res.Err); err == nil {
			err = werr
		}
	}
	return err
}

// Held writes a Hold of release id recorded (placed with reason, or
// lifted), and how it counts: its signers, or the server's word.
func Held(w io.Writer, h *release.HoldResult, id string, lift bool, reason string) error {
	// A server records the Hold as the token's person; locally it counts
	// because its signer is bound to the holder.
	how := "signed by " + strings.Join(h.SignedBy, ", ")
	if len(h.SignedBy) == 0 {
		how = "recorded by the server for " + h.By
	}
	var err error
	switch {
	case lift && h.Before == nil:
		_, err = fmt.Fprintf(w, "lifted: %s had no hold; recorded anyway (%s, %s)\n", id, h.Digest, how)
	case lift:
		_, err = fmt.Fprintf(w, "lifted: %s lifted %s's hold on %s; automated rollback applies again (%s, %s)\n", h.By, h.Before.By, id, h.Digest, how)
	default:
		_, err = fmt.Fprintf(w, "held: %s holds %s (%s); a breach only alerts until the hold is lifted (%s, %s)\n", h.By, id, reason, h.Digest, how)
	}
	return err
}

// Reconciled writes a reconcile of the pm2 app of rel's service and
// environment: the process, the checkout, clean or DRIFT, what explained
// the process's start, the build output as deployed, each finding with
// its fix, and what was recorded and opened.
func Reconciled(w io.Writer, app string, rel engine.Release, r *release.PM2Reconciled) error {
	rec, proc := r.Record, r.Process
	state := "clean"
	if !rec.Allow {
		state = "DRIFT"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "reconcile pm2 %s (%s/%s, pid %d, restarts %d, started %s) at %s in %s: %s\n",
		app, rel.Service, rel.Environment, proc.PID, proc.Restarts, proc.StartedAt.Format(time.RFC3339), release.ShortHex(r.Facts.Commit), r.Dir, state)
	if e := rec.Observed.Explained; e != nil {
		fmt.Fprintf(&b, "  started during the %s of release %s (%s)\n", e.Kind, e.Release, e.Evidence)
	}
	if out := rec.Observed.Output; out != nil && out.Tree != "" && out.Tree == out.Expected {
		fmt.Fprintf(&b, "  build output %s is as deployed (tree %s)\n", strings.Join(out.Paths, ", "), out.Tree)
	}
	for _, f := range rec.Violations {
		fmt.Fprintf(&b, "  %s: %s\n    fix: %s\n", f.Rule, f.Message, f.Remediation)
	}
	fmt.Fprintf(&b, "  recorded %s", rec.ID)
	for _, id := range rec.Opened {
		fmt.Fprintf(&b, ", opened violation %s", id)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WatchDenied writes to log why a watched window of release id does not
// complete the release (a breach and what became of its rollback, no
// data, or a complete gate that denied) and reports whether it does not;
// it writes nothing for a healthy window the gate allowed.
func WatchDenied(log io.Writer, id string, out *release.Watched) bool {
	switch out.Result.Status {
	case watch.Breach:
		msg := "rollback required"
		switch out.Outcome.Rollback {
		case watch.RollbackRan:
			msg = "rolled back automatically"
		case watch.RollbackHeld:
			by := "nobody"
			if h := out.Outcome.Hold; h != nil {
				by = h.By
			}
			msg = fmt.Sprintf("rollback required (held by %s: decide now)", by)
		}
		fmt.Fprintf(log, "shipgate: %s breached (%s): %s\n", id, strings.Join(out.Result.Breached(), ", "), msg)
		return true
	case watch.NoData:
		fmt.Fprintf(log, "shipgate: %s: no data for its safety signals, and no data is not healthy: the release is not complete\n", id)
		return true
	}
	if !out.Decision.Allow {
		fmt.Fprintf(log, "shipgate: complete denied\n")
		return true
	}
	return false
}
