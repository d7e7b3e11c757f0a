package cmd

import (
	"context"
	"io"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/format"
	"github.com/localizevideos/shipgate/regotest"
	"github.com/localizevideos/shipgate/release"
)

// writeDecisionOutput writes d to s.Out in the named format
// (format.WriteDecision), with the rule catalog of b's policies where b
// decides here; the github format also appends its job summary to
// $GITHUB_STEP_SUMMARY.
func writeDecisionOutput(ctx context.Context, s Streams, name string, d *engine.Decision, b release.Backend) error {
	if name != "github" {
		var rules engine.Catalog
		if l, ok := b.(*release.Local); ok {
			rules = l.Catalog(ctx)
		}
		return format.WriteDecision(s.Out, name, d, Version, rules)
	}
	return withStepSummary(s, func(sum io.Writer) error {
		return format.GitHubDecisions(s.Out, sum, []*engine.Decision{d})
	})
}

// writeTestReport writes a policy test report in one of the CI formats
// (format.WriteTestReport), the github one with its job summary.
func writeTestReport(s Streams, name, dir string, rep *regotest.Report) error {
	if name != "github" {
		return format.WriteTestReport(s.Out, nil, name, dir, rep, Version)
	}
	return withStepSummary(s, func(sum io.Writer) error {
		return format.WriteTestReport(s.Out, sum, name, dir, rep, Version)
	})
}

// withStepSummary runs write with the GitHub job summary of
// $GITHUB_STEP_SUMMARY (format.StepSummary): a summary that cannot be
// written is reported on stderr, and the exit code stays the verdict's.
func withStepSummary(s Streams, write func(summary io.Writer) error) error {
	path := ""
	if s.Getenv != nil {
		path = s.Getenv("GITHUB_STEP_SUMMARY")
	}
	return format.StepSummary(path, s.Err, write)
}
