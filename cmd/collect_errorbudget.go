package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/signals"
	"github.com/localizevideos/shipgate/store"
)

// errorBudgetOptions are the flags of `shipgate collect error-budget`.
type errorBudgetOptions struct {
	Release ReleaseOptions
	SLO     string
	Actor   string
	Ev      EvidenceOptions
	Sign    SigningOptions
	Store   StoreOptions
}

func newCollectErrorBudgetCmd(s Streams, g *globals) *cobra.Command {
	o := &errorBudgetOptions{}
	c := &cobra.Command{
		Use:   "error-budget --release ID --slo FILE",
		Short: "Measure the error budget left from an SLO query and record it as ErrorBudget evidence",
		Long: `Run the SLO file's error-ratio query against its Prometheus server and
record the remaining error budget, 1 - errorRatio / (1 - objective), as
ErrorBudget evidence of the release, signed like all evidence shipgate
records (--signing-key). The deploy gate's checklist rule
"error budget available" (checklist.error-budget) reads the newest one, before
the Plan's hand-written errorBudget.

No data (an unreachable server, NaN, an empty result, fewer events than
minCount) records nothing: an unmeasured budget is not an available one.

Exit codes: 0 recorded with budget left; 1 recorded, and the budget is spent
(remaining <= 0); 2 an error or no data (a bad SLO file, no Plan, a ledger
that cannot be written).`,
		Example: `  shipgate collect error-budget --release lv-2026-11-26.1 --slo examples/localizevideos/slo.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return errorBudgetRun(c.Context(), s, g, o)
		},
	}
	f := c.Flags()
	o.Release.AddFlags(f, g)
	f.StringVar(&o.SLO, "slo", "", "SLO file, YAML (required)")
	f.StringVar(&o.Actor, "actor", "", "who measures (default: $SHIPGATE_ACTOR, $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER)")
	_ = c.MarkFlagRequired("release")
	_ = c.MarkFlagRequired("slo")
	o.Ev.AddFlags(f)
	o.Sign.AddFlags(f)
	o.Store.AddFlags(f, g)
	return c
}

func errorBudgetRun(ctx context.Context, s Streams, g *globals, o *errorBudgetOptions) error {
	b, err := os.ReadFile(o.SLO)
	if err != nil {
		return fmt.Errorf("read SLO: %w", err)
	}
	slo, err := signals.LoadSLO(o.SLO, b)
	if err != nil {
		return err
	}
	rel, err := o.Release.resolve()
	if err != nil {
		return err
	}
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	signer, err := o.Sign.Signer(s.Err)
	if err != nil {
		return err
	}
	if v, err = trustSigner(v, &o.Ev, signer); err != nil {
		return err
	}
	db, err := o.Store.Open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	rel, err = releaseOfPlans(ctx, db, v, rel)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	qctx, cancel := context.WithTimeout(ctx, signals.DefaultTimeout)
	budget, err := slo.Measure(qctx, &signals.Sources{}, now)
	cancel()
	if err != nil {
		return fmt.Errorf("measure the error budget: %w: nothing recorded, and an unmeasured budget is not available", err)
	}
	host, _ := os.Hostname()
	env := runner.Envelope{ReleaseID: rel.ID, Service: rel.Service, Environment: rel.Environment,
		Repository: rel.Repository, Commit: rel.Commit, Version: Version, Host: host, Actor: actor(o.Actor, g)}
	doc, err := errorBudgetDoc(ctx, v, signer, env, budget, now)
	if err != nil {
		return err
	}
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer rcancel()
	if _, err := db.AddEvidence(rctx, now, []store.Evidence{gate.StoreEvidence(doc)}); err != nil {
		return fmt.Errorf("record the ErrorBudget: %w", err)
	}
	fmt.Fprintf(s.Out, "error budget %s: %.1f%% left (error ratio %.4g over %s, objective %v); recorded %s, signed by %s\n",
		budget.SLO, budget.Remaining*100, budget.ErrorRatio, budget.Window, budget.Objective, doc.Digest, strings.Join(doc.SignedBy, ", "))
	if budget.Remaining <= 0 {
		fmt.Fprintf(s.Err, "shipgate: the error budget of %s is spent: the deploy gate denies (checklist.error-budget)\n", budget.SLO)
		return &exitError{code: ExitDeny, err: errDenied, silent: true}
	}
	return nil
}

func errorBudgetDoc(ctx context.Context, v *evidence.Validator, signer *evidence.Signer, env runner.Envelope, b *signals.Budget, at time.Time) (*evidence.Document, error) {
	data, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	m["measuredAt"] = b.MeasuredAt.Truncate(time.Millisecond).Format(time.RFC3339Nano)
	body, err := json.Marshal(map[string]any{
		"apiVersion":  runner.APIVersion,
		"kind":        "ErrorBudget",
		"release":     map[string]string{"id": env.ReleaseID, "service": env.Service, "environment": env.Environment},
		"subject":     map[string]string{"repository": env.Repository, "commit": env.Commit},
		"collectedAt": at.Format(time.RFC3339Nano),
		"collector":   collector(env),
		"data":        m,
	})
	if err != nil {
		return nil, err
	}
	doc, err := seal(ctx, v, signer, "shipgate collect error-budget", body)
	if err != nil {
		return nil, fmt.Errorf("error budget evidence: %w", err)
	}
	return doc, nil
}
