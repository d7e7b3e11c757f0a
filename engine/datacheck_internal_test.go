package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/localizevideos/shipgate/policyset"
)

// minimalData is the smallest data the data schema accepts, for policy
// sets of tests that read little of it (policytest.MinimalData, which
// this package's own tests cannot import).
func minimalData(t *testing.T) map[string]any {
	t.Helper()
	name := filepath.Join("..", "schemas", "testdata", "valid", "policydata.min.json")
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	data, err := policyset.ReadData(name, raw)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
