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
	"github.com/localizevideos/shipgate/internal/inputfile"
	"github.com/localizevideos/shipgate/rollback"
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
	BaselineFrom   string
	AutoRollback   bool
	RollbackArgs   []string
	Webhook        string
	Actor          string
	Policy         PolicyOptions
	Ev             EvidenceOptions
	Sign           SigningOptions
	Store          StoreOptions
	Remote         RemoteOptions
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
condition against a baseline from before the deploy (read --baseline-offset
before the watch, or the medians of the Monitoring recorded for an earlier
release with --baseline-from RELEASE or --baseline-from last-completed),
and show the progress (redrawn in place on a terminal, one line per sample
otherwise). The window
is recorded as a Monitoring evidence document with every sample, then the
complete gate is evaluated and printed like shipgate gate.

A breach (breachAfter readings in a row meeting the condition, 1 by
default) ends the watch at once: "rollback required". With --auto-rollback
the release is rolled back (shipgate rollback --release ID, run as a
subprocess with the same --config, --store, --policies, --data,
--signing-key and --trusted-key, plus any --rollback-arg) unless a human
holds it (shipgate hold), in which case it only alerts. The policy refuses
--auto-rollback, before anything is watched, for a service whose
capabilities do not declare auto-rollback with metrics, alerts and a human
override. With --server, the server's policy and ledger answer both
questions (GET /v1/releases/{id}/auto-rollback), and the rollback runs
with --server (the token in its environment, not its arguments);
--baseline-from is refused there, as it reads other releases.

No data (an unreachable Prometheus, NaN, an empty result, too little
traffic, too few readings) is never healthy: a window that ends without
enough data does not complete the release. A signal without data for its
noDataAfter is alerted while the watch runs, and again when its data
returns; a breach or no data at the end is alerted too (printed, and posted
as JSON to --webhook or the file's alerts.webhook); a webhook that fails is
reported and changes nothing else.

Exit codes: 0 the window was healthy and the complete gate allows; 1 a
breach, no data, or the complete gate denies (or --auto-rollback refused by
the policy); 2 an error (a bad signals file, no Plan, no recorded baseline
for --baseline-from, a ledger that cannot be written, a bad policy).`,
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
	f.StringVar(&o.BaselineFrom, "baseline-from", "", "take the baselines from the Monitoring recorded for `RELEASE`, or for the service's last completed release with "+lastCompleted+", instead of reading them --baseline-offset before the watch")
	f.BoolVar(&o.AutoRollback, "auto-rollback", false, "on a breach, run shipgate rollback unless a human holds the release (the policy must allow it)")
	f.StringArrayVar(&o.RollbackArgs, "rollback-arg", nil, "an argument added to the automated shipgate rollback, e.g. --rollback-arg=--dir=/srv/app (repeatable)")
	f.StringVar(&o.Webhook, "webhook", "", "URL that receives alerts as JSON (default: the signals file's alerts.webhook)")
	personVar(f, &o.Actor, "actor", "", "who watches (default: $SHIPGATE_ACTOR, $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER)")
	_ = c.MarkFlagRequired("release")
	_ = c.MarkFlagRequired("signals")
	o.Policy.AddFlags(f, g)
	o.Ev.AddFlags(f)
	o.Sign.AddFlags(f)
	o.Store.AddFlags(f, g)
	o.Remote.AddFlags(f, g)
	o.Output.AddCIFlags(f)
	return c
}

func watchRun(ctx context.Context, s Streams, g *globals, o *watchOptions) error {
	if err := o.Output.validate(); err != nil {
		return err
	}
	b, err := inputfile.Read(o.Signals, maxDataBytes)
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
	if o.Remote.on() && o.BaselineFrom != "" {
		return errors.New("--baseline-from with --server: it reads other releases' Monitoring from the ledger, which a pipeline token cannot; give the baselines in the signals file, or --baseline-offset")
	}
	be, err := openStepBackend(ctx, &o.Policy, &o.Ev, &o.Store, &o.Remote)
	if err != nil {
		return err
	}
	defer be.close()
	gt, db := be.gt, be.db
	signer, err := o.Sign.Signer(s.Err)
	if err != nil {
		return err
	}
	// The complete gate reads the signed Monitoring back from the ledger:
	// it must trust the key that signs it, as verify does.
	if gt.Validator, err = trustSigner(gt.Validator, &o.Ev, signer); err != nil {
		return err
	}
	rel, err = releaseOfPlans(ctx, be.plans, gt.Validator, rel)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	env := runner.Envelope{ReleaseID: rel.ID, Service: rel.Service, Environment: rel.Environment,
		Repository: rel.Repository, Commit: rel.Commit, Version: Version, Host: host, Actor: actor(o.Actor, g)}
	if err := autoRollbackAllowed(ctx, s, be, env, rel, o); err != nil {
		return err
	}

	var baselines map[string]float64
	var from watch.RecordedWindow
	if o.BaselineFrom != "" {
		if baselines, from, err = recordedBaselines(ctx, s, db, gt.Validator, set, rel, o.BaselineFrom); err != nil {
			return err
		}
	}
	webhook := o.Webhook
	if webhook == "" {
		webhook = set.Webhook
	}
	r := &watch.Responder{
		Release:      watch.Release{ID: rel.ID, Service: rel.Service, Environment: rel.Environment},
		AutoRollback: o.AutoRollback, Webhook: webhook, Out: s.Err, Clock: watch.SystemClock{},
		Hold:     func(ctx context.Context) (*watch.Hold, error) { return currentHold(ctx, be, rel) },
		Rollback: func(ctx context.Context) error { return runRollback(ctx, s, g, o, rel.ID) },
	}
	w := &watch.Watcher{Signals: set, Sources: &signals.Sources{Environ: os.Environ()}, Window: o.Window, Interval: o.Interval,
		BaselineOffset: o.BaselineOffset, Baselines: baselines, BaselinesFrom: from, Clock: watch.SystemClock{}, Progress: s.Err, Live: isTerminal(s.Err),
		// A failing webhook is printed by Notify and stops nothing.
		OnEvent: func(ctx context.Context, e watch.Event) { _ = r.Notify(ctx, e) }}
	fmt.Fprintf(s.Err, "shipgate: watching %s (%s %s) for %s, every %s: %d signals\n", rel.ID, rel.Service, rel.Environment,
		o.Window, o.Interval, len(set.Signals))
	res, runErr := w.Run(ctx)
	if res == nil {
		return runErr
	}
	// What was watched is recorded and acted on even after Ctrl-C.
	ctx = context.WithoutCancel(ctx)
	doc, recErr := recordMonitoring(ctx, be, gt.Validator, signer, env, res, o.AutoRollback, s.now())
	if recErr == nil {
		fmt.Fprintf(s.Err, "shipgate: recorded Monitoring %s for release %s: %s, signed by %s\n", res.Status, rel.ID, doc.Digest, strings.Join(doc.SignedBy, ", "))
	}
	out := r.Respond(ctx, res)
	if recErr != nil {
		return recErr
	}
	if runErr != nil {
		return &exitError{code: ExitDeny, err: fmt.Errorf("watch interrupted (%v): recorded as no data, the release is not complete", runErr)}
	}
	d, err := be.decide(ctx, gate.Request{Gate: "complete", Release: rel, Actor: env.Actor, Now: s.now().UTC()})
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
// this service may be rolled back automatically (rollback.AutoRollbackRefusals):
// the local policies, or the server's.
func autoRollbackAllowed(ctx context.Context, s Streams, be *stepBackend, env runner.Envelope, rel engine.Release, o *watchOptions) error {
	if !o.AutoRollback {
		return nil
	}
	var refused []engine.Finding
	if be.remote != nil {
		a, err := be.remote.AutoRollback(ctx, rel, o.Window)
		if err != nil {
			return fmt.Errorf("check --auto-rollback against the server's policy: %w", err)
		}
		refused = a.Refused
	} else {
		var err error
		if refused, err = rollback.AutoRollbackRefusals(ctx, be.gt.Engine, be.gt.Validator, env, o.Window, s.now()); err != nil {
			return err
		}
	}
	if len(refused) > 0 {
		msgs := make([]string, len(refused))
		for i, v := range refused {
			msgs[i] = fmt.Sprintf("%s: %s (%s)", v.Rule, v.Message, v.Remediation)
		}
		return &exitError{code: ExitDeny, err: fmt.Errorf("--auto-rollback refused by the policy: %s", strings.Join(msgs, "; "))}
	}
	fmt.Fprintf(s.Err, "shipgate: automated rollback allowed for %s by the policy\n", rel.Service)
	return nil
}

// monitoringDoc is the Monitoring evidence document of res, decoded and
// validated.
func monitoringDoc(v *evidence.Validator, env runner.Envelope, res *watch.Result, auto bool, at time.Time) (*evidence.Document, error) {
	b, err := runner.Document(env, "Monitoring", at, res.Data(auto))
	if err != nil {
		return nil, fmt.Errorf("monitoring evidence: %w", err)
	}
	doc, err := v.Decode("shipgate watch", b)
	if err != nil {
		return nil, fmt.Errorf("monitoring evidence: %w", err)
	}
	return doc, nil
}

func recordMonitoring(ctx context.Context, b *stepBackend, v *evidence.Validator, signer *evidence.Signer, env runner.Envelope, res *watch.Result, auto bool, now time.Time) (*evidence.Document, error) {
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	if now.Before(res.End) {
		now = res.End
	}
	doc, err := monitoringDoc(v, env, res, auto, now)
	if err == nil {
		doc, err = seal(ctx, v, signer, "shipgate watch", doc.Canonical)
	}
	if err == nil {
		err = b.add(ctx, doc, now)
	}
	if err != nil {
		return nil, fmt.Errorf("the window was watched (%s), but its Monitoring could not be recorded: %w", res.Status, err)
	}
	return doc, nil
}

// currentHold is the hold in force on the release, in the local ledger or
// on the server.
func currentHold(ctx context.Context, be *stepBackend, rel engine.Release) (*watch.Hold, error) {
	if be.remote == nil {
		h, err := rollback.RecordedHold(ctx, be.db, be.gt.Validator, be.gt.Engine, rel.ID)
		if err != nil || h == nil {
			return nil, err
		}
		return &watch.Hold{By: h.By, Reason: h.Reason, At: h.At, Digest: h.Digest}, nil
	}
	a, err := be.remote.AutoRollback(ctx, rel, 0)
	if err != nil || a.Hold == nil {
		return nil, err
	}
	return &watch.Hold{By: a.Hold.By, Reason: a.Hold.Reason, At: a.Hold.At, Digest: a.Hold.Digest}, nil
}

// runRollback runs `shipgate rollback` for the release as a subprocess,
// with this command's configuration, store and policy flags, or its
// server (the token goes in the subprocess's environment, out of the
// process list): the rollback records itself, and watch stays a client
// of it.
func runRollback(ctx context.Context, s Streams, g *globals, o *watchOptions, releaseID string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the shipgate executable: %w", err)
	}
	var args []string
	if g.ConfigPath != "" {
		args = append(args, "--config", g.ConfigPath)
	}
	args = append(args, "rollback", "--release", releaseID, "--trigger", "watch")
	fvs := [][2]string{{"--store", o.Store.Path}, {"--policies", o.Policy.Dir}}
	for _, d := range o.Policy.dataFiles() {
		fvs = append(fvs, [2]string{"--data", d})
	}
	fvs = append(fvs, [2]string{"--bundle", o.Policy.Bundle}, [2]string{"--verify-key", o.Policy.VerifyKey}, [2]string{"--signing-key", o.Sign.Key})
	for _, k := range o.Ev.TrustedKeys {
		fvs = append(fvs, [2]string{"--trusted-key", k})
	}
	for _, fv := range fvs {
		if fv[1] != "" {
			args = append(args, fv[0], fv[1])
		}
	}
	var env []string
	if o.Remote.on() {
		u, tok, err := o.Remote.endpoint()
		if err != nil {
			return err
		}
		args = append(args, "--server", u)
		env = append(os.Environ(), "SHIPGATE_TOKEN="+tok)
	}
	args = append(args, o.RollbackArgs...)
	c := exec.CommandContext(ctx, exe, args...)
	c.Env = env
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

// lastCompleted is the --baseline-from value naming the service's last
// completed release.
const lastCompleted = "last-completed"

// recordedBaselines reads the baselines of --baseline-from: the newest
// healthy Monitoring recorded for that release (or for the last release of
// the same service and environment whose complete gate allowed), and names
// it. Anything missing is an error: a baseline is never zero for want of
// one.
func recordedBaselines(ctx context.Context, s Streams, db ledgerStore, v *evidence.Validator, set *signals.Set, rel engine.Release, from string) (map[string]float64, watch.RecordedWindow, error) {
	id := from
	if from == lastCompleted {
		ds, err := db.Decisions(ctx, "")
		if err != nil {
			return nil, watch.RecordedWindow{}, fmt.Errorf("--baseline-from %s: read decisions: %w", from, err)
		}
		var last *store.Decision
		for i, d := range ds {
			if d.Gate == "complete" && d.Allow && !d.DryRun && d.Service == rel.Service && d.Environment == rel.Environment &&
				d.ReleaseID != rel.ID && (last == nil || d.Seq > last.Seq) {
				last = &ds[i]
			}
		}
		if last == nil {
			return nil, watch.RecordedWindow{}, fmt.Errorf("--baseline-from %s: no earlier release of %s in %s has completed (an allowed complete gate), so there is no recorded baseline: name a release, or leave --baseline-from out to read the baselines --baseline-offset before the watch",
				from, rel.Service, rel.Environment)
		}
		id = last.ReleaseID
	}
	if id == rel.ID {
		return nil, watch.RecordedWindow{}, fmt.Errorf("--baseline-from %s: the watched release itself is no baseline", from)
	}
	stored, err := db.Evidence(ctx, id)
	if err != nil {
		return nil, watch.RecordedWindow{}, fmt.Errorf("--baseline-from %s: read evidence of %s: %w", from, id, err)
	}
	var best *evidence.Document
	var data []byte
	var seen []string
	for _, e := range stored {
		if e.Kind != "Monitoring" {
			continue
		}
		doc, err := v.Decode(e.Source, e.Body)
		if err != nil {
			return nil, watch.RecordedWindow{}, fmt.Errorf("--baseline-from %s: recorded Monitoring %s: %w", from, e.Digest, err)
		}
		var m struct {
			Data json.RawMessage `json:"data"`
		}
		var r struct {
			Result string `json:"result"`
		}
		if err := json.Unmarshal(doc.Canonical, &m); err != nil {
			return nil, watch.RecordedWindow{}, fmt.Errorf("--baseline-from %s: recorded Monitoring %s: %w", from, e.Digest, err)
		}
		if err := json.Unmarshal(m.Data, &r); err != nil {
			return nil, watch.RecordedWindow{}, fmt.Errorf("--baseline-from %s: recorded Monitoring %s: %w", from, e.Digest, err)
		}
		seen = append(seen, r.Result)
		if r.Result != watch.Healthy || (best != nil && !doc.CollectedAt.After(best.CollectedAt)) {
			continue
		}
		best, data = doc, m.Data
	}
	switch {
	case best == nil && len(seen) == 0:
		return nil, watch.RecordedWindow{}, fmt.Errorf("--baseline-from %s: release %s has no Monitoring recorded: no baseline", from, id)
	case best == nil:
		return nil, watch.RecordedWindow{}, fmt.Errorf("--baseline-from %s: release %s has no healthy Monitoring (recorded: %s): no baseline", from, id, strings.Join(seen, ", "))
	case best.Service != rel.Service:
		return nil, watch.RecordedWindow{}, fmt.Errorf("--baseline-from %s: release %s is of service %s, not %s: no baseline", from, id, best.Service, rel.Service)
	}
	b, err := watch.RecordedBaselines(set, data)
	if err != nil {
		return nil, watch.RecordedWindow{}, fmt.Errorf("--baseline-from %s: Monitoring %s of release %s: %w", from, best.Digest, id, err)
	}
	names := make([]string, 0, len(b))
	for _, sig := range set.Signals {
		if v, ok := b[sig.Name]; ok {
			names = append(names, fmt.Sprintf("%s %.4g", sig.Name, v))
		}
	}
	fmt.Fprintf(s.Err, "shipgate: baselines from the Monitoring of %s (%s), medians of its samples: %s\n", id, best.Digest, strings.Join(names, ", "))
	return b, watch.RecordedWindow{Release: id, Monitoring: best.Digest}, nil
}
