package engine_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
)

// A document that reports a time after it was collected is made up: it does
// not count (evidence.inconsistent), and the rule that needed it denies. An
// Approval given longer ago than its freshness limit is stale, however
// recently it was collected again.
func TestReportedAfterCollectedDoesNotCount(t *testing.T) {
	e := defaultEngine(t)
	v := validator(t)
	docs := func(name string, edit func(map[string]any)) []*evidence.Document {
		var out []*evidence.Document
		for _, f := range []string{"plan.json", "incidents.json", "build.json", "deploy-requested.json", "approval.json"} {
			var fn func(map[string]any)
			if f == name {
				fn = edit
			}
			out = append(out, readExample(t, v, filepath.Join("allowed", f), fn))
		}
		return out
	}
	data := func(m map[string]any) map[string]any { return m["data"].(map[string]any) }
	for _, c := range []struct {
		name, file, reason, rule string
		edit                     func(map[string]any)
	}{
		{"build finished after it was collected", "build.json", "evidence.inconsistent", "checklist.build-passed",
			func(m map[string]any) { data(m)["finishedAt"] = "2026-11-26T09:59:00Z" }},
		{"approval given after it was collected, beyond the clock skew", "approval.json", "evidence.inconsistent", "approval.required",
			func(m map[string]any) { data(m)["approvedAt"] = "2026-11-26T10:08:00Z" }},
		{"approval given two days ago", "approval.json", "freshness.stale", "approval.required",
			func(m map[string]any) { data(m)["approvedAt"] = "2026-11-24T10:00:00Z" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := e.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: docs(c.file, c.edit)})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, ig := range d.Ignored {
				found = found || ig.Reason == c.reason
			}
			if d.Allow || !found {
				t.Errorf("allow %t, ignored %v; want a denial, the document ignored as %s", d.Allow, d.Ignored, c.reason)
			}
			rules := ruleIDs(d.Violations)
			hit := false
			for _, r := range rules {
				hit = hit || r == c.rule
			}
			if !hit {
				t.Errorf("violations %v; want %s", rules, c.rule)
			}
		})
	}
	if d, err := e.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: docs("", nil)}); err != nil || !d.Allow {
		t.Fatalf("the allowed release: allow %v, err %v; want allow", d != nil && d.Allow, err)
	}
}
