package sample_test

import (
	"testing"
	"time"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/sample"
	"github.com/localizevideos/shipgate/schemas"
)

// TestFilesValidAndDatedFromNow: every sample document is valid evidence of
// the sample release, collected in the minutes before now, on any day.
func TestFilesValidAndDatedFromNow(t *testing.T) {
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	v := evidence.NewValidator(reg, evidence.DefaultLimits)
	for _, now := range []time.Time{
		time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC),
		time.Date(2028, 2, 29, 23, 59, 0, 0, time.UTC),
		time.Now(),
	} {
		names, docs, err := sample.Files(sample.Default, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(names) != 5 {
			t.Errorf("Files = %v; want the five documents of the deploy gate", names)
		}
		for _, n := range names {
			d, err := v.Decode(n, docs[n])
			if err != nil {
				t.Fatalf("%s at %s: %v", n, now, err)
			}
			if d.ReleaseID != sample.Default.ID || d.Environment != "staging" || d.Commit != sample.Default.Commit {
				t.Errorf("%s: release %s/%s @ %s; want the sample's", n, d.ReleaseID, d.Environment, d.Commit)
			}
			if age := now.Sub(d.CollectedAt); age <= 0 || age > 40*time.Minute {
				t.Errorf("%s at %s: collected %s before now; want within the 40 minutes before", n, now, age)
			}
		}
	}
}
