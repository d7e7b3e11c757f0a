package main

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// allowedDeps keeps the arrows pointing down: each package may import only
// the project packages listed for it (transitively). "x/..." allows x and
// everything below it.
var allowedDeps = map[string][]string{
	"schemas":         {},
	"policies":        {},
	"ledger":          {},
	"evidence":        {"schemas"},
	"engine":          {"policyset", "evidence", "schemas"},
	"store":           {"ledger", "evidence", "schemas"},
	"store/sqlstore":  {"store", "ledger", "evidence", "schemas"},
	"store/sqlite":    {"store/sqlstore", "store", "ledger", "evidence", "schemas"},
	"store/postgres":  {"store/sqlstore", "store", "ledger", "evidence", "schemas"},
	"store/storetest": {"store", "ledger", "evidence", "schemas"},
	"gate":            {"engine", "policyset", "evidence", "schemas", "store", "ledger"},
	"replay":          {"engine", "policyset", "policydiff", "evidence", "schemas", "store", "ledger", "gate"},
	"collect/git":     {},
	"runner":          {"evidence", "schemas"},
	"format":          {"engine", "policyset", "regotest", "evidence", "schemas"},
	"report":          {"store", "ledger", "engine", "policyset", "evidence", "schemas", "gate"},
	"auditpack":       {"report", "store", "ledger", "engine", "policyset", "evidence", "schemas", "gate"},
	"cmd":             {"engine", "policyset", "policydiff", "regotest", "evidence", "gate", "policies", "schemas", "store/...", "ledger", "collect/...", "runner", "replay", "format", "format/console", "report", "auditpack", "auth", "server/...", "api", "client", "release", "rollback", "reconcile", "signals", "watch", "artifact", "internal/celyaml", "internal/timespec", "internal/project", "internal/buildinfo", "sample", "docs/cli", "cmd/options", "internal/atomicfile"},
	"rollback":        {"engine", "policyset", "evidence", "schemas", "store", "ledger", "runner", "artifact"},
	"artifact":        {},
	"sample":          {},
	"reconcile":       {"engine", "policyset", "evidence", "schemas", "store", "ledger", "gate", "collect/git", "collect/pm2", "artifact"},
	"collect/pm2":     {},
	"auth":            {"store", "ledger", "evidence", "schemas"},
	"server":          {"api", "auth", "server/web", "gate", "engine", "policyset", "evidence", "schemas", "store", "ledger", "rollback", "runner", "artifact", "release", "client", "reconcile", "collect/git", "collect/pm2", "collect/httpcheck", "collect/prom", "internal/celyaml", "signals", "watch"},
	"client":          {"api", "gate", "engine", "policyset", "evidence", "schemas", "store", "ledger"},

	// release holds the release steps apart from cmd's flags and
	// rendering: a local Backend over gate and store, a remote one over
	// client. It never imports cmd or server.
	"release": {"api", "client", "gate", "engine", "policyset", "evidence", "schemas", "store", "ledger", "rollback", "runner", "artifact", "reconcile", "collect/git", "collect/pm2", "collect/httpcheck", "collect/prom", "internal/celyaml", "signals", "watch"},

	// console renders for people what the release commands print; only
	// cmd imports it.
	"format/console": {"format", "regotest", "collect/incidents", "release", "api", "client", "gate", "engine", "policyset", "evidence", "schemas", "store", "ledger", "rollback", "runner", "artifact", "reconcile", "collect/git", "collect/pm2", "collect/httpcheck", "collect/prom", "internal/celyaml", "signals", "watch"},

	// api holds the JSON documents of the HTTP API, which the server
	// writes and the client reads.
	"api": {"engine", "policyset", "evidence", "schemas", "store", "ledger"},

	// policyset reads policy sets (directories, bundles, data) for the
	// engine, which compiles and evaluates them; policydiff compares two
	// loaded engines and regotest runs a set's Rego tests: the engine
	// imports neither.
	"policyset":  {"schemas"},
	"policydiff": {"engine", "policyset", "evidence", "schemas"},
	"regotest":   {"engine", "policyset", "evidence", "schemas"},

	// The error-spike check of httpcheck reads /metrics and Prometheus
	// through prom, a leaf.
	"collect/prom":      {},
	"collect/httpcheck": {"collect/prom", "internal/celyaml"},
	"collect/incidents": {"internal/celyaml"},

	// watch samples signals, which read Prometheus and /metrics through prom.
	"signals":         {"collect/prom", "internal/celyaml"},
	"watch":           {"signals", "collect/prom", "internal/celyaml"},
	"watch/watchtest": {},

	// celyaml decodes the YAML files of httpcheck, incidents and signals
	// and compiles their CEL.
	"internal/celyaml": {},

	// collect makes and records the evidence shipgate produces itself.
	"collect": {"collect/incidents", "collect/prom", "internal/celyaml", "signals", "runner", "gate", "engine", "policyset", "evidence", "schemas", "store", "ledger"},

	// project is a shipgate project on disk: its files, keys and ledger,
	// and its settings (shipgate.yaml and the environment); and the wiring
	// of what a command chose: the policy set, the evidence checks, the
	// signing key, the backend (a local ledger, or a server) a release step
	// runs on, the audit report, the policy diff and shipgate serve. It
	// never imports cmd.
	"internal/project": {"store/...", "ledger", "evidence", "schemas", "artifact", "sample", "internal/atomicfile", "server/...", "auth", "replay", "policydiff", "engine", "policyset", "policies", "auditpack", "report", "collect", "collect/incidents", "release", "api", "client", "gate", "rollback", "runner", "reconcile", "collect/git", "collect/pm2", "collect/httpcheck", "collect/prom", "internal/celyaml", "signals", "watch"},

	// cmd/options are the flag groups the commands share, bound to what
	// internal/project opens (the ledger, the server, the policy set), and
	// so below all it wires; cobra stays in cmd.
	"cmd/options": {"server/...", "auth", "sample", "internal/atomicfile", "auditpack", "report", "collect", "collect/incidents", "release", "replay", "policydiff", "api", "client", "gate", "engine", "policyset", "policies", "evidence", "schemas", "store/...", "ledger", "rollback", "runner", "artifact", "reconcile", "collect/git", "collect/pm2", "collect/httpcheck", "collect/prom", "internal/celyaml", "internal/project", "signals", "watch"},

	// docs/cli is the command-line reference, one embedded Markdown page
	// per command, that cmd shows as --help; a leaf.
	"docs/cli": {},

	// buildinfo reads what the binary was built from.
	"internal/buildinfo": {},

	// timespec reads the points in time the command line takes.
	"internal/timespec": {},

	// atomicfile writes a file whole or not at all.
	"internal/atomicfile": {},

	// inputfile reads the files users name; see everywhere.
	"internal/inputfile": {},

	// pgtest makes a PostgreSQL database per test; it imports nothing of
	// ours, so the internal tests of store/postgres can use it too.
	"store/postgres/pgtest": {},

	// The command is main: it imports cmd only (checked directly, below).
	"": {"..."},

	// Examples and their tests: the case gallery, the demo, the example
	// keys, and the end-to-end tests (test files only).
	"examples":                     {},
	"examples/cases":               {},
	"examples/localizevideos/demo": {"examples/cases"},
	"examples/localizevideos/e2e":  {},
	"examples/localizevideos/keys": {"evidence", "ledger", "schemas"},

	// Test support: the mutation harness (test files only), edited
	// copies of the shipped policies, gzip tars to read, replay fixtures.
	"gate/mutation":            {},
	"internal/policytest":      {"policies", "policyset", "schemas"},
	"internal/cputime":         {},
	"internal/enginetest":      {"engine", "policyset", "evidence", "schemas", "policies", "ledger", "examples/localizevideos/keys"},
	"internal/targz/targztest": {},
	"replay/replaytest":        {"engine", "policyset", "evidence", "schemas", "gate", "store", "ledger", "examples/localizevideos/keys"},

	// web renders the dashboard for the server.
	"server/web": {"auth", "engine", "policyset", "evidence", "schemas", "gate", "store", "ledger"},

	// targz reads a gzip tar within limits, for every package that
	// unpacks one (audit packs, policy bundles, artifacts).
	"internal/targz": {},

	// canonjson writes canonical JSON (RFC 8785) for what the ledger and
	// evidence hash; see everywhere.
	"internal/canonjson": {},
}

// everywhere are leaves any package may import: inputfile reads a file a
// user named, for every package that takes one; targz reads a gzip tar
// within limits; canonjson writes the canonical JSON that is hashed.
var everywhere = []string{"internal/inputfile", "internal/targz", "internal/canonjson"}

func allowed(list []string, rel string) bool {
	for _, a := range slices.Concat(list, everywhere) {
		if a == rel || a == "..." {
			return true
		}
		if base, ok := strings.CutSuffix(a, "/..."); ok && (rel == base || strings.HasPrefix(rel, base+"/")) {
			return true
		}
	}
	return false
}

// TestEveryPackageHasArrows: a new package states what it may import.
func TestEveryPackageHasArrows(t *testing.T) {
	for _, p := range packages(t) {
		if _, ok := allowedDeps[p.rel]; !ok {
			t.Errorf("package %q is not in allowedDeps: add it with the project packages it may import", p.rel)
		}
	}
}

// thirdParty bans imports where they do not belong: each import path
// prefix (a standard or third-party package) may be imported directly only
// by the project packages listed ("x/..." for x and below).
var thirdParty = map[string][]string{
	// The command line is cmd's: cobra nowhere else; its flags in cmd, its
	// flag groups (cmd/options) and timespec, the flag value type of
	// --since and --now.
	"github.com/spf13/cobra": {"cmd"},
	"github.com/spf13/pflag": {"cmd/...", "internal/timespec"},
	// SQL is the store's.
	"database/sql":               {"store/..."},
	"modernc.org/sqlite":         {"store/sqlite"},
	"github.com/jackc/pgx":       {"store/postgres/..."},
	"github.com/pressly/goose":   {"store/..."},
	"github.com/lib/pq":          {},
	"github.com/mattn/go-sqlite": {},
	// Serving HTTP is the server's: its metrics handler and its pages
	// (and watchtest's stand-in for an app's /metrics in tests).
	"github.com/prometheus/client_golang/prometheus/promhttp": {"server/...", "watch/watchtest"},
	"html/template": {"server/...", "report"},
}

// serving are the net/http names that run a server; only the server and
// test support use them.
var serving = []string{"ListenAndServe", "ListenAndServeTLS", "Serve", "ServeTLS", "Server", "ServeMux", "NewServeMux"}

var servingAllowed = []string{"server/...", "watch/watchtest"}

func TestThirdPartyImports(t *testing.T) {
	for _, p := range packages(t) {
		for _, imp := range p.imports {
			for prefix, list := range thirdParty {
				if strings.HasPrefix(imp, prefix) && !allowedHere(list, p.rel) {
					t.Errorf("%s imports %s, which only %v may import", p.rel, imp, list)
				}
			}
		}
		if p.rel == "" && (len(p.imports) == 0 || !slices.Equal(projectImports(p.imports), []string{"cmd"})) {
			t.Errorf("the root package imports %v of the project; want only cmd", projectImports(p.imports))
		}
	}
}

// TestOnlyTheServerServes looks for net/http's server in the non-test
// sources of every package.
func TestOnlyTheServerServes(t *testing.T) {
	for _, p := range packages(t) {
		if allowedHere(servingAllowed, p.rel) || !slices.Contains(p.imports, "net/http") {
			continue
		}
		for _, f := range p.files {
			file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.dir, f), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			name := "http"
			for _, imp := range file.Imports {
				if imp.Path.Value == `"net/http"` && imp.Name != nil {
					name = imp.Name.Name
				}
			}
			ast.Inspect(file, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == name && slices.Contains(serving, sel.Sel.Name) {
					t.Errorf("%s/%s uses http.%s: only the server serves HTTP", p.rel, f, sel.Sel.Name)
				}
				return true
			})
		}
	}
}

// allowedHere says whether rel matches one of list ("x/..." for x and below).
func allowedHere(list []string, rel string) bool {
	for _, a := range list {
		if a == rel {
			return true
		}
		if base, ok := strings.CutSuffix(a, "/..."); ok && (rel == base || strings.HasPrefix(rel, base+"/")) {
			return true
		}
	}
	return false
}

type listedPackage struct {
	rel, dir string
	imports  []string
	files    []string
}

// packages lists the module's packages with their direct non-test imports
// and Go files.
func packages(t *testing.T) []listedPackage {
	t.Helper()
	// -pgo=off: with default.pgo, go list names the main package's
	// dependencies as its own variants ("cmd [github.com/…/shipgate]"); the
	// import graph is the same either way.
	out, err := exec.Command("go", "list", "-pgo=off", "-json=ImportPath,Dir,Imports,GoFiles", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			ImportPath, Dir  string
			Imports, GoFiles []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "github.com/localizevideos/shipgate")
		pkgs = append(pkgs, listedPackage{rel: rel, dir: p.Dir, imports: p.Imports, files: p.GoFiles})
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	return pkgs
}

// projectImports lists the project packages among imports, relative.
func projectImports(imports []string) []string {
	var out []string
	for _, imp := range imports {
		if rel, ok := strings.CutPrefix(imp, module); ok {
			out = append(out, rel)
		}
	}
	return out
}

const module = "github.com/localizevideos/shipgate/"

func TestDependencyArrows(t *testing.T) {
	for pkg, list := range allowedDeps {
		out, err := exec.Command("go", "list", "-pgo=off", "-deps", "-f", "{{.ImportPath}}", "./"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			rel, ok := strings.CutPrefix(dep, module)
			if !ok || rel == pkg {
				continue
			}
			if !allowed(list, rel) {
				t.Errorf("%s imports %s; allowed: %v", pkg, rel, list)
			}
		}
	}
}
