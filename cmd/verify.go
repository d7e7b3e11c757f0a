package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/collect/httpcheck"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/internal/inputfile"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/rollback"
)

// verifyOptions are the flags of `shipgate verify`.
type verifyOptions struct {
	stepOptions
	Checks string
	Base   string
	Vars   []string
	Output OutputOptions
	// RollbackOnFail runs the fast rollback (Rollback) when the gate denies.
	RollbackOnFail bool
	Rollback       RollbackOptions
}

func newVerifyCmd(s Streams, g *globals) *cobra.Command {
	o := &verifyOptions{}
	c := &cobra.Command{
		Use:   "verify --release ID --checks FILE [--base URL] [--var K=V]...",
		Short: "Run the smoke checks (HTTP + CEL, error rate), record a Verification, and evaluate the verify gate",
		Long: `Run the smoke checks of a checks file against the deployed app, record what
they found as a Verification in the ledger, then evaluate the verify gate
with it and print the decision like shipgate gate.

The checks file (docs/checks.md) lists HTTP steps, run in order with one
cookie jar, each naming the check it belongs to (home, login, logout,
api-me, ...) and judged by CEL assertions over the response, and error-rate
comparisons (error-spike) from a /metrics endpoint or a Prometheus query.
A step can capture a value (a cookie, a header, a JSON field) that later
steps send, and leave the jar out (cookies: none). A check passes only if
every assertion of its steps holds; an app that does not answer, or an
error rate without data, fails its check and is recorded.

With ready: in the file, verify first polls the app until it answers as
expected (pm2 restart returns before the app listens). An app not ready
within ready.timeout is an error (exit 2): no check ran, so nothing is
recorded and nothing is rolled back, even with --rollback-on-fail.

The release's service, environment, commit and repository come from its
Plan in the ledger (--service, --environment and --commit choose among
several).

The Verification is recorded signed (ed25519, in a DSSE envelope), as run
and collect sign what they record, so the gate and any later replay verify
who produced it: --signing-key, else shipgate init's key, else an evidence
key created on first use in .shipgate/keys/. Trust its public half
wherever the evidence is checked (--trusted-key); policy data can require
it (signing in the data).

With --server (or $SHIPGATE_SERVER, or server: in shipgate.yaml) the checks
still run here; the Verification is recorded on the server as its DSSE
envelope (the server must trust the signing key: shipgate serve
--trusted-key) and the server's verify gate decides; --rollback-on-fail
then rolls back as shipgate rollback --server does.

Exit codes: 0 the verify gate allows; 1 it denies: roll back now; 2 an
error (a bad checks file, no Plan, an app not ready, a ledger that cannot
be written, a bad policy). A failed check is a denial, never an error.

With --rollback-on-fail, a denial (or a gate error) also runs the fast
rollback of shipgate rollback (the last verified commit checked out in
--dir, the build output it was verified with restored from its artifact,
and a restart with the approved deploy command; --build runs only when
that artifact cannot be used, or with --rebuild), recorded with the
trigger verify-failed; the exit code stays 1 (2 if the rollback failed
too).`,
		Example: `  shipgate verify --release lv-2026-11-26.1 --checks examples/localizevideos/checks.yaml
  shipgate verify --release lv-2026-11-26.1 --checks checks.yaml --base https://app.localizevideos.com --var password="$SMOKE_PASSWORD"`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return verifyRun(c.Context(), s, g, o)
		},
	}
	f := c.Flags()
	o.stepOptions.addFlags(c, g, "who verifies")
	f.StringVar(&o.Checks, "checks", "", "checks file, YAML (required)")
	f.StringVar(&o.Base, "base", "", "base URL the steps are relative to (default: the file's base)")
	f.StringArrayVar(&o.Vars, "var", nil, "K=V: a var for the checks file, over the file's vars (repeatable)")
	_ = c.MarkFlagRequired("checks")
	o.Output.AddCIFlags(f)
	f.BoolVar(&o.RollbackOnFail, "rollback-on-fail", false, "when the verify gate denies, roll back to the last verified release at once (see shipgate rollback)")
	o.Rollback.AddFlags(f, g)
	return c
}

func verifyRun(ctx context.Context, s Streams, g *globals, o *verifyOptions) error {
	if err := o.Output.validate(); err != nil {
		return err
	}
	suite, err := loadChecks(o)
	if err != nil {
		return err
	}
	rel, err := o.Release.resolve()
	if err != nil {
		return err
	}
	b, signer, rel, err := o.open(ctx, s, rel)
	if err != nil {
		return err
	}
	defer b.Close()
	env := stepEnvelope(rel, actor(o.Actor, g))
	out, err := release.Verify(ctx, b, release.VerifyRequest{Release: rel, Env: env, Signer: signer, Suite: suite, Log: s.Err, Now: s.now})
	if out == nil {
		return err
	}
	d := out.Decision
	if d != nil {
		if werr := writeDecisionOutput(s, o.Output.Format, d); werr != nil {
			return werr
		}
	}
	switch {
	case o.RollbackOnFail && (err != nil || !d.Allow):
		// A verify that could not allow is not a verified release either:
		// restore the last verified one first, then report.
		fmt.Fprintf(s.Err, "shipgate: verify did not allow: rolling back now (--rollback-on-fail)\n")
		o.Rollback.Trigger = rollback.TriggerVerifyFailed
		o.Rollback.Reason = "verify gate did not allow"
		if d != nil {
			o.Rollback.Reason = fmt.Sprintf("verify gate denied in %s", d.ID)
		}
		// stdout holds the decision in the chosen format: the rollback
		// reports on stderr.
		se := s
		se.Out = s.Err
		rerr := doRollback(ctx, se, b, signer, rel, &o.Rollback, env.Actor)
		switch {
		case err != nil:
			return fmt.Errorf("verify gate: %w; rolled back: %v", err, rerr == nil)
		case rerr != nil && ExitCode(rerr) == ExitDeny:
			return &exitError{code: ExitError, err: fmt.Errorf("verify denied and the rollback failed: %w", rerr)}
		case rerr != nil:
			return rerr
		}
		return &exitError{code: ExitDeny, err: errDenied, silent: true}
	case err != nil:
		return fmt.Errorf("verify gate: %w; rollback required until it allows", err)
	case !d.Allow:
		fmt.Fprintf(s.Err, "shipgate: verify denied: rollback required\n")
		return &exitError{code: ExitDeny, err: errDenied, silent: true}
	}
	return nil
}

func loadChecks(o *verifyOptions) (*httpcheck.Suite, error) {
	vars := map[string]string{}
	for _, kv := range o.Vars {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--var %q: want K=V", kv)
		}
		vars[k] = val
	}
	b, err := inputfile.Read(o.Checks, maxDataBytes)
	if err != nil {
		return nil, fmt.Errorf("read checks: %w", err)
	}
	return httpcheck.Load(o.Checks, b, httpcheck.Options{Base: o.Base, Vars: vars})
}

// releaseOfPlans completes rel from the release's Plans in the ledger
// (release.OfPlans).
func releaseOfPlans(ctx context.Context, db release.EvidenceLister, v *evidence.Validator, rel engine.Release) (engine.Release, error) {
	return release.OfPlans(ctx, db, v, rel)
}
