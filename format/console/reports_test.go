package console_test

import (
	"io"
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/api"
	"github.com/localizevideos/shipgate/collect/incidents"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/regotest"
	"github.com/localizevideos/shipgate/signals"
)

func TestTokens(t *testing.T) {
	check(t, "Tokens(none)", render(t, func(w *strings.Builder) error { return console.Tokens(w, nil) }), "no tokens\n")
	views := []api.TokenView{
		{ID: "tok_1", Role: "admin", Name: "ops", CreatedAt: "2026-11-28T10:00:00.123Z", CreatedBy: "cli:erin", Active: true},
		{ID: "tok_2", Role: "pipeline", Name: "ci", CreatedAt: "2026-11-28T11:00:00Z", CreatedBy: "cli:erin", RevokedAt: "2026-11-29T09:30:00.5Z", RevokedBy: "cli:frank"},
	}
	check(t, "Tokens", render(t, func(w *strings.Builder) error { return console.Tokens(w, views) }),
		"tok_1                admin     ops                      created 2026-11-28T10:00:00Z by cli:erin, active\n"+
			"tok_2                pipeline  ci                       created 2026-11-28T11:00:00Z by cli:erin, revoked 2026-11-29T09:30:00 by cli:frank\n")
}

func TestIncidents(t *testing.T) {
	list := []incidents.Incident{{ID: "INC-1", Severity: "sev1", Status: "open", Title: "login down"}, {ID: "INC-2", Severity: "sev3", Status: "resolved"}}
	check(t, "Incidents", render(t, func(w *strings.Builder) error { return console.Incidents(w, "incidents.json", list) }),
		"2 incidents from incidents.json, 1 not resolved\n"+
			"  INC-1      sev1 open      login down\n"+
			"  INC-2      sev3 resolved\n")
}

func TestErrorBudget(t *testing.T) {
	doc := &evidence.Document{Digest: "sha256:ab", SignedBy: []string{"ci", "erin"}}
	for _, tt := range []struct {
		remaining float64
		out, log  string
		wantSpent bool
	}{
		{0.25, "error budget api-availability: 25.0% left (error ratio 0.00075 over 30d, objective 0.999); recorded sha256:ab, signed by ci, erin\n", "", false},
		{0, "error budget api-availability: 0.0% left (error ratio 0.00075 over 30d, objective 0.999); recorded sha256:ab, signed by ci, erin\n",
			"shipgate: the error budget of api-availability is spent: the deploy gate denies (checklist.error-budget)\n", true},
	} {
		var out, log strings.Builder
		b := &signals.Budget{SLO: "api-availability", Objective: 0.999, Window: "30d", ErrorRatio: 0.00075, Remaining: tt.remaining}
		if spent := console.ErrorBudget(&out, &log, b, doc); spent != tt.wantSpent {
			t.Errorf("ErrorBudget(remaining %v) = %v; want %v", tt.remaining, spent, tt.wantSpent)
		}
		check(t, "ErrorBudget out", out.String(), tt.out)
		check(t, "ErrorBudget log", log.String(), tt.log)
	}
}

func TestTestReport(t *testing.T) {
	rep := &regotest.Report{
		Results: []regotest.Result{
			{Package: "shipgate.gates.deploy", Name: "test_allow", File: "deploy_test.rego", Row: 3, Outcome: "pass"},
			{Package: "shipgate.gates.deploy", Name: "test_deny", File: "deploy_test.rego", Row: 9, Outcome: "fail", Message: "want deny"},
		},
		Passed: 1, Failed: 1, Coverage: 87.5, Files: map[string]float64{"b.rego": 75, "a.rego": 100},
	}
	check(t, "TestReport", render(t, func(w *strings.Builder) error { return console.TestReport(w, rep, false) }),
		"fail  deploy_test.rego:9 shipgate.gates.deploy.test_deny want deny\n"+
			"policy tests: 1 passed, 1 failed, 0 errors, 0 skipped; coverage 87.50%\n")
	check(t, "TestReport(verbose)", render(t, func(w *strings.Builder) error { return console.TestReport(w, rep, true) }),
		"pass  deploy_test.rego:3 shipgate.gates.deploy.test_allow\n"+
			"fail  deploy_test.rego:9 shipgate.gates.deploy.test_deny want deny\n"+
			"coverage 100.00% a.rego\n"+
			"coverage  75.00% b.rego\n"+
			"policy tests: 1 passed, 1 failed, 0 errors, 0 skipped; coverage 87.50%\n")
}

func TestPrint(t *testing.T) {
	text := func(w io.Writer) error { _, err := io.WriteString(w, "for people\n"); return err }
	check(t, "Print(json)", render(t, func(w *strings.Builder) error { return console.Print(w, "json", map[string]string{"a": "<b>"}, text) }), "{\n  \"a\": \"<b>\"\n}\n")
	check(t, "Print(text)", render(t, func(w *strings.Builder) error { return console.Print(w, "text", 1, text) }), "for people\n")
	if console.IsTerminal(&strings.Builder{}) {
		t.Error("IsTerminal(a builder) = true; want false")
	}
}
