package project

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/sample"
)

// TestSampleOutsideAProject: without a shipgate.yaml the sample keeps
// sample.Default's service and environment, and is written unsigned.
func TestSampleOutsideAProject(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sample")
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	r, names, signed, err := Sample{Dir: dir, Release: "r9", Environment: "staging", Settings: &Settings{}}.Write(context.Background(), now, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "r9" || r.Service != sample.Default.Service || r.Environment != "staging" {
		t.Errorf("Write() release = %+v; want r9, the default service, staging", r)
	}
	if !strings.HasPrefix(signed, "unsigned") {
		t.Errorf("Write() signed = %q; want unsigned", signed)
	}
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("Write() did not write %s: %v", n, err)
		}
	}
}
