package watch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/watch"
)

// webhook is a real loopback server that records the alerts posted to it.
type webhook struct {
	mu     sync.Mutex
	status int
	alerts []map[string]any
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	h.mu.Lock()
	h.alerts = append(h.alerts, m)
	h.mu.Unlock()
	if h.status != 0 {
		http.Error(w, "invalid_token", h.status)
		return
	}
	_, _ = io.WriteString(w, "ok")
}

func breachResult() *watch.Result {
	v, b := 0.31, 0.01
	return &watch.Result{Start: t0, End: t0.Add(45 * time.Second), Planned: 15 * time.Minute, Status: watch.Breach,
		Signals: []watch.SignalResult{
			{Name: "error_rate", Status: watch.Breach, Condition: "observed > baseline * 1.5 + 0.01", Observed: &v, Baseline: &b,
				Message: "observed 0.31 at 45s, baseline 0.01: observed > baseline * 1.5 + 0.01 is true"},
			{Name: "cpu", Status: watch.Healthy, Condition: "observed > 0.9"},
		}}
}

type responderCase struct {
	auto     bool
	hold     *watch.Hold
	holdErr  error
	rollback error
	status   int
}

func respond(t *testing.T, res *watch.Result, c responderCase) (watch.Outcome, int, *webhook, string) {
	t.Helper()
	hook := &webhook{status: c.status}
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)
	rolled := 0
	var out bytes.Buffer
	r := &watch.Responder{
		Release:      watch.Release{ID: "lv-2026-11-26.1", Service: "localizevideos-app", Environment: "production"},
		AutoRollback: c.auto, Webhook: srv.URL, Out: &out, Clock: &fakeClock{now: t0.Add(time.Minute)},
		Hold:     func(context.Context) (*watch.Hold, error) { return c.hold, c.holdErr },
		Rollback: func(context.Context) error { rolled++; return c.rollback },
	}
	o := r.Respond(context.Background(), res)
	return o, rolled, hook, out.String()
}

func TestRespond(t *testing.T) {
	hold := &watch.Hold{By: "carol", Reason: "the spike is the campaign", At: t0}
	tests := []struct {
		name       string
		res        *watch.Result
		c          responderCase
		rollback   string
		rolled     int
		alerts     int
		textHas    string
		outHas     string
		webhookErr bool
	}{
		{name: "healthy does nothing", res: &watch.Result{Status: watch.Healthy}, c: responderCase{auto: true},
			rollback: watch.RollbackNotNeeded},
		{name: "breach without auto-rollback alerts: rollback required", res: breachResult(),
			rollback: watch.RollbackManual, alerts: 1, textHas: "rollback required: run shipgate rollback --release lv-2026-11-26.1"},
		{name: "breach with auto-rollback rolls back then alerts", res: breachResult(), c: responderCase{auto: true},
			rollback: watch.RollbackRan, rolled: 1, alerts: 1, textHas: "rolled back automatically"},
		{name: "a hold stops the automated rollback", res: breachResult(), c: responderCase{auto: true, hold: hold},
			rollback: watch.RollbackHeld, alerts: 1, textHas: "automated rollback held by carol (the spike is the campaign): decide now"},
		{name: "unknown holds stop the automated rollback", res: breachResult(), c: responderCase{auto: true, holdErr: errors.New("ledger down")},
			rollback: watch.RollbackHoldUnknown, alerts: 1, textHas: "the holds could not be read (ledger down)"},
		{name: "a failed rollback says so", res: breachResult(), c: responderCase{auto: true, rollback: errors.New("exit 1")},
			rollback: watch.RollbackFailed, rolled: 1, alerts: 1, textHas: "the automated rollback FAILED (exit 1): roll back by hand now"},
		{name: "a failing webhook is reported and hides nothing", res: breachResult(), c: responderCase{auto: true, status: 500},
			rollback: watch.RollbackRan, rolled: 1, alerts: 1, webhookErr: true,
			outHas: "the alert webhook failed: webhook answered HTTP 500: invalid_token (the breach stands)"},
		{name: "no data alerts and never rolls back", res: &watch.Result{Status: watch.NoData, Start: t0, End: t0,
			Signals: []watch.SignalResult{{Name: "error_rate", Status: watch.NoData, Message: "no data: query: connection refused"}}},
			c: responderCase{auto: true}, rollback: watch.RollbackNotNeeded, alerts: 1, textHas: "has no data for its safety signals, and no data is not healthy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, rolled, hook, out := respond(t, tt.res, tt.c)
			if o.Rollback != tt.rollback || rolled != tt.rolled {
				t.Errorf("Respond() rollback %q, ran %d; want %q, ran %d", o.Rollback, rolled, tt.rollback, tt.rolled)
			}
			if len(hook.alerts) != tt.alerts {
				t.Fatalf("webhook got %d alerts; want %d", len(hook.alerts), tt.alerts)
			}
			if (o.AlertErr != nil) != tt.webhookErr {
				t.Errorf("AlertErr = %v; want error %t", o.AlertErr, tt.webhookErr)
			}
			if tt.alerts == 0 {
				return
			}
			a := hook.alerts[0]
			text, _ := a["text"].(string)
			if !strings.Contains(text, tt.textHas) {
				t.Errorf("alert text %q lacks %q", text, tt.textHas)
			}
			if !strings.Contains(out, "ALERT "+text) {
				t.Errorf("output does not print the alert:\n%s", out)
			}
			if tt.outHas != "" && !strings.Contains(out, tt.outHas) {
				t.Errorf("output lacks %q:\n%s", tt.outHas, out)
			}
			if a["event"] != tt.res.Status || a["release"] != "lv-2026-11-26.1" || a["rollback"] != tt.rollback {
				t.Errorf("alert fields = %v", a)
			}
			sigs, _ := a["signals"].([]any)
			if len(sigs) != 1 {
				t.Errorf("alert names %d signals; want only the unhealthy one: %v", len(sigs), sigs)
			}
		})
	}
}

func TestRespondUnreachableWebhook(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	var out bytes.Buffer
	r := &watch.Responder{Release: watch.Release{ID: "r1"}, Webhook: url, Out: &out}
	o := r.Respond(context.Background(), breachResult())
	if o.AlertErr == nil || o.Rollback != watch.RollbackManual {
		t.Errorf("Respond() = %+v; want a webhook error and rollback required", o)
	}
	if !strings.Contains(out.String(), "ALERT release r1 breached") {
		t.Errorf("the alert was not printed:\n%s", out.String())
	}
}
