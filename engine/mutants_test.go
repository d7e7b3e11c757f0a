package engine_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
)

// obj and list reach into a decoded document for an edit.
func obj(m map[string]any, path ...string) map[string]any {
	for _, k := range path {
		m = m[k].(map[string]any)
	}
	return m
}

func signal(m map[string]any, name string) map[string]any {
	for _, s := range obj(m, "data")["signals"].([]any) {
		if s := s.(map[string]any); s["name"] == name {
			return s
		}
	}
	panic("no signal " + name)
}

// set returns an edit that sets data.<path> to v.
func set(v any, path ...string) func(map[string]any) {
	return func(m map[string]any) {
		obj(m, append([]string{"data"}, path[:len(path)-1]...)...)[path[len(path)-1]] = v
	}
}

// No false allow (issue #14): each mutant of the allowed LocalizeVideos
// release, schema-valid, is denied by the rule named, at its gate.
func TestMutantsOfTheAllowedReleaseDeny(t *testing.T) {
	e := defaultEngine(t)
	v := validator(t)
	gateDocs := map[string][]string{
		"deploy": {"allowed/plan.json", "allowed/incidents.json", "allowed/build.json", "allowed/deploy-requested.json", "allowed/approval.json"},
	}
	gateDocs["verify"] = append(slices.Clone(gateDocs["deploy"]), "allowed/deploy.json", "allowed/verification.json")
	gateDocs["complete"] = append(slices.Clone(gateDocs["verify"]), "allowed/monitoring.json")
	gateDocs["flag"] = append(slices.Clone(gateDocs["complete"]), "flag-route/flagchange.json")
	emergencyDocs := []string{"emergency/plan.json", "emergency/incidents.json", "emergency/build.json", "emergency/deploy-requested.json", "emergency/approval.json"}
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	now := map[string]time.Time{"deploy": deployAt, "verify": at("2026-11-26T10:12:00Z"), "complete": at("2026-11-26T10:30:00Z"), "flag": at("2026-11-26T11:00:00Z")}
	emergencyRelease := engine.Release{ID: "lv-2026-11-27.1", Service: "localizevideos-app", Environment: "production",
		Commit: "b7e4d2c19f0a8e6d5c4b3a29180f7e6d5c4b3a21"}

	type mutant struct {
		name  string
		gate  string
		docs  []string // instead of the allowed release's at gate
		file  string   // the document edited, or added when not in docs
		edit  func(map[string]any)
		rule  string
		gates []string // more gates to ask, with the same documents
	}
	mutants := []mutant{
		{name: "a healthy signal without samples", gate: "complete", file: "allowed/monitoring.json",
			edit: func(m map[string]any) { signal(m, "error_rate")["samples"] = 0 }, rule: "monitoring.healthy"},
		{name: "a healthy signal with fewer samples than it needs", gate: "complete", file: "allowed/monitoring.json",
			edit: func(m map[string]any) { s := signal(m, "error_rate"); s["samples"], s["minSamples"] = 3, 31 }, rule: "monitoring.healthy"},
		{name: "a monitoring window that ends after now", gate: "complete", file: "allowed/monitoring.json",
			edit: set("2026-11-26T10:45:00Z", "window", "end"), rule: "monitoring.healthy"},
		{name: "a monitoring window that ends before it starts", gate: "complete", file: "allowed/monitoring.json",
			edit: set("2026-11-26T10:05:30Z", "window", "end"), rule: "monitoring.healthy"},
		{name: "an error rate of 0.9 recorded healthy", gate: "complete", file: "allowed/monitoring.json",
			edit: func(m map[string]any) { signal(m, "error_rate")["observed"] = json.Number("0.9") }, rule: "monitoring.healthy"},
		{name: "a rollback after the deploy, then complete", gate: "complete", file: "rollback-slower/rollback.json",
			rule: "release.rolled-back"},
		{name: "a rollback after the deploy, then verify", gate: "verify", file: "rollback-slower/rollback.json",
			edit: func(m map[string]any) {
				m["collectedAt"] = "2026-11-26T10:11:40Z"
				d := obj(m, "data")
				d["startedAt"], d["finishedAt"] = "2026-11-26T10:10:00Z", "2026-11-26T10:11:36Z"
			}, rule: "release.rolled-back"},
		{name: "a succeeded deploy that exited 1", gate: "verify", file: "allowed/deploy.json",
			edit: set(1, "exitCode"), rule: "verify.deploy-succeeded", gates: []string{"complete"}},
		{name: "a deploy that ran another command", gate: "verify", file: "allowed/deploy.json",
			edit: set([]any{"sh", "-c", "curl -fsSL https://get.example.com | sh"}, "command"), rule: "deploy.approved-command", gates: []string{"complete"}},
		{name: "a deploy from a dirty tree", gate: "verify", file: "allowed/deploy.json",
			edit: set(false, "source", "clean"), rule: "forbidden.hot-patch", gates: []string{"complete"}},
		{name: "a deploy started by hand", gate: "verify", file: "allowed/deploy.json",
			edit: set("manual", "trigger"), rule: "forbidden.direct-push", gates: []string{"complete"}},
		{name: "a build of `true`", gate: "deploy", file: "allowed/build.json",
			edit: set([]any{"true"}, "command"), rule: "checklist.build-passed"},
		{name: "a build that finished before it started", gate: "deploy", file: "allowed/build.json",
			edit: set("2026-11-26T09:47:00Z", "finishedAt"), rule: "checklist.build-passed"},
		{name: "a deploy that finished before it started", gate: "verify", file: "allowed/deploy.json",
			edit: set("2026-11-26T10:05:00Z", "finishedAt"), rule: "verify.deploy-succeeded"},
		{name: "a verification that finished before it started", gate: "verify", file: "allowed/verification.json",
			edit: set("2026-11-26T10:10:00Z", "finishedAt"), rule: "verify.mandatory-checks"},
		{name: "an approval in the future", gate: "deploy", file: "allowed/approval.json",
			edit: set("2026-11-26T10:20:00Z", "approvedAt"), rule: "approval.required"},
		{name: "a deploy by Alice approved by alice", gate: "deploy", file: "allowed/deploy-requested.json",
			edit: set("Alice", "actor"), rule: "approval.required"},
		{name: "an incident resolved in the future", gate: "deploy", file: "allowed/incidents.json",
			edit: func(m map[string]any) {
				inc := obj(m, "data")["incidents"].([]any)[0].(map[string]any)
				inc["severity"], inc["resolvedAt"] = "SEV-1", "2026-11-26T12:00:00Z"
			}, rule: "forbidden.deploy-during-incident"},
		{name: "an override created in the future", gate: "deploy",
			docs: append(slices.Clone(gateDocs["deploy"][1:]), "override-error-budget/plan.json"), file: "override-error-budget/override.json",
			edit: set("2026-11-26T10:30:00Z", "createdAt"), rule: "checklist.error-budget"},
		{name: "an override for ten years", gate: "deploy",
			docs: append(slices.Clone(gateDocs["deploy"][1:]), "override-error-budget/plan.json"), file: "override-error-budget/override.json",
			edit: set("2036-11-26T09:45:00Z", "expiresAt"), rule: "checklist.error-budget"},
		{name: "an emergency for a SEV-4", gate: "deploy", docs: emergencyDocs, file: "emergency/plan.json",
			edit: set("INC-41", "emergency", "incident"), rule: "freeze.emergency-unapproved"},
		{name: "an emergency for a resolved incident", gate: "deploy", docs: emergencyDocs, file: "emergency/incidents.json",
			edit: func(m map[string]any) {
				for _, i := range obj(m, "data")["incidents"].([]any) {
					i.(map[string]any)["status"] = "resolved"
				}
			}, rule: "freeze.emergency-unapproved"},
		{name: "an emergency justified by spaces", gate: "deploy", docs: emergencyDocs, file: "emergency/plan.json",
			edit: set("            ", "emergency", "justification"), rule: "freeze.emergency-unapproved"},
		{name: "a change ticket of spaces", gate: "deploy", file: "allowed/plan.json",
			edit: set("   ", "changeTicket"), rule: "freeze.unplanned"},
		{name: "release notes of spaces", gate: "deploy", file: "allowed/plan.json",
			edit: set("   ", "documentation", "releaseNotes", "url"), rule: "freeze.undocumented"},
		{name: "a runbook of spaces", gate: "deploy", file: "allowed/plan.json",
			edit: set("   ", "documentation", "runbook", "url"), rule: "freeze.undocumented"},
		{name: "a rollback plan of spaces", gate: "deploy", file: "allowed/plan.json",
			edit: set([]any{" ", "  "}, "rollbackPlan", "command"), rule: "forbidden.no-rollback-plan"},
		{name: "a user percentage in an environment", gate: "flag", file: "flag-route/flagchange.json",
			edit: func(m map[string]any) {
				d := obj(m, "data")
				d["strategy"], d["environment"] = "environment", "production:10%"
			}, rule: "flag.strategy-not-enabled"},
		{name: "a user percentage in a route", gate: "flag", file: "flag-route/flagchange.json",
			edit: set([]any{"/checkout?pct=25"}, "routes"), rule: "flag.strategy-not-enabled"},
	}
	ctx := context.Background()
	decide := func(t *testing.T, gate string, rel engine.Release, docs []*evidence.Document) *engine.Decision {
		t.Helper()
		n := now[gate]
		if rel.ID == emergencyRelease.ID {
			n = at("2026-11-27T19:30:00Z")
		}
		d, err := e.Evaluate(ctx, engine.Input{Gate: gate, Release: rel, Now: n, Evidence: docs})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			for _, gate := range append([]string{m.gate}, m.gates...) {
				paths, rel := m.docs, release
				if paths == nil {
					paths = gateDocs[gate]
				}
				if slices.Equal(paths, emergencyDocs) {
					rel = emergencyRelease
				}
				if !slices.Contains(paths, m.file) {
					paths = append(slices.Clone(paths), m.file)
				}
				var good, bad []*evidence.Document
				for _, p := range paths {
					good = append(good, readExample(t, v, p, nil))
					if p == m.file {
						bad = append(bad, readExample(t, v, p, m.edit))
					} else {
						bad = append(bad, good[len(good)-1])
					}
				}
				if m.edit != nil {
					if d := decide(t, gate, rel, good); !d.Allow {
						t.Fatalf("unmutated at %s: denied by %v; want allow", gate, ruleIDs(d.Violations))
					}
				}
				d := decide(t, gate, rel, bad)
				if d.Allow || !slices.Contains(ruleIDs(d.Violations), m.rule) {
					t.Errorf("%s at %s: allow %t, violations %v, ignored %v; want a denial by %s", filepath.Base(m.file), gate, d.Allow, ruleIDs(d.Violations), d.Ignored, m.rule)
				}
			}
		})
	}
}
