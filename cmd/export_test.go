package cmd_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/plugins/logs"

	"github.com/localizevideos/shipgate/cmd"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// Every exported line decodes, with no unknown field, into OPA's own
// decision log event type, and names the recorded decision it came from.
func TestExportOPADecisionLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	recorded := recordDecisions(t, path)

	tests := []struct {
		name string
		args []string
		want []string // decision ids
	}{
		{"all", nil, ids(recorded)},
		{"since", []string{"--since", "2026-11-26T10:06:00Z"}, ids(recorded[1:])},
		{"release", []string{"--release", "lv-other"}, ids(recorded[2:])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"audit", "export", "--format", "opa-decision-log", "--store", path}, tt.args...)
			if code := cmd.Execute(ctx, args, cmd.Streams{Out: &out, Err: &errb}); code != 0 {
				t.Fatalf("shipgate %v = exit %d: %s", args, code, errb.String())
			}
			var got []string
			sc := bufio.NewScanner(&out)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
				dec.DisallowUnknownFields()
				var ev logs.EventV1
				if err := dec.Decode(&ev); err != nil {
					t.Fatalf("line %s: not an OPA decision log event: %v", sc.Bytes(), err)
				}
				got = append(got, ev.DecisionID)
				checkEvent(t, ev, recorded)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("exported decision ids (-want +got):\n%s", diff)
			}
		})
	}
}

func checkEvent(t *testing.T, ev logs.EventV1, recorded []*engine.Decision) {
	t.Helper()
	var d *engine.Decision
	for _, r := range recorded {
		if r.ID == ev.DecisionID {
			d = r
		}
	}
	if d == nil {
		t.Fatalf("event %s names no recorded decision", ev.DecisionID)
	}
	if ev.Path != "shipgate/gates/"+d.Gate+"/decision" || !ev.Timestamp.Equal(d.EvaluatedAt) {
		t.Errorf("event %s: path %s, timestamp %s; want shipgate/gates/%s/decision, %s", ev.DecisionID, ev.Path, ev.Timestamp, d.Gate, d.EvaluatedAt)
	}
	// The bundle revision; the policy revision digest for a decision the
	// gate made without the engine (gate.denied does not record the bundle).
	rev := d.Policy.Bundle
	if rev == "" {
		rev = d.Policy.Revision
	}
	if want := map[string]logs.BundleInfoV1{"shipgate": {Revision: rev}}; !cmp.Equal(ev.Bundles, want) {
		t.Errorf("event %s: bundles %v; want %v", ev.DecisionID, ev.Bundles, want)
	}
	if ev.Labels["app"] != "shipgate" || ev.Labels["version"] != cmd.Version {
		t.Errorf("event %s: labels %v", ev.DecisionID, ev.Labels)
	}
	if ev.Input == nil || ev.Result == nil {
		t.Fatalf("event %s: no input or result", ev.DecisionID)
	}
	// The result is the decision as answered; the input what it was made from.
	b, _ := json.Marshal(*ev.Result)
	var result engine.Decision
	if err := json.Unmarshal(b, &result); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*d, result); diff != "" {
		t.Errorf("event %s: result (-recorded +exported):\n%s", ev.DecisionID, diff)
	}
	b, _ = json.Marshal(*ev.Input)
	var in gate.Replay
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	if in.Gate != d.Gate || in.Release.ID != d.Release.ID || !in.Now.Equal(d.EvaluatedAt) {
		t.Errorf("event %s: input %+v does not match the decision", ev.DecisionID, in)
	}
}

// recordDecisions records three decisions through the gate, with the
// policy set loaded from a bundle of revision v9: a deploy allowed and a
// verify denied (no Verification evidence) of one release, then a deploy
// of another denied.
func recordDecisions(t *testing.T, path string) []*engine.Decision {
	t.Helper()
	ctx := context.Background()
	b, err := engine.BuildBundle(ctx, engine.BundleOptions{Policies: policies.FS, Revision: "v9"})
	if err != nil {
		t.Fatal(err)
	}
	// The example evidence is signed with the EXAMPLE keys.
	eng, err := engine.Load(ctx, engine.Options{Bundle: b, People: keys.People()})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g := &gate.Gate{Engine: eng, Validator: evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring()), Store: db}
	ev := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, filepath.Join("../examples/localizevideos/evidence", n))
		}
		return out
	}
	allowed := ev("allowed/plan.json", "allowed/incidents.json", "allowed/build.json", "allowed/deploy-requested.json", "allowed/approval.json")
	at := time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)
	reqs := []gate.Request{
		{Gate: "deploy", Release: engine.Release{ID: "lv-2026-11-26.1"}, EvidencePaths: allowed, Actor: "dave", Now: at},
		{Gate: "verify", Release: engine.Release{ID: "lv-2026-11-26.1"}, Actor: "dave", Now: at.Add(time.Minute)},
		{Gate: "deploy", Release: engine.Release{ID: "lv-other", Service: "localizevideos-app", Environment: "production"}, Actor: "dave", Now: at.Add(2 * time.Minute)},
	}
	var out []*engine.Decision
	for i, req := range reqs {
		d, err := g.Decide(ctx, req)
		if err != nil || d == nil || d.ID == "" || d.Allow != (i == 0) {
			t.Fatalf("Decide(%d) = %+v, %v", i, d, err)
		}
		if i < 2 && d.Policy.Bundle != "v9" {
			t.Fatalf("Decide(%d).Policy = %+v; want bundle v9", i, d.Policy)
		}
		out = append(out, d)
	}
	return out
}

func ids(ds []*engine.Decision) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}
