package incidents_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/collect/incidents"
)

const fixtures = "../../examples/localizevideos/statuspage/"

func load(t *testing.T, path string) *incidents.Mapping {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := incidents.Load(path, b)
	if err != nil {
		t.Fatalf("Load(%s) = %v", path, err)
	}
	return m
}

func mapping(t *testing.T, yaml string) *incidents.Mapping {
	t.Helper()
	m, err := incidents.Load("map.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	return m
}

var wantLV = []incidents.Incident{
	{ID: "INC-41", Severity: "SEV-3", Status: "open", Title: "Typo on the pricing page", OpenedAt: "2026-11-25T08:10:00Z"},
	{ID: "INC-39", Severity: "SEV-2", Status: "resolved", Title: "Subtitle export timeouts", OpenedAt: "2026-11-24T14:02:00Z", ResolvedAt: "2026-11-24T16:45:00Z"},
}

// serve answers every request with status and body, as a status page API.
func serve(t *testing.T, status int, body []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "application/json" {
			http.Error(w, "want Accept: application/json", http.StatusNotAcceptable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCollectFromFileAndHTTP(t *testing.T) {
	m := load(t, fixtures+"incidents-map.yaml")
	ctx := context.Background()
	fromFile, err := incidents.Fetch(ctx, http.DefaultClient, fixtures+"incidents.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, http.StatusOK, fromFile)
	fromHTTP, err := incidents.Fetch(ctx, srv.Client(), srv.URL+"/api/v2/incidents.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"file": fromFile, "http": fromHTTP} {
		got, err := m.Apply(ctx, body)
		if err != nil {
			t.Fatalf("%s: Apply = %v", name, err)
		}
		if diff := cmp.Diff(wantLV, got); diff != "" {
			t.Errorf("%s: Apply (-want +got):\n%s", name, diff)
		}
	}
	sev1, err := incidents.Fetch(ctx, http.DefaultClient, fixtures+"incidents-sev1.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Apply(ctx, sev1)
	if err != nil || len(got) != 2 || got[0] != (incidents.Incident{ID: "INC-42", Severity: "SEV-1", Status: "open", Title: "Login fails for every user", OpenedAt: "2026-11-26T09:12:00Z"}) {
		t.Errorf("Apply(sev1) = %+v, %v", got, err)
	}
	// An empty list from a reachable source is "no incidents".
	got, err = m.Apply(ctx, []byte(`{"incidents": []}`))
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("Apply(no incidents) = %#v, %v; want an empty list", got, err)
	}
}

// Every way of not knowing the incidents is an error, never an empty list.
func TestCollectFailsClosed(t *testing.T) {
	ctx := context.Background()
	m := load(t, fixtures+"incidents-map.yaml")
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	big := make([]byte, incidents.MaxBytes+10)
	fetches := []struct {
		name string
		src  func(t *testing.T) string
		want string
	}{
		{"unreachable", func(*testing.T) string { return closedURL }, "incidents source unreachable"},
		{"server error", func(t *testing.T) string { return serve(t, 503, []byte(`{"error":"maintenance"}`)).URL }, "answered 503 Service Unavailable"},
		{"not found", func(t *testing.T) string { return serve(t, 404, nil).URL }, "answered 404"},
		{"too large", func(t *testing.T) string { return serve(t, 200, big).URL }, "larger than the limit"},
		{"missing file", func(*testing.T) string { return "no-such-file.json" }, "no-such-file.json"},
	}
	for _, tt := range fetches {
		t.Run(tt.name, func(t *testing.T) {
			b, err := incidents.Fetch(ctx, http.DefaultClient, tt.src(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Fetch = %d bytes, %v; want an error containing %q", len(b), err, tt.want)
			}
		})
	}

	item := func(impact, status string) string {
		return fmt.Sprintf(`{"incidents": [{"id": "INC-1", "name": "x", "status": %q, "impact": %q, "created_at": "2026-11-25T08:10:00Z",
			"resolved_at": null, "components": [{"name": "localizevideos-app"}]}]}`, status, impact)
	}
	applies := []struct {
		name string
		m    *incidents.Mapping
		body string
		want string
	}{
		{"not JSON", m, `<html>maintenance</html>`, "the incident list is not JSON"},
		{"no incidents key", m, `{"page": {}}`, `items "json.incidents": no such key: incidents`},
		{"not a list", m, `{"incidents": {"INC-1": {}}}`, `items "json.incidents": gave a map, want a list`},
		{"unknown impact", m, item("catastrophic", "investigating"), `fields.severity`},
		{"item without components", m, `{"incidents": [{"id": "INC-1"}]}`, `where "item.components.exists(c, c.name == vars.component)": item 0: no such key: components`},
		{"id not a string", mapping(t, "items: json\nfields: {id: item.n, severity: '\"SEV-1\"', status: '\"open\"'}\n"), `[{"n": 7}]`, "item 0: gave a double, want a string"},
		{"empty id", mapping(t, "items: json\nfields: {id: item.n, severity: '\"SEV-1\"', status: '\"open\"'}\n"), `[{"n": null}]`, "id is empty or null; it is required"},
		{"severity not allowed", mapping(t, "items: json\nfields: {id: item.n, severity: item.s, status: '\"open\"'}\n"), `[{"n": "A", "s": "P1"}]`, `item 0 (id A): severity "P1" is not one of SEV-1, SEV-2, SEV-3, SEV-4`},
		{"status not allowed", mapping(t, "items: json\nfields: {id: item.n, severity: '\"SEV-1\"', status: item.s}\n"), `[{"n": "A", "s": "closed"}]`, `status "closed" is not one of open, mitigated, resolved`},
		{"bad time", mapping(t, "items: json\nfields: {id: item.n, severity: '\"SEV-1\"', status: '\"open\"', openedAt: item.t}\n"), `[{"n": "A", "t": "yesterday"}]`, `openedAt "yesterday" is not an RFC 3339 date-time`},
		{"where not a bool", mapping(t, "items: json\nwhere: item.n\nfields: {id: item.n, severity: '\"SEV-1\"', status: '\"open\"'}\n"), `[{"n": "A"}]`, "gave a string, want a bool"},
	}
	for _, tt := range applies {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.m.Apply(ctx, []byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Apply = %+v, %v; want an error containing %q", got, err, tt.want)
			}
		})
	}
	var me *incidents.MappingError
	_, err := m.Apply(ctx, []byte(item("catastrophic", "investigating")))
	if !errors.As(err, &me) || me.Line != 14 || me.Item != 0 || me.ID != "INC-1" || me.Where != "fields.severity" {
		t.Errorf("Apply(unknown impact) = %#v; want a MappingError at line 14 naming item 0 (INC-1)", err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"bad CEL", "items: json.incidents\nfields:\n  id: item.id +\n  severity: item.s\n  status: item.t\n",
			[]string{`map.yaml:3:7: fields.id "item.id +": 1:10: Syntax error`}},
		{"undeclared variable", "items: incidents\nfields: {id: item.id, severity: item.s, status: item.t}\n",
			[]string{`map.yaml:1:8: items "incidents": 1:1: undeclared reference to 'incidents'`}},
		{"missing fields", "items: json\nfields: {id: item.id}\n",
			[]string{"fields.severity: missing", "fields.status: missing"}},
		{"missing items", "fields: {id: item.id, severity: item.s, status: item.t}\n",
			[]string{"items: missing"}},
		{"unknown field", "items: json\nfields: {id: item.id, severity: item.s, status: item.t, owner: item.o}\n",
			[]string{"fields.owner: unknown field"}},
		{"unknown key", "items: json\nfilter: true\nfields: {id: item.id, severity: item.s, status: item.t}\n",
			[]string{`map.yaml:2:1: unknown field "filter"`}},
		{"empty expression", "items: json\nfields: {id: '', severity: item.s, status: item.t}\n",
			[]string{"fields.id: empty expression"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := incidents.Load("map.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("Load = nil; want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}
