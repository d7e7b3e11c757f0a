// Package policytest builds variants of the default policy set for tests.
package policytest

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policyset"
)

// Edited is the default policy set with each file named in edits replaced
// by what its function returns for the file's text ("" for a new file).
// An edit that changes nothing fails the test: a variant must differ.
func Edited(tb testing.TB, edits map[string]func(string) string) fstest.MapFS {
	tb.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policies.FS, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	for name, edit := range edits {
		var old string
		if f, ok := m[name]; ok {
			old = string(f.Data)
		}
		text := edit(old)
		if text == old {
			tb.Fatalf("the edit of %s changes nothing", name)
		}
		m[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return m
}

// Replace returns an edit that replaces old by new, once; the test fails
// when old is not in the file.
func Replace(tb testing.TB, old, new string) func(string) string {
	return func(s string) string {
		tb.Helper()
		if !strings.Contains(s, old) {
			tb.Fatalf("edit: %q not found", old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

// Add returns an edit that writes src as a new file.
func Add(src string) func(string) string {
	return func(string) string { return src }
}

// Data is the default policy data (shipgate/config/data.yaml), a fresh
// copy a test may change.
func Data(tb testing.TB) map[string]any {
	tb.Helper()
	raw, err := fs.ReadFile(policies.FS, "shipgate/config/data.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	data, err := policyset.ReadData("data.yaml", raw)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// MinimalData is the smallest policy data the data schema accepts, every
// list and map empty (schemas/testdata/valid/policydata.min.json): for a
// policy set of a test that reads no data, so that the engine requires no
// evidence, expires none and freezes nothing.
func MinimalData(tb testing.TB) map[string]any {
	tb.Helper()
	_, self, _, _ := runtime.Caller(0)
	name := filepath.Join(filepath.Dir(self), "..", "..", "schemas", "testdata", "valid", "policydata.min.json")
	raw, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	data, err := policyset.ReadData(name, raw)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}
