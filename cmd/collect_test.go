package cmd_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// incidentsLedger chdirs to a fresh directory (collect creates its evidence
// key under .shipgate/ there) holding a ledger with the allowed example's
// Plan, and returns the ledger and the statuspage fixtures' directory.
func incidentsLedger(t *testing.T) (db, fixtures string) {
	t.Helper()
	fixtures, err := filepath.Abs(filepath.Join("..", "examples", "localizevideos", "statuspage"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := os.ReadFile(filepath.Join("..", "examples", "localizevideos", "evidence", "allowed", "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if err := os.WriteFile("plan.json", plan, 0o644); err != nil {
		t.Fatal(err)
	}
	shipgate(t, 0, "evidence", "add", "plan.json", "--store", "ledger.db")
	return "ledger.db", fixtures
}

// statusPage serves body with status at /api/v2/incidents.json, as a status
// page API over loopback, and counts the requests.
func statusPage(t *testing.T, status int, body []byte) (url string, hits *int) {
	t.Helper()
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		if r.URL.Path != "/api/v2/incidents.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/api/v2/incidents.json", &n
}

// recordedIncidents lists the IncidentStatus documents the deploy gate
// would be given for the release, with their signers.
func recordedIncidents(t *testing.T, db string) []map[string]any {
	t.Helper()
	out, _ := shipgate(t, 0, "gate", "deploy", "--release", "lv-2026-11-26.1", "--store", db, "--print-input")
	var in struct {
		Evidence map[string][]map[string]any `json:"evidence"`
	}
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatalf("--print-input: %v\n%s", err, out)
	}
	return in.Evidence["IncidentStatus"]
}

var keyIDRE = regexp.MustCompile(`key id (sha256:[0-9a-f]{64})`)

func TestCollectIncidentsOverHTTP(t *testing.T) {
	db, fixtures := incidentsLedger(t)
	body, err := os.ReadFile(filepath.Join(fixtures, "incidents.json"))
	if err != nil {
		t.Fatal(err)
	}
	url, hits := statusPage(t, http.StatusOK, body)
	mapFile := filepath.Join(fixtures, "incidents-map.yaml")
	out, errOut := shipgate(t, 0, "collect", "incidents", "--release", "lv-2026-11-26.1", "--from", url, "--map", mapFile, "--store", db, "--actor", "ci-bot")
	if *hits != 1 {
		t.Errorf("the status page was asked %d times; want 1", *hits)
	}
	for _, want := range []string{"2 incidents from " + url + ", 1 not resolved", "INC-41     SEV-3 open      Typo on the pricing page", "INC-39     SEV-2 resolved  Subtitle export timeouts"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	m := keyIDRE.FindStringSubmatch(errOut)
	if m == nil || !strings.Contains(errOut, "recorded IncidentStatus for release lv-2026-11-26.1 @ 3f2c9a0e5b1d: sha256:") || !strings.Contains(errOut, "signed by "+m[1]) {
		t.Fatalf("stderr does not say the key was created and the document recorded signed by it:\n%s", errOut)
	}
	if _, err := os.Stat(".shipgate/keys/evidence.key"); err != nil {
		t.Errorf("evidence key: %v", err)
	}
	docs := recordedIncidents(t, db)
	if len(docs) != 1 {
		t.Fatalf("%d IncidentStatus recorded; want 1", len(docs))
	}
	data := docs[0]["data"].(map[string]any)
	if data["source"] != url || len(data["incidents"].([]any)) != 2 {
		t.Errorf("recorded data %v", data)
	}
	if signers, _ := docs[0]["signed_by"].([]any); len(signers) != 1 || signers[0] != m[1] {
		t.Errorf("signed_by = %v; want [%s]", docs[0]["signed_by"], m[1])
	}

	// Every way of not knowing the incidents: exit 2, nothing more recorded.
	down, _ := statusPage(t, http.StatusServiceUnavailable, []byte(`{"error": "maintenance"}`))
	html, _ := statusPage(t, http.StatusOK, []byte(`<html>we are down</html>`))
	unknown, _ := statusPage(t, http.StatusOK, []byte(`{"incidents": [{"id": "INC-9", "name": "x", "status": "investigating", "impact": "catastrophic", "components": [{"name": "localizevideos-app"}]}]}`))
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL + "/api/v2/incidents.json"
	closed.Close()
	for _, tt := range []struct{ from, want string }{
		{down, "answered 503 Service Unavailable"},
		{html, "the incident list is not JSON"},
		{unknown, `fields.severity "{\"critical\": \"SEV-1\", \"major\": \"SEV-2\", \"minor\": \"SEV-3\", \"none\": \"SEV-4\"}[item.impact]": item 0 (id INC-9): no such key: catastrophic`},
		{closedURL, "incidents source unreachable"},
	} {
		_, errOut := shipgate(t, 2, "collect", "incidents", "--release", "lv-2026-11-26.1", "--from", tt.from, "--map", mapFile, "--store", db)
		if !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, `nothing recorded: an incident list that cannot be read is not "no incidents"`) {
			t.Errorf("collect --from %s: stderr\n%s\nwant %q and nothing recorded", tt.from, errOut, tt.want)
		}
	}
	if n := len(recordedIncidents(t, db)); n != 1 {
		t.Errorf("%d IncidentStatus recorded after the failures; want still 1", n)
	}
}

// An open SEV-1 read from the status page denies the deploy gate.
func TestCollectIncidentsSev1DeniesDeploy(t *testing.T) {
	db, fixtures := incidentsLedger(t)
	shipgate(t, 0, "collect", "incidents", "--release", "lv-2026-11-26.1", "--from", filepath.Join(fixtures, "incidents-sev1.json"),
		"--map", filepath.Join(fixtures, "incidents-map.yaml"), "--store", db)
	now := time.Now().UTC().Format(time.RFC3339)
	out, _ := shipgate(t, 1, "gate", "deploy", "--release", "lv-2026-11-26.1", "--store", db, "--dry-run", "--now", now)
	if !strings.Contains(out, "INC-42") {
		t.Errorf("deploy gate output does not name INC-42:\n%s", out)
	}
}
