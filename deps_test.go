package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// allowedDeps keeps the arrows pointing down: each package may import only
// the project packages listed for it (transitively).
var allowedDeps = map[string][]string{
	"schemas":  {},
	"policies": {},
	"evidence": {"schemas"},
	"engine":   {"evidence", "schemas"},
	"gate":     {"engine", "evidence", "schemas"},
	"cmd":      {"engine", "evidence", "gate", "policies", "schemas"},
}

func TestDependencyArrows(t *testing.T) {
	const module = "github.com/localizevideos/shipgate/"
	for pkg, allowed := range allowedDeps {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			rel, ok := strings.CutPrefix(dep, module)
			if !ok || rel == pkg {
				continue
			}
			top, _, _ := strings.Cut(rel, "/")
			if !slices.Contains(allowed, top) {
				t.Errorf("%s imports %s; allowed: %v", pkg, rel, allowed)
			}
		}
	}
}
