package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestResult is the outcome of one Rego test rule.
type TestResult struct {
	Package  string        `json:"package"`
	Name     string        `json:"name"`
	File     string        `json:"file"`
	Row      int           `json:"row"`
	Outcome  string        `json:"outcome"` // pass, fail, error, skip
	Message  string        `json:"message,omitempty"`
	Duration time.Duration `json:"duration"`
}

// TestReport summarises a policy test run.
type TestReport struct {
	Results  []TestResult       `json:"results"`
	Passed   int                `json:"passed"`
	Failed   int                `json:"failed"`
	Errored  int                `json:"errored"`
	Skipped  int                `json:"skipped"`
	Coverage float64            `json:"coverage"`
	Files    map[string]float64 `json:"files"`
}

// OK reports whether tests ran and none failed or errored.
func (r *TestReport) OK() bool { return r.Passed > 0 && r.Failed == 0 && r.Errored == 0 }

// Test runs the *_test.rego rules of opts.Policies with OPA's tester and
// measures coverage of the non-test modules. opts.Data replaces
// data.shipgate.config as it does for Load, and the data is checked
// against the data schema as Load checks it (the tests themselves may
// mount any data with `with`).
func Test(ctx context.Context, opts Options) (*TestReport, error) {
	fsys := opts.Policies
	if fsys == nil || opts.Bundle != nil {
		return nil, &PolicyError{Err: errors.New("test policies: give a policy directory")}
	}
	res, err := loader.NewFileLoader().WithFS(fsys).WithRegoVersion(ast.RegoV1).WithProcessAnnotation(true).All([]string{"."})
	if err != nil {
		return nil, &PolicyError{Err: fmt.Errorf("load policies: %w", err)}
	}
	own, err := ownData(fsys)
	if err != nil {
		return nil, &PolicyError{Err: fmt.Errorf("load policies: %w", err)}
	}
	res.Documents = withData(res.Documents, opts.Data)
	if _, err := policyData(res.Documents, dataLayers(own, opts.Data != nil, opts.DataFiles), opts.Recorded); err != nil {
		return nil, &PolicyError{Err: err}
	}
	modules := res.ParsedModules()
	compiler := ast.NewCompiler().
		WithCapabilities(Capabilities()).
		WithStrict(true).
		WithEnablePrintStatements(false)
	cov := cover.New()
	runner := tester.NewRunner().
		SetCompiler(compiler).
		SetStore(inmem.NewFromObject(res.Documents)).
		SetCoverageQueryTracer(cov).
		RaiseBuiltinErrors(true).
		SetModules(modules)
	ch, err := runner.RunTests(ctx, nil)
	if err != nil {
		if compiler.Failed() {
			return nil, &PolicyError{Errors: compiler.Errors}
		}
		return nil, fmt.Errorf("run policy tests: %w", err)
	}
	rep := &TestReport{Files: map[string]float64{}}
	for r := range ch {
		tr := TestResult{Package: r.Package, Name: r.Name, Duration: r.Duration}
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
