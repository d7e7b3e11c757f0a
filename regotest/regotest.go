// Package regotest runs the Rego tests of a policy set (its *_test.rego
// rules) with OPA's tester, against the set's data checked as the engine
// checks it, and measures the coverage of its other modules.
package regotest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/policyset"
)

// Result is the outcome of one Rego test rule.
type Result struct {
	Package  string        `json:"package"`
	Name     string        `json:"name"`
	File     string        `json:"file"`
	Row      int           `json:"row"`
	Outcome  string        `json:"outcome"` // pass, fail, error, skip
	Message  string        `json:"message,omitempty"`
	Duration time.Duration `json:"duration"`
}

// Report summarises a policy test run.
type Report struct {
	Results  []Result           `json:"results"`
	Passed   int                `json:"passed"`
	Failed   int                `json:"failed"`
	Errored  int                `json:"errored"`
	Skipped  int                `json:"skipped"`
	Coverage float64            `json:"coverage"`
	Files    map[string]float64 `json:"files"`
}

// OK reports whether tests ran and none failed or errored.
func (r *Report) OK() bool { return r.Passed > 0 && r.Failed == 0 && r.Errored == 0 }

// Check is the verdict of the run: an error when no test ran, when a test
// failed or errored, or when the coverage is below minCoverage percent
// (shipgate policy test --min-coverage); nil otherwise.
func (r *Report) Check(minCoverage float64) error {
	switch {
	case r.Passed+r.Failed+r.Errored == 0:
		return fmt.Errorf("no policy test ran")
	case !r.OK():
		return fmt.Errorf("%d policy tests failed, %d errors", r.Failed, r.Errored)
	case r.Coverage < minCoverage:
		return fmt.Errorf("coverage %.2f%% is below --min-coverage %.2f%%", r.Coverage, minCoverage)
	}
	return nil
}

// Options name the policy set to test and its data.
type Options struct {
	// Policies holds the .rego modules, their *_test.rego tests and OPA
	// data files, as for engine.Load.
	Policies fs.FS
	// Data, when non-nil, replaces data.shipgate.config; DataFiles are the
	// files it was read from, to place its errors (engine.Options).
	Data      map[string]any
	DataFiles []policyset.DataFile
}

// Run runs the *_test.rego rules of opts.Policies with OPA's tester and
// measures coverage of the non-test modules. opts.Data replaces
// data.shipgate.config as it does for engine.Load, and the data is checked
// against the data schema as Load checks it (the tests themselves may
// mount any data with `with`).
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Policies == nil {
		return nil, &engine.PolicyError{Err: errors.New("test policies: give a policy directory")}
	}
	set, err := policyset.Open(policyset.Source{Policies: opts.Policies, Data: opts.Data, DataFiles: opts.DataFiles, Tests: true})
	if err != nil {
		return nil, &engine.PolicyError{Err: err}
	}
	if _, err := set.Config(false); err != nil {
		return nil, &engine.PolicyError{Err: err}
	}
	modules := set.Modules()
	compiler := ast.NewCompiler().
		WithCapabilities(engine.Capabilities()).
		WithStrict(true).
		WithEnablePrintStatements(false)
	cov := cover.New()
	runner := tester.NewRunner().
		SetCompiler(compiler).
		SetStore(inmem.NewFromObject(set.Data())).
		SetCoverageQueryTracer(cov).
		RaiseBuiltinErrors(true).
		SetModules(modules)
	ch, err := runner.RunTests(ctx, nil)
	if err != nil {
		if compiler.Failed() {
			return nil, &engine.PolicyError{Errors: compiler.Errors}
		}
		return nil, fmt.Errorf("run policy tests: %w", err)
	}
	rep := &Report{Files: map[string]float64{}}
	for r := range ch {
		tr := Result{Package: r.Package, Name: r.Name, Duration: r.Duration}
		if r.Location != nil {
			tr.File, tr.Row = r.Location.File, r.Location.Row
		}
		switch {
		case r.Skip:
			tr.Outcome = "skip"
			rep.Skipped++
		case r.Error != nil:
			tr.Outcome, tr.Message = "error", r.Error.Error()
			rep.Errored++
		case r.Fail:
			tr.Outcome = "fail"
			if r.FailedAt != nil {
				tr.Message = "failed at " + r.FailedAt.String()
			}
			rep.Failed++
		default:
			tr.Outcome = "pass"
			rep.Passed++
		}
		rep.Results = append(rep.Results, tr)
	}
	sort.Slice(rep.Results, func(i, j int) bool {
		a, b := rep.Results[i], rep.Results[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Row < b.Row
	})
	// Coverage counts the policy modules, not the tests exercising them.
	covered := map[string]*ast.Module{}
	for name, m := range modules {
		if !strings.HasSuffix(name, "_test.rego") {
			covered[name] = m
		}
	}
	cr := cov.Report(covered)
	rep.Coverage = cr.Coverage
	for f, fr := range cr.Files {
		rep.Files[f] = fr.Coverage
	}
	return rep, nil
}
