package cmd

import (
	"io"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/format"
	"github.com/localizevideos/shipgate/regotest"
)

// writeDecisionOutput writes d to s.Out in the named format
// (format.WriteDecision); the github format also appends its job summary
// to $GITHUB_STEP_SUMMARY.
func writeDecisionOutput(s Streams, name string, d *engine.Decision) error {
	if name != "github" {
		return format.WriteDecision(s.Out, name, d, Version)
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
