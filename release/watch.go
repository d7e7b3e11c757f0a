package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/signals"
	"github.com/localizevideos/shipgate/watch"
)

// WatchRequest asks for a watch of a deployed release's safety signals.
type WatchRequest struct {
	// Release is the release, completed from its Plans; Env the envelope
	// of its Monitoring.
	Release engine.Release
	Env     runner.Envelope
	Signer  *evidence.Signer
	Signals *signals.Set
	Sources *signals.Sources
	// Window, Interval and BaselineOffset are as in watch.Watcher;
	// BaselineFrom names a release (or LastCompleted) whose recorded
	// Monitoring gives the baselines instead (a local ledger only).
	Window, Interval, BaselineOffset time.Duration
	BaselineFrom                     string
	// AutoRollback runs Rollback on a breach unless a human holds the
	// release; the policy must allow it. Webhook receives the alerts.
	AutoRollback bool
	Rollback     func(context.Context) error
	Webhook      string
	// Log receives the progress, redrawn in place when Live.
	Log  io.Writer
	Live bool
	Now  func() time.Time
}

// Watched is a window watched and recorded, and the complete gate asked.
type Watched struct {
	Result  *watch.Result
	Doc     *evidence.Document
	Outcome watch.Outcome
	// Interrupted is why the watch stopped early (recorded as no data);
	// the gate is then not asked.
	Interrupted error
	// Decision is the complete gate's, nil when it was not asked or could
	// not decide.
	Decision *engine.Decision
}

// ErrBaselineFromRemote refuses recorded baselines on a server: they are
// read from other releases' Monitoring, which a pipeline token cannot.
var ErrBaselineFromRemote = errors.New("--baseline-from with --server: it reads other releases' Monitoring from the ledger, which a pipeline token cannot; give the baselines in the signals file, or --baseline-offset")

// RefusedError is an automated rollback the policy refuses: nothing was
// watched.
type RefusedError struct{ Refused []engine.Finding }

// Error lists the refusals with their remediations.
func (e *RefusedError) Error() string {
	msgs := make([]string, len(e.Refused))
	for i, v := range e.Refused {
		msgs[i] = fmt.Sprintf("%s: %s (%s)", v.Rule, v.Message, v.Remediation)
	}
	return "--auto-rollback refused by the policy: " + strings.Join(msgs, "; ")
}

// Watch samples the release's safety signals for the window, records the
// window as a signed Monitoring in b, responds to a breach (alerts, and
// the automated rollback unless held) and asks the complete gate. An
// error without an outcome stopped it before anything was recorded (a
// *RefusedError among them); one with an outcome is the gate's.
func Watch(ctx context.Context, b Backend, req WatchRequest) (*Watched, error) {
	rel := req.Release
	if req.AutoRollback {
		// Asked before anything is watched.
		refused, err := b.AutoRollbackRefusals(ctx, req.Env, rel, req.Window, req.Now())
		if err != nil {
			return nil, err
		}
		if len(refused) > 0 {
			return nil, &RefusedError{Refused: refused}
		}
		fmt.Fprintf(req.Log, "shipgate: automated rollback allowed for %s by the policy\n", rel.Service)
	}
	var base Baselines
	if req.BaselineFrom != "" {
		l, ok := b.(*Local)
		if !ok {
			return nil, ErrBaselineFromRemote
		}
		var err error
		if base, err = RecordedBaselines(ctx, l.Store, b.Validator(), req.Signals, rel, req.BaselineFrom); err != nil {
			return nil, err
		}
		fmt.Fprintf(req.Log, "shipgate: baselines from the Monitoring of %s (%s), medians of its samples: %s\n", base.From.Release, base.From.Monitoring, base.String(req.Signals))
	}
	webhook := req.Webhook
	if webhook == "" {
		webhook = req.Signals.Webhook
	}
	r := &watch.Responder{
		Release:      watch.Release{ID: rel.ID, Service: rel.Service, Environment: rel.Environment},
		AutoRollback: req.AutoRollback, Webhook: webhook, Out: req.Log, Clock: watch.SystemClock{},
		Hold: func(ctx context.Context) (*watch.Hold, error) {
			h, err := b.CurrentHold(ctx, rel)
			if err != nil || h == nil {
				return nil, err
			}
			return &watch.Hold{By: h.By, Reason: h.Reason, At: h.At, Digest: h.Digest}, nil
		},
		Rollback: req.Rollback,
	}
	w := &watch.Watcher{Signals: req.Signals, Sources: req.Sources, Window: req.Window, Interval: req.Interval,
		BaselineOffset: req.BaselineOffset, Baselines: base.Values, BaselinesFrom: base.From, Clock: watch.SystemClock{}, Progress: req.Log, Live: req.Live,
		// A failing webhook is printed by Notify and stops nothing.
		OnEvent: func(ctx context.Context, e watch.Event) { _ = r.Notify(ctx, e) }}
	fmt.Fprintf(req.Log, "shipgate: watching %s (%s %s) for %s, every %s: %d signals\n", rel.ID, rel.Service, rel.Environment,
		req.Window, req.Interval, len(req.Signals.Signals))
	res, runErr := w.Run(ctx)
	if res == nil {
		return nil, runErr
	}
	// What was watched is recorded and acted on even after Ctrl-C.
	ctx = context.WithoutCancel(ctx)
	doc, recErr := RecordMonitoring(ctx, b, req.Signer, req.Env, res, req.AutoRollback, req.Now())
	if recErr == nil {
		fmt.Fprintf(req.Log, "shipgate: recorded Monitoring %s for release %s: %s, signed by %s\n", res.Status, rel.ID, doc.Digest, strings.Join(doc.SignedBy, ", "))
	}
	out := &Watched{Result: res, Doc: doc, Outcome: r.Respond(ctx, res), Interrupted: runErr}
	if recErr != nil {
		return nil, recErr
	}
	if runErr != nil {
		return out, nil
	}
	var err error
	out.Decision, err = b.Decide(ctx, gate.Request{Gate: "complete", Release: rel, Actor: req.Env.Actor, Now: req.Now().UTC()})
	return out, err
}
