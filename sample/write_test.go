package sample_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/sample"
)

func TestWriteRefusesToOverwrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sample")
	names := []string{"a.json", "b.json"}
	docs := map[string][]byte{"a.json": []byte("1"), "b.json": []byte("2")}
	if err := sample.Write(dir, names, docs, false); err != nil {
		t.Fatal(err)
	}
	docs["a.json"] = []byte("changed")
	if err := sample.Write(dir, names, docs, false); err == nil || !strings.Contains(err.Error(), "without --force") {
		t.Fatalf("Write over an earlier sample = %v; want a refusal", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.json")); string(b) != "1" {
		t.Fatalf("a refused Write changed a.json to %q", b)
	}
	if err := sample.Write(dir, names, docs, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.json")); string(b) != "changed" {
		t.Errorf("Write with force left a.json %q", b)
	}
}
