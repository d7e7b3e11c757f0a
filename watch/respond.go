package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Rollback outcomes.
const (
	// RollbackNotNeeded: the window did not breach.
	RollbackNotNeeded = "not-needed"
	// RollbackManual: a breach, but automated rollback was not asked for.
	RollbackManual = "manual"
	// RollbackRan: the rollback ran and succeeded.
	RollbackRan = "ran"
	// RollbackFailed: the rollback ran and failed.
	RollbackFailed = "failed"
	// RollbackHeld: a human holds the release; only alerted.
	RollbackHeld = "held"
	// RollbackHoldUnknown: the holds could not be read, so automation
	// stood back and only alerted.
	RollbackHoldUnknown = "hold-unknown"
)

// Hold is a human's hold on automated rollback of a release (what
// rollback.RecordedHold reads from a ledger).
type Hold struct {
	By, Reason string
	At         time.Time
	// Digest is the Hold evidence that placed it.
	Digest string
}

// Release names the watched release in alerts.
type Release struct {
	ID, Service, Environment string
}

// Responder acts on a watched window.
type Responder struct {
	Release Release
	// AutoRollback runs Rollback on a breach unless Hold finds a hold.
	AutoRollback bool
	Rollback     func(ctx context.Context) error
	// Hold returns the hold in force, nil when none. An error means the
	// holds are unknown: the rollback is then not run automatically.
	Hold func(ctx context.Context) (*Hold, error)
	// Webhook, when set, receives every alert as a JSON POST.
	Webhook string
	// Client posts alerts; nil is a client with a 10s timeout.
	Client *http.Client
	// Out receives the alerts and what became of them.
	Out   io.Writer
	Clock Clock
}

// Outcome is what Respond did.
type Outcome struct {
	Rollback string
	// RollbackErr is the failed rollback's error.
	RollbackErr error
	Hold        *Hold
	// HoldErr is why the holds could not be read.
	HoldErr error
	Alert   *Alert
	// AlertErr is the webhook's failure; it never changes the outcome.
	AlertErr error
}

// Alert is the notification sent on a breach or no data: a Slack-compatible
// body ("text") with the facts as fields. Event is breach or no-data for a
// window that ended (with Rollback), and signal-no-data or
// signal-data-returned while the watch runs (Window.End is then the time
// of the reading, and Rollback is empty).
type Alert struct {
	Text        string        `json:"text"`
	Event       string        `json:"event"`
	Release     string        `json:"release"`
	Service     string        `json:"service,omitempty"`
	Environment string        `json:"environment,omitempty"`
	Window      AlertWindow   `json:"window"`
	Signals     []AlertSignal `json:"signals"`
	Rollback    string        `json:"rollback,omitempty"`
	Hold        *AlertHold    `json:"hold,omitempty"`
	At          time.Time     `json:"at"`
}

// AlertWindow is the watched window in an alert.
type AlertWindow struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// AlertSignal is one signal that is not healthy.
type AlertSignal struct {
	Name      string   `json:"name"`
	Status    string   `json:"status"`
	Observed  *float64 `json:"observed,omitempty"`
	Baseline  *float64 `json:"baseline,omitempty"`
	Condition string   `json:"condition"`
	Message   string   `json:"message,omitempty"`
}

// AlertHold is the hold that stopped an automated rollback.
type AlertHold struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Respond acts on res: on a breach it rolls back (when AutoRollback and no
// hold) and alerts; on no data it alerts; a healthy window needs nothing.
// The rollback runs before the alert is sent, so a slow webhook never
// delays it, and the alert says how it went.
func (r *Responder) Respond(ctx context.Context, res *Result) Outcome {
	out := Outcome{Rollback: RollbackNotNeeded}
	if res.Status == Healthy {
		return out
	}
	if res.Status == Breach {
		out.Rollback = RollbackManual
		if r.AutoRollback {
			r.rollback(ctx, &out)
		}
	}
	a := r.alert(res, out)
	out.Alert = a
	fmt.Fprintf(r.Out, "shipgate: ALERT %s\n", a.Text)
	if r.Webhook != "" {
		if err := r.post(ctx, a); err != nil {
			out.AlertErr = err
			fmt.Fprintf(r.Out, "shipgate: the alert webhook failed: %v (the %s stands)\n", err, res.Status)
		} else {
			fmt.Fprintf(r.Out, "shipgate: alert sent to the webhook\n")
		}
	}
	return out
}

// Notify alerts e, an event of a watch still running: printed on Out and
// posted to Webhook. It returns the webhook's failure, which is also
// printed and changes nothing else.
func (r *Responder) Notify(ctx context.Context, e Event) error {
	a := &Alert{Event: e.Kind, Release: r.Release.ID, Service: r.Release.Service, Environment: r.Release.Environment,
		Window: AlertWindow{Start: e.Start.UTC(), End: e.At.UTC()}, At: r.now().UTC()}
	s := AlertSignal{Name: e.Signal, Observed: e.Observed, Message: e.Message}
	svc := r.Release.ID
	if r.Release.Service != "" {
		svc = fmt.Sprintf("%s (%s %s)", r.Release.ID, r.Release.Service, r.Release.Environment)
	}
	since := "since the watch started"
	if !e.Since.Equal(e.Start) {
		since = fmt.Sprintf("since %s into the window", e.Since.Sub(e.Start).Truncate(time.Second))
	}
	switch e.Kind {
	case EventNoData:
		s.Status = NoData
		a.Text = fmt.Sprintf("release %s: %s has had no data %s (%s), and no data is not healthy: %s; the watch goes on",
			svc, e.Signal, since, e.At.Sub(e.Since).Truncate(time.Second), e.Message)
	case EventDataReturned:
		s.Status = Healthy
		v := "-"
		if e.Observed != nil {
			v = format(*e.Observed)
		}
		a.Text = fmt.Sprintf("release %s: %s has data again (%s), after %s without; the watch goes on",
			svc, e.Signal, v, e.At.Sub(e.Since).Truncate(time.Second))
	default:
		return fmt.Errorf("notify: unknown event %q", e.Kind)
	}
	a.Signals = []AlertSignal{s}
	fmt.Fprintf(r.Out, "shipgate: ALERT %s\n", a.Text)
	if r.Webhook == "" {
		return nil
	}
	if err := r.post(ctx, a); err != nil {
		fmt.Fprintf(r.Out, "shipgate: the alert webhook failed: %v\n", err)
		return err
	}
	fmt.Fprintf(r.Out, "shipgate: alert sent to the webhook\n")
	return nil
}

func (r *Responder) now() time.Time {
	if r.Clock != nil {
		return r.Clock.Now()
	}
	return time.Now()
}

func (r *Responder) rollback(ctx context.Context, out *Outcome) {
	if r.Hold == nil {
		out.Rollback, out.HoldErr = RollbackHoldUnknown, fmt.Errorf("no way to read holds")
		return
	}
	h, err := r.Hold(ctx)
	switch {
	case err != nil:
		out.Rollback, out.HoldErr = RollbackHoldUnknown, err
		fmt.Fprintf(r.Out, "shipgate: cannot read the holds of %s (%v): the rollback is not run automatically\n", r.Release.ID, err)
		return
	case h != nil:
		out.Rollback, out.Hold = RollbackHeld, h
		fmt.Fprintf(r.Out, "shipgate: %s holds %s (%s): the rollback is not run automatically\n", h.By, r.Release.ID, h.Reason)
		return
	case r.Rollback == nil:
		out.Rollback, out.RollbackErr = RollbackFailed, fmt.Errorf("no rollback configured")
		return
	}
	fmt.Fprintf(r.Out, "shipgate: rolling back %s automatically\n", r.Release.ID)
	if err := r.Rollback(ctx); err != nil {
		out.Rollback, out.RollbackErr = RollbackFailed, err
		fmt.Fprintf(r.Out, "shipgate: the automated rollback of %s failed: %v\n", r.Release.ID, err)
		return
	}
	out.Rollback = RollbackRan
}

func (r *Responder) alert(res *Result, out Outcome) *Alert {
	now := r.now()
	a := &Alert{Event: res.Status, Release: r.Release.ID, Service: r.Release.Service, Environment: r.Release.Environment,
		Window: AlertWindow{Start: res.Start.UTC(), End: res.End.UTC()}, Signals: []AlertSignal{}, Rollback: out.Rollback, At: now.UTC()}
	var parts []string
	for _, s := range res.Signals {
		if s.Status == Healthy {
			continue
		}
		a.Signals = append(a.Signals, AlertSignal{Name: s.Name, Status: s.Status, Observed: s.Observed, Baseline: s.Baseline,
			Condition: s.Condition, Message: s.Message})
		parts = append(parts, fmt.Sprintf("%s %s (%s)", s.Name, s.Status, s.Message))
	}
	if out.Hold != nil {
		a.Hold = &AlertHold{By: out.Hold.By, Reason: out.Hold.Reason, At: out.Hold.At.UTC()}
	}
	what := map[string]string{Breach: "breached its safety signals", NoData: "has no data for its safety signals, and no data is not healthy"}[res.Status]
	next := map[string]string{
		RollbackManual:      "rollback required: run shipgate rollback --release " + r.Release.ID,
		RollbackRan:         "rolled back automatically",
		RollbackFailed:      fmt.Sprintf("the automated rollback FAILED (%v): roll back by hand now", out.RollbackErr),
		RollbackHeld:        "automated rollback held",
		RollbackHoldUnknown: fmt.Sprintf("the holds could not be read (%v), so the rollback was not run automatically: roll back by hand", out.HoldErr),
		RollbackNotNeeded:   "the release is not complete: fix the signal sources and watch again",
	}[out.Rollback]
	if out.Hold != nil {
		next = fmt.Sprintf("automated rollback held by %s (%s): decide now", out.Hold.By, out.Hold.Reason)
	}
	svc := r.Release.ID
	if r.Release.Service != "" {
		svc = fmt.Sprintf("%s (%s %s)", r.Release.ID, r.Release.Service, r.Release.Environment)
	}
	a.Text = fmt.Sprintf("release %s %s: %s; %s", svc, what, strings.Join(parts, "; "), next)
	return a
}

// MaxAlertResponse bounds what is read of the webhook's answer.
const MaxAlertResponse = 4096

func (r *Responder) post(ctx context.Context, a *Alert) error {
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	c := r.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Webhook, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, MaxAlertResponse))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}
