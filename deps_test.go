package main

import (
	"os/exec"
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

	// project is a shipgate project on disk: its files, keys and ledger.
	"internal/project": {"store/...", "ledger", "evidence", "schemas"},

	// cmd/options are the flag groups the commands share, and how they
	// open the ledger, the server and the policy set; cobra stays in cmd.
	"cmd/options": {"auditpack", "report", "collect", "collect/incidents", "release", "replay", "policydiff", "api", "client", "gate", "engine", "policyset", "policies", "evidence", "schemas", "store/...", "ledger", "rollback", "runner", "artifact", "reconcile", "collect/git", "collect/pm2", "collect/httpcheck", "collect/prom", "internal/celyaml", "internal/project", "signals", "watch"},

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
		if a == rel {
			return true
		}
		if base, ok := strings.CutSuffix(a, "/..."); ok && (rel == base || strings.HasPrefix(rel, base+"/")) {
			return true
		}
	}
	return false
}

func TestDependencyArrows(t *testing.T) {
	const module = "github.com/localizevideos/shipgate/"
	for pkg, list := range allowedDeps {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./"+pkg).Output()
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
