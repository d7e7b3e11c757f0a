package server_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"
)

// publicRoutes are served without a token.
var publicRoutes = []string{"GET /healthz", "GET /readyz", "GET /metrics"}

// docs/openapi.yaml lists exactly the router's routes, each with the roles
// the router admits.
func TestOpenAPIMatchesRouter(t *testing.T) {
	b, err := os.ReadFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string `yaml:"openapi"`
		Paths   map[string]map[string]struct {
			Roles    []string `yaml:"x-shipgate-roles"`
			Security []any    `yaml:"security"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q; want 3.1.0", doc.OpenAPI)
	}
	documented := map[string][]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" {
				continue
			}
			roles := slices.Clone(op.Roles)
			slices.Sort(roles)
			documented[strings.ToUpper(method)+" "+path] = roles
		}
	}
	served := map[string][]string{}
	for _, rt := range newEnv(t).srv.Routes() {
		roles := slices.Clone(rt.Roles)
		slices.Sort(roles)
		served[rt.Pattern()] = roles
	}
	for _, p := range publicRoutes {
		served[p] = nil
	}
	if d := cmp.Diff(served, documented); d != "" {
		t.Errorf("router (-) and docs/openapi.yaml (+) disagree on routes or roles:\n%s", d)
	}
	// The public routes really are served without a token.
	e := newEnv(t)
	for _, p := range publicRoutes {
		method, path, _ := strings.Cut(p, " ")
		if code, _, b := e.call(method, path, "", nil); code != 200 {
			t.Errorf("%s without a token = %d %s; want 200", p, code, b)
		}
	}
}
