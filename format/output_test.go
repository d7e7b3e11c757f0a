package format_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/format"
)

func TestStepSummary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	if err := os.WriteFile(path, []byte("before\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(sum io.Writer) error {
		if sum == nil {
			t.Error("no summary writer although a summary file is named")
			return nil
		}
		_, err := io.WriteString(sum, "### summary\n")
		return err
	}
	var errOut bytes.Buffer
	if err := format.StepSummary(path, &errOut, write); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "before\n### summary\n" {
		t.Errorf("summary file = %q; want the summary appended", b)
	}
	// A summary that cannot be written is reported, not returned.
	bad := filepath.Join(t.TempDir(), "missing", "summary.md")
	if err := format.StepSummary(bad, &errOut, write); err != nil {
		t.Errorf("StepSummary(%s) = %v; want the failure reported on errOut only", bad, err)
	}
	if !strings.Contains(errOut.String(), "shipgate: job summary:") {
		t.Errorf("errOut = %q; want the failed summary reported", errOut.String())
	}
	called := false
	if err := format.StepSummary("", &errOut, func(sum io.Writer) error { called = sum == nil; return nil }); err != nil || !called {
		t.Errorf("StepSummary without a path: err %v, called with nil %v; want write called with nil", err, called)
	}
}
