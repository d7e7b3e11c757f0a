package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/signals"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/watch"
)

func init() { addCommand(newWatchCmd) }

// watchOptions are the flags of `shipgate watch`.
type watchOptions struct {
	Release        ReleaseOptions
	Signals        string
	Window         time.Duration
	Interval       time.Duration
	BaselineOffset time.Duration
	AutoRollback   bool
	RollbackArgs   []string
	Webhook        string
	Actor          string
	Policy         PolicyOptions
	Ev             EvidenceOptions
	Store          StoreOptions
	Output         OutputOptions
	g              *globals
}

func newWatchCmd(s Streams, g *globals) *cobra.Command {
	o := &watchOptions{g: g}
	c := &cobra.Command{
		Use:   "watch --release ID --signals FILE [--window 15m] [--interval 15s] [--auto-rollback]",
		Short: "Watch the safety signals after a deploy, record a Monitoring, and evaluate the complete gate",
		Long: `Sample the release's safety signals (error rate, auth success, latency,
CPU/memory, or any signal of the signals file, docs/watch.md) every
--interval for --window, judge each reading with the signal's CEL breach
condition against a baseline from before the deploy, and show the progress
(redrawn in place on a terminal, one line per sample otherwise). The window
is recorded as a Monitoring evidence document with every sample, then the
complete gate is evaluated and printed like shipgate gate.

A breach ends the watch at once: "rollback required". With --auto-rollback
the release is rolled back (shipgate rollback --release ID, run as a
subprocess with the same --config, --store, --policies and --data, plus any
--rollback-arg) unless a human holds it (shipgate hold), in which case it
only alerts. The policy refuses --auto-rollback, before anything is watched,
for a service whose capabilities do not declare auto-rollback with metrics,
alerts and a human override.

No data (an unreachable Prometheus, NaN, an empty result, too little
traffic, too few readings) is never healthy: a window that ends without
enough data does not complete the release. A breach or no data is alerted
(printed, and posted as JSON to --webhook or the file's alerts.webhook); a
webhook that fails is reported and changes nothing else.

Exit codes: 0 the window was healthy and the complete gate allows; 1 a
breach, no data, or the complete gate denies (or --auto-rollback refused by
the policy); 2 an error (a bad signals file, no Plan, a ledger that cannot
be written, a bad policy).`,
		Example: `  shipgate watch --release lv-2026-11-26.1 --signals examples/localizevideos/signals.yaml
  shipgate watch --release lv-2026-11-26.1 --signals signals.yaml --window 15m --interval 15s \
    --auto-rollback --rollback-arg=--dir=/srv/localizevideos/app --webhook https://hooks.slack.com/services/...`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return watchRun(c.Context(), s, g, o)
		},
	}
	f := c.Flags()
	o.Release.AddFlags(f, g)
	f.StringVar(&o.Signals, "signals", "", "signals file, YAML (required)")
	f.DurationVar(&o.Window, "window", 15*time.Minute, "how long to watch")
	f.DurationVar(&o.Interval, "interval", 15*time.Second, "how often to sample")
	f.DurationVar(&o.BaselineOffset, "baseline-offset", 15*time.Minute, "read the baseline this long before the watch starts (like PromQL offset); signals with a stored baseline use it instead")
	f.BoolVar(&o.AutoRollback, "auto-rollback", false, "on a breach, run shipgate rollback unless a human holds the release (the policy must allow it)")
	f.StringArrayVar(&o.RollbackArgs, "rollback-arg", nil, "an argument added to the automated shipgate rollback, e.g. --rollback-arg=--dir=/srv/app (repeatable)")
	f.StringVar(&o.Webhook, "webhook", "", "URL that receives alerts as JSON (default: the signals file's alerts.webhook)")
	f.StringVar(&o.Actor, "actor", "", "who watches (default: $SHIPGATE_ACTOR, $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER)")
	_ = c.MarkFlagRequired("release")
	_ = c.MarkFlagRequired("signals")
	o.Policy.AddFlags(f, g)
	o.Ev.AddFlags(f)
	o.Store.AddFlags(f, g)
	o.Output.AddCIFlags(f)
	return c
}

func watchRun(ctx context.Context, s Streams, g *globals, o *watchOptions) error {
	if err := o.Output.validate(); err != nil {
		return err
	}
	b, err := os.ReadFile(o.Signals)
	if err != nil {
		return fmt.Errorf("read signals: %w", err)
	}
	set, err := signals.Load(o.Signals, b)
	if err != nil {
		return err
	}
	rel, err := o.Release.resolve()
	if err != nil {
		return err
	}
	gt, db, err := openGate(ctx, &o.Policy, &o.Ev, &o.Store)
	if err != nil {
		return err
	}
	defer db.Close()
	rel, err = releaseOfPlans(ctx, db, gt.Validator, rel)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	env := runner.Envelope{ReleaseID: rel.ID, Service: rel.Service, Environment: rel.Environment,
		Repository: rel.Repository, Commit: rel.Commit, Version: Version, Host: host, Actor: actor(o.Actor, g)}
	if err := autoRollbackAllowed(ctx, s, gt, env, rel, o); err != nil {
		return err
	}

	w := &watch.Watcher{Signals: set, Sources: &signals.Sources{Environ: os.Environ()}, Window: o.Window, Interval: o.Interval,
		BaselineOffset: o.BaselineOffset, Clock: watch.SystemClock{}, Progress: s.Err, Live: isTerminal(s.Err)}
	fmt.Fprintf(s.Err, "shipgate: watching %s (%s %s) for %s, every %s: %d signals\n", rel.ID, rel.Service, rel.Environment,
		o.Window, o.Interval, len(set.Signals))
	res, runErr := w.Run(ctx)
	if res == nil {
		return runErr
	}
	// What was watched is recorded and acted on even after Ctrl-C.
	ctx = context.WithoutCancel(ctx)
	doc, recErr := recordMonitoring(ctx, db, gt.Validator, env, res, o.AutoRollback)
	if recErr == nil {
		fmt.Fprintf(s.Err, "shipgate: recorded Monitoring %s for release %s: %s\n", res.Status, rel.ID, doc.Digest)
	}
	webhook := o.Webhook
	if webhook == "" {
		webhook = set.Webhook
	}
	r := &watch.Responder{
		Release:      watch.Release{ID: rel.ID, Service: rel.Service, Environment: rel.Environment},
		AutoRollback: o.AutoRollback, Webhook: webhook, Out: s.Err, Clock: watch.SystemClock{},
		Hold:     func(ctx context.Context) (*watch.Hold, error) { return activeHold(ctx, db, gt.Validator, rel.ID) },
		Rollback: func(ctx context.Context) error { return runRollback(ctx, s, g, o, rel.ID) },
	}
	out := r.Respond(ctx, res)
	if recErr != nil {
		return recErr
	}
	if runErr != nil {
		return &exitError{code: ExitDeny, err: fmt.Errorf("watch interrupted (%v): recorded as no data, the release is not complete", runErr)}
	}
	d, err := gt.Decide(ctx, gate.Request{Gate: "complete", Release: rel, Actor: env.Actor, Now: time.Now().UTC()})
	if d != nil {
		if werr := writeDecisionOutput(s, o.Output.Format, d); werr != nil {
			return werr
		}
	}
	if err != nil {
		return fmt.Errorf("complete gate: %w", err)
	}
	switch res.Status {
	case watch.Breach:
		msg := map[string]string{
			watch.RollbackRan:  "rolled back automatically",
			watch.RollbackHeld: fmt.Sprintf("rollback required (held by %s: decide now)", holder(out.Hold)),
		}[out.Rollback]
		if msg == "" {
			msg = "rollback required"
		}
		fmt.Fprintf(s.Err, "shipgate: %s breached (%s): %s\n", rel.ID, strings.Join(res.Breached(), ", "), msg)
		return &exitError{code: ExitDeny, err: errDenied, silent: true}
	case watch.NoData:
		fmt.Fprintf(s.Err, "shipgate: %s: no data for its safety signals, and no data is not healthy: the release is not complete\n", rel.ID)
		return &exitError{code: ExitDeny, err: errDenied, silent: true}
	}
	if !d.Allow {
		fmt.Fprintf(s.Err, "shipgate: complete denied\n")
		return &exitError{code: ExitDeny, err: errDenied, silent: true}
	}
	return nil
}

func holder(h *watch.Hold) string {
	if h == nil {
		return "nobody"
	}
	return h.By
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// autoRollbackAllowed asks the policy, before anything is watched, whether
// this service may be rolled back automatically: the automation.* rules of
// the complete gate, given the Monitoring the watch would record.
func autoRollbackAllowed(ctx context.Context, s Streams, gt *gate.Gate, env runner.Envelope, rel engine.Release, o *watchOptions) error {
	now := time.Now()
	probe := &watch.Result{Start: now, End: now, Planned: o.Window, Status: watch.NoData,
		Signals: []watch.SignalResult{{Name: "probe", Status: watch.NoData}}}
	doc, err := monitoringDoc(gt.Validator, env, probe, o.AutoRollback, now)
	if err != nil {
		return err
	}
	if !o.AutoRollback {
		return nil
	}
	d, err := gt.Engine.Evaluate(ctx, engine.Input{Gate: "complete", Release: rel, Now: now.UTC(), Evidence: []*evidence.Document{doc}})
	if err != nil {
		return fmt.Errorf("check --auto-rollback against the policy: %w", err)
	}
	var refused []string
	for _, v := range d.Violations {
		if strings.HasPrefix(v.Rule, "automation.") {
			refused = append(refused, fmt.Sprintf("%s: %s (%s)", v.Rule, v.Message, v.Remediation))
		}
	}
	if len(refused) > 0 {
		return &exitError{code: ExitDeny, err: fmt.Errorf("--auto-rollback refused by the policy: %s", strings.Join(refused, "; "))}
	}
	fmt.Fprintf(s.Err, "shipgate: automated rollback allowed for %s by the policy\n", rel.Service)
	return nil
}

// monitoringDoc is the Monitoring evidence document of res, decoded and
// validated.
func monitoringDoc(v *evidence.Validator, env runner.Envelope, res *watch.Result, auto bool, at time.Time) (*evidence.Document, error) {
	b, err := json.Marshal(map[string]any{
		"apiVersion":  runner.APIVersion,
		"kind":        "Monitoring",
		"release":     map[string]string{"id": env.ReleaseID, "service": env.Service, "environment": env.Environment},
		"subject":     map[string]string{"repository": env.Repository, "commit": env.Commit},
		"collectedAt": at.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano),
		"collector":   collector(env),
		"data":        res.Data(auto),
	})
	if err != nil {
		return nil, err
	}
	doc, err := v.Decode("shipgate watch", b)
	if err != nil {
		return nil, fmt.Errorf("monitoring evidence: %w", err)
	}
	return doc, nil
}

func collector(env runner.Envelope) any {
	return struct {
		Name    string `json:"name"`
		Version string `json:"version,omitempty"`
		Host    string `json:"host,omitempty"`
		Actor   string `json:"actor"`
	}{"shipgate", env.Version, env.Host, env.Actor}
}

func recordMonitoring(ctx context.Context, db ledgerStore, v *evidence.Validator, env runner.Envelope, res *watch.Result, auto bool) (*evidence.Document, error) {
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	now := time.Now()
	if now.Before(res.End) {
		now = res.End
	}
	doc, err := monitoringDoc(v, env, res, auto, now)
	if err == nil {
		_, err = db.AddEvidence(ctx, now, []store.Evidence{gate.StoreEvidence(doc)})
	}
	if err != nil {
		return nil, fmt.Errorf("the window was watched (%s), but its Monitoring could not be recorded: %w", res.Status, err)
	}
	return doc, nil
}

// activeHold reads the release's Hold documents from the ledger.
func activeHold(ctx context.Context, db ledgerStore, v *evidence.Validator, releaseID string) (*watch.Hold, error) {
	events, err := holdEvents(ctx, db, v, releaseID)
	if err != nil {
		return nil, err
	}
	return watch.ActiveHold(events), nil
}

func holdEvents(ctx context.Context, db ledgerStore, v *evidence.Validator, releaseID string) ([]watch.HoldEvent, error) {
	stored, err := db.Evidence(ctx, releaseID)
	if err != nil {
		return nil, fmt.Errorf("read evidence of %s: %w", releaseID, err)
	}
	var events []watch.HoldEvent
	for _, e := range stored {
		if e.Kind != "Hold" {
			continue
		}
		doc, err := v.Decode(e.Source, e.Body)
		if err != nil {
			return nil, fmt.Errorf("recorded Hold %s: %w", e.Digest, err)
		}
		var h struct {
			Data struct {
				Action, By, Reason string
				At                 time.Time
			} `json:"data"`
		}
		if err := json.Unmarshal(doc.Canonical, &h); err != nil {
			return nil, fmt.Errorf("recorded Hold %s: %w", e.Digest, err)
		}
		events = append(events, watch.HoldEvent{Lift: h.Data.Action == "lift", By: h.Data.By, Reason: h.Data.Reason, At: h.Data.At, Digest: doc.Digest})
	}
	return events, nil
}

// runRollback runs `shipgate rollback` for the release as a subprocess,
// with this command's configuration, store and policy flags: the rollback
// records itself, and watch stays a client of it.
func runRollback(ctx context.Context, s Streams, g *globals, o *watchOptions, releaseID string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the shipgate executable: %w", err)
	}
	var args []string
	if g.ConfigPath != "" {
		args = append(args, "--config", g.ConfigPath)
	}
	args = append(args, "rollback", "--release", releaseID)
	for _, fv := range [][2]string{{"--store", o.Store.Path}, {"--policies", o.Policy.Dir}, {"--data", o.Policy.DataFile},
		{"--bundle", o.Policy.Bundle}, {"--verify-key", o.Policy.VerifyKey}} {
		if fv[1] != "" {
			args = append(args, fv[0], fv[1])
		}
	}
	args = append(args, o.RollbackArgs...)
	c := exec.CommandContext(ctx, exe, args...)
	// argv[0] "shipgate", as a shell would run it.
	c.Args[0] = "shipgate"
	c.Stdout, c.Stderr = s.Err, s.Err
	fmt.Fprintf(s.Err, "shipgate: running shipgate %s\n", strings.Join(args, " "))
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("shipgate rollback exited %d", ee.ExitCode())
		}
		return err
	}
	return nil
}
