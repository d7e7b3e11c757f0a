// Package cmd wires shipgate's commands: flags into option structs, options
// into the packages that do the work, results into output and exit codes.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/docs/cli"
	"github.com/localizevideos/shipgate/internal/buildinfo"
	"github.com/localizevideos/shipgate/internal/timespec"
	"github.com/localizevideos/shipgate/schemas"
)

// Version is set at build time with -ldflags "-X .../cmd.Version=...";
// make build stamps `git describe --tags --always --dirty`.
var Version = "0.1.0-dev"

// Commit and Modified are stamped by make build like Version (the git
// revision, and "true" when the tree had uncommitted changes): `shipgate
// version` reports them when the build information records no revision
// (-buildvcs=false, or a build outside the clone).
var Commit, Modified string

// Exit codes, as pipelines expect them from a gate.
const (
	ExitAllow = 0
	ExitDeny  = 1
	ExitError = 2
)

// Streams are the command's standard streams and its environment.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
	// Getenv reads the environment; nil reads none.
	Getenv func(string) string
	// Now is the wall clock; nil is time.Now. Tests pin it so that no
	// expectation depends on the day they run.
	Now func() time.Time
	// NewID names what the ledger records: decisions, violations,
	// obligations and API tokens; nil is random, time-ordered ids
	// (gate.NewID). Tests pin it so that an example can name an id.
	NewID func(prefix string, now time.Time) string
}

// now reads the command's wall clock.
func (s Streams) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// exitError carries an exit code through cobra. A silent one has already
// been reported (a denial printed as a decision).
type exitError struct {
	code   int
	err    error
	silent bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errDenied is a denial already reported (its decision printed): exit 1,
// and nothing more on stderr.
var errDenied error = &exitError{code: ExitDeny, err: errors.New("denied"), silent: true}

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitAllow
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitError
}

// ledgerExit maps an error of reading or checking the ledger to its exit
// code: 1 for a ledger that is broken (auditpack.IsBreak: its chain or
// its tables do not hold) or that a checkpoint was refused for
// (auditpack.RefusedError: it does not verify), 2 for a fault; nil is nil.
func ledgerExit(err error) error {
	var refused *auditpack.RefusedError
	switch {
	case err == nil:
		return nil
	case auditpack.IsBreak(err), errors.As(err, &refused):
		return &exitError{code: ExitDeny, err: err}
	}
	return &exitError{code: ExitError, err: err}
}

// Execute runs the command line args and returns the exit code. It never
// exits the process itself, so deferred work always runs.
func Execute(ctx context.Context, args []string, s Streams) int {
	root := NewRoot(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil {
		var ee *exitError
		if !errors.As(err, &ee) || !ee.silent {
			fmt.Fprintf(s.Err, "shipgate: %v\n", err)
		}
	}
	return ExitCode(err)
}

// NewRoot builds the command tree.
func NewRoot(s Streams) *cobra.Command {
	root := &cobra.Command{
		Use:           "shipgate",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	// -v is --verbose wherever a command has one (policy test, as in opa
	// test -v); so --version, which cobra would give -v, has no shorthand.
	root.Flags().Bool("version", false, "print the version, the commit, and the Go, OPA and CEL versions (as shipgate version)")
	var text strings.Builder
	_ = buildinfo.Read(Version, Commit, Modified).WriteText(&text)
	root.Annotations = map[string]string{"version": text.String()}
	root.SetVersionTemplate(versionTemplate)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetFlagErrorFunc(flagError)
	// Every --output is checked before its command runs (options.Output).
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error { return options.CheckOutput(c.Flags()) }
	g := &options.Globals{Getenv: s.Getenv, Now: s.Now, NewID: s.NewID}
	options.AddGlobalFlags(root.PersistentFlags(), g)
	root.AddCommand(commands(s, g)...)
	applyDocs(root)
	return root
}

// commands are shipgate's commands as a user meets them: the groups, and
// each command a user runs with its syntax, its arguments and its options.
func commands(s Streams, g *options.Globals) []*cobra.Command {
	cmd := func(use string, args cobra.PositionalArgs, o leafOptions) *cobra.Command {
		return leaf(s, g, use, args, o)
	}
	reconcile := group("reconcile", cmd("pm2 --app NAME", cobra.NoArgs, &reconcileOptions{}))
	reconcile.Args = cobra.NoArgs
	return []*cobra.Command{
		cmd("init", cobra.NoArgs, &initOptions{}),
		cmd("example [DIR]", cobra.MaximumNArgs(1), &exampleOptions{}),
		cmd("gate GATE --release ID [--evidence DIR|FILE...]", cobra.ExactArgs(1), &gateOptions{}),
		group("evidence",
			cmd("add FILE|DIR...", cobra.MinimumNArgs(1), &evidenceAddOptions{}),
			cmd("validate FILE|DIR...", cobra.MinimumNArgs(1), &evidenceValidateOptions{}),
			cmd("show FILE", cobra.ExactArgs(1), &evidenceShowOptions{}),
			cmd("sign FILE", cobra.ExactArgs(1), &evidenceSignOptions{})),
		group("policy",
			cmd("test [DIR]", cobra.MaximumNArgs(1), &policyTestOptions{}),
			cmd("check [DIR]", cobra.MaximumNArgs(1), &policyCheckOptions{}),
			cmd("fmt [DIR] [--check]", cobra.MaximumNArgs(1), &policyFmtOptions{}),
			cmd("diff --base REF|DIR [--head DIR]", cobra.NoArgs, &policyDiffOptions{}),
			cmd("review --base REF [--head DIR] [--docs FILE]", cobra.NoArgs, &policyReviewOptions{}),
			cmd("bundle [DIR] --out FILE.tar.gz [--sign KEY] [--revision REV]", cobra.MaximumNArgs(1), &policyBundleOptions{})),
		group("violations",
			cmd("list", cobra.NoArgs, &violationsListOptions{}),
			cmd("show ID", nameArgs("violation id"), &violationsShowOptions{}),
			cmd("sweep", cobra.NoArgs, &violationsSweepOptions{})),
		group("postmortem",
			cmd("add --violation ID FILE", cobra.ExactArgs(1), &postmortemAddOptions{}),
			cmd("new (--violation ID | --release R) --summary TEXT", cobra.NoArgs, &postmortemNewOptions{})),
		cmd("status --release ID", cobra.NoArgs, &statusOptions{}),
		group("audit",
			cmd("verify [--checkpoint FILE]", cobra.NoArgs, &auditVerifyOptions{}),
			cmd("checkpoint [--out FILE]", cobra.NoArgs, &auditCheckpointOptions{}),
			cmd("export --format opa-decision-log|pack [--since TIME] [--release ID] [--out FILE]", cobra.NoArgs, &auditExportOptions{}),
			cmd("report --since TIME --until TIME --format md|html|json|csv [--out FILE]", cobra.NoArgs, &auditReportOptions{}),
			cmd("replay PACK.tar.gz [--key PUBKEY] [-o text|json]", cobra.ExactArgs(1), &auditReplayOptions{})),
		group("decision", cmd("show ID", nameArgs("decision id"), &decisionShowOptions{})),
		cmd("run STEP --release ID [flags] -- CMD ARGS...", stepArgs, &runOptions{}),
		cmd("verify --release ID --checks FILE [--base URL] [--var K=V]...", cobra.NoArgs, &verifyOptions{}),
		cmd("watch --release ID --signals FILE [--window 15m] [--interval 15s] [--auto-rollback]", cobra.NoArgs, &watchOptions{}),
		cmd("rollback --release ID [--emergency --flag NAME]", cobra.NoArgs, &rollbackOptions{}),
		cmd("hold --release ID --reason TEXT --by NAME | --release ID --release-hold --by NAME", cobra.NoArgs, &placeHoldOptions{}),
		cmd("unhold --release ID --by NAME [--reason TEXT]", cobra.NoArgs, &holdOptions{Lift: true}),
		// Each collector reads one outside source and records what it
		// found as signed evidence.
		group("collect",
			cmd("incidents --from URL|FILE --map FILE --release ID", cobra.NoArgs, &collectIncidentsOptions{}),
			cmd("error-budget --release ID --slo FILE", cobra.NoArgs, &errorBudgetOptions{})),
		reconcile,
		group("token",
			cmd("create --role pipeline|approver|auditor|admin --name NAME", cobra.NoArgs, &tokenCreateOptions{}),
			cmd("list", cobra.NoArgs, &tokenListOptions{}),
			cmd("revoke ID", cobra.ExactArgs(1), &tokenRevokeOptions{})),
		cmd("serve --store sqlite://FILE|postgres://URL [--listen ADDR]", cobra.NoArgs, &serveOptions{}),
		cmd("version", cobra.NoArgs, &versionOptions{}),
	}
}

// applyDocs gives c and every command below it the summary, description
// and examples of its page of the command-line reference (docs/cli), so
// that --help shows what the reference says. A command without a page
// keeps what it has (TestEveryCommandHasPage finds it); a page that
// cannot be read is a bug of the build, and panics at once.
func applyDocs(c *cobra.Command) {
	p, ok, err := cli.Lookup(c.CommandPath())
	if err != nil {
		panic(err)
	}
	if ok {
		c.Short, c.Long, c.Example = p.Short, p.Long, p.Example
	}
	for _, sub := range c.Commands() {
		applyDocs(sub)
	}
}

// flagError shows a refused time or name as its own error, without
// pflag's "invalid argument" around it: a time error names the flag, the
// text and the forms itself, and pflag would quote a refused value whole
// where a name error shows it escaped and cut (a 10 KiB release id), with
// the flag named.
func flagError(_ *cobra.Command, err error) error {
	var te *timespec.Error
	if errors.As(err, &te) {
		return te
	}
	var ne *schemas.NameError
	if errors.As(err, &ne) {
		return ne
	}
	return err
}
