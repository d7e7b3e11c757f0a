package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/regotest"
)

// WriteDecision writes d to w in the named format: json, junit, sarif
// (version names the tool; rules, the catalog of the policies that
// decided, describes each rule when not nil), github (workflow commands,
// without a job summary: WriteDecisionSummary writes one) or, for any
// other name, text.
func WriteDecision(w io.Writer, name string, d *engine.Decision, version string, rules engine.Catalog) error {
	ds := []*engine.Decision{d}
	switch name {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(d)
	case "junit":
		return JUnitDecisions(w, ds)
	case "sarif":
		return SARIFDecisionsWithRules(w, ds, version, rules)
	case "github":
		return GitHubDecisions(w, nil, ds)
	}
	return Text(w, d)
}

// WriteTestReport writes a policy test report in one of the CI formats
// (junit, sarif, github); dir is the policy directory as given, which the
// tests' file names are relative to. The github format's job summary goes
// to summary (nil: none).
func WriteTestReport(w, summary io.Writer, name, dir string, rep *regotest.Report, version string) error {
	switch name {
	case "junit":
		return JUnitTests(w, rep, dir)
	case "sarif":
		return SARIFTests(w, rep, dir, version)
	case "github":
		return GitHubTests(w, summary, rep, dir)
	}
	return fmt.Errorf("--output %q: not a policy test report format", name)
}

// StepSummary runs write with a buffer for the GitHub job summary when
// path (the value of $GITHUB_STEP_SUMMARY) names a file, then appends the
// buffer to that file, creating it if missing. A summary that cannot be
// written is reported on errOut and changes nothing else: the workflow
// commands carry the result.
func StepSummary(path string, errOut io.Writer, write func(summary io.Writer) error) error {
	if path == "" {
		return write(nil)
	}
	var sum bytes.Buffer
	if err := write(&sum); err != nil {
		return err
	}
	if err := appendToFile(path, sum.Bytes()); err != nil {
		fmt.Fprintf(errOut, "shipgate: job summary: %v\n", err)
	}
	return nil
}

func appendToFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
