package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/format"
	"github.com/localizevideos/shipgate/internal/atomicfile"
	"github.com/localizevideos/shipgate/regotest"
	"github.com/localizevideos/shipgate/release"
)

// writeDecisionOutput writes d to s.Out in the named format
// (format.WriteDecision), with the rule catalog of b's policies where b
// decides here; the github format also appends its job summary to
// $GITHUB_STEP_SUMMARY. A step that made no decision (nil) writes nothing.
func writeDecisionOutput(ctx context.Context, s Streams, name string, d *engine.Decision, b release.Backend) error {
	if d == nil {
		return nil
	}
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

// writeOut writes with write to s.Out, or, when path is given, to the
// file path, whole or not at all (atomicfile), and then says on s.Out
// what it wrote there (done, called after write).
func writeOut(s Streams, path string, write func(io.Writer) error, done func() string) error {
	if path == "" {
		return write(s.Out)
	}
	if err := atomicfile.Write(path, 0o644, write); err != nil {
		return err
	}
	_, err := fmt.Fprintln(s.Out, done())
	return err
}

// writeJSON writes v, indented JSON, to s.Out, or, when path is given, to
// the file path (what names it in an error), and then says done on s.Out.
func writeJSON(s Streams, path, what string, v any, done string) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "" {
		_, err = s.Out.Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	_, err = fmt.Fprintln(s.Out, done)
	return err
}
