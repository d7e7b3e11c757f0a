package policyset_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/policyset"
)

func TestMergeData(t *testing.T) {
	base, err := policyset.ReadData("base.yaml", []byte(`approvers: [alice, bob]
services:
  web:
    deploy_commands: [[make, deploy]]
    capabilities: {}
monitoring: {required_signals: [cpu, memory], min_window_minutes: 15}
freeze: {environments: [production]}
`))
	if err != nil {
		t.Fatal(err)
	}
	over, err := policyset.ReadData("over.yaml", []byte(`approvers: [carol]
services:
  web:
    capabilities:
      auto-rollback: {metrics: true, alerts: true, human_override: true}
monitoring: {min_window_minutes: 0.05}
freeze: null
`))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := policyset.ReadData("base.yaml", []byte("monitoring: {min_window_minutes: 15}"))
	got := policyset.MergeData(base, over)
	want, _ := policyset.ReadData("want.yaml", []byte(`approvers: [carol]
services:
  web:
    deploy_commands: [[make, deploy]]
    capabilities:
      auto-rollback: {metrics: true, alerts: true, human_override: true}
monitoring: {required_signals: [cpu, memory], min_window_minutes: 0.05}
`))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MergeData (-want +got):\n%s", diff)
	}
	// The inputs are left as they were.
	if m := base["monitoring"].(map[string]any); m["min_window_minutes"] != before["monitoring"].(map[string]any)["min_window_minutes"] {
		t.Errorf("MergeData changed base: %v", base["monitoring"])
	}
	if _, ok := base["freeze"]; !ok {
		t.Errorf("MergeData removed freeze from base")
	}
	if got := policyset.MergeData(nil, map[string]any{"a": nil}); len(got) != 0 {
		t.Errorf("MergeData(nil, {a: null}) = %v; want {}", got)
	}
}
