package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
)

// PolicyStore is the store contract, as RunPolicies takes it.
type PolicyStore = store.Store

// RunPolicies runs the suite of recorded policy sets; open is as for Run.
func RunPolicies(t *testing.T, open func(t *testing.T) PolicyStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) PolicyStore)
	}{
		{"RecordedOnce", testPolicyRecordedOnce},
		{"Refused", testPolicyRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open)
		})
	}
}

// NewPolicy returns a policy set made unique by n, with its revision.
func NewPolicy(t testing.TB, n int) store.Policy {
	t.Helper()
	mods := []store.PolicyModule{
		{Path: "gates/deploy.rego", Source: fmt.Sprintf("package shipgate.gates.deploy\n\n# ünïcode <&> %d\ndecision := {\"allow\": true}\n", n)},
		{Path: "lib/decision.rego", Source: "package shipgate.lib.decision\n"},
	}
	data, err := evidence.Canonical(fmt.Appendf(nil, `{"shipgate":{"config":{"n":%d,"approvers":["alice","bob"],"ratio":0.25}}}`, n))
	if err != nil {
		t.Fatalf("NewPolicy: %v", err)
	}
	return store.Policy{Revision: store.PolicyRevision(mods, data), Modules: mods, Data: data}
}

// withPolicy returns d made under p: its body names p's revision.
func withPolicy(t testing.TB, d store.Decision, p store.Policy) store.Decision {
	t.Helper()
	body := strings.Replace(string(d.Body), `"revision":"sha256:0123"`, fmt.Sprintf(`"revision":%q`, p.Revision), 1)
	if body == string(d.Body) {
		t.Fatal("withPolicy: the decision body names no policy revision")
	}
	d.Body, d.Policy = []byte(body), &p
	return d
}

func entryTypes(t *testing.T, s Store) []string {
	t.Helper()
	var types []string
	if err := s.Rows(context.Background(), func(r ledger.Row) error {
		e, err := ledger.Parse(r.Body)
		if err != nil {
			return err
		}
		types = append(types, e.Type)
		return nil
	}); err != nil {
		t.Fatalf("Rows() = %v", err)
	}
	return types
}

func testPolicyRecordedOnce(t *testing.T, open func(t *testing.T) PolicyStore) {
	ctx := context.Background()
	s := open(t)
	p := NewPolicy(t, 1)
	ev := NewEvidence(t, "Plan", "lv-1", "app", T0, 1)
	d1 := withPolicy(t, NewDecision(t, "dec_1", "lv-1", "app", true, T0), p)
	if err := s.RecordDecision(ctx, T0, d1, nil, []store.Evidence{ev}); err != nil {
		t.Fatalf("RecordDecision(first under the policy set) = %v", err)
	}
	// Another handle, as another process would, gives the set again.
	s2 := open(t)
	d2 := withPolicy(t, NewDecision(t, "dec_2", "lv-1", "app", false, T0.Add(time.Second)), p)
	if err := s2.RecordDecision(ctx, T0.Add(time.Second), d2, []store.Violation{NewViolation("vio_2", store.KindViolation, d2, T0)}, nil); err != nil {
		t.Fatalf("RecordDecision(second under the policy set) = %v", err)
	}
	q := NewPolicy(t, 2)
	d3 := withPolicy(t, NewDecision(t, "dec_3", "lv-1", "app", true, T0.Add(2*time.Second)), q)
	if err := s.RecordDecision(ctx, T0.Add(2*time.Second), d3, nil, nil); err != nil {
		t.Fatalf("RecordDecision(under another policy set) = %v", err)
	}
	want := []string{"evidence", store.TypePolicy, "decision", "decision", "violation.opened", store.TypePolicy, "decision"}
	if diff := cmp.Diff(want, entryTypes(t, s)); diff != "" {
		t.Errorf("entry types (-want +got):\n%s", diff)
	}
	for i, want := range []store.Policy{p, q} {
		got, err := s2.Policy(ctx, want.Revision)
		if err != nil {
			t.Fatalf("Policy(%s) = %v", want.Revision, err)
		}
		want.Seq, want.AddedAt = int64(2+4*i), T0.Add(time.Duration(2*i)*time.Second).Truncate(time.Microsecond)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Policy(%d) (-want +got):\n%s", i, diff)
		}
	}
	if _, err := s.Policy(ctx, "sha256:0123"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Policy(unrecorded) = %v; want ErrNotFound", err)
	}
	if _, err := s.Verify(ctx, nil); err != nil {
		t.Errorf("Verify() = %v", err)
	}
	// A decision given without its policy set records none.
	if err := s.RecordDecision(ctx, T0.Add(3*time.Second), NewDecision(t, "dec_4", "lv-1", "app", true, T0), nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := mustLen(t, s); n != 8 {
		t.Errorf("Len() = %d; want 8", n)
	}
}

func testPolicyRefused(t *testing.T, open func(t *testing.T) PolicyStore) {
	ctx := context.Background()
	s := open(t)
	p := NewPolicy(t, 1)
	d := withPolicy(t, NewDecision(t, "dec_1", "lv-1", "app", true, T0), p)
	edited := p
	edited.Modules = append([]store.PolicyModule(nil), p.Modules...)
	edited.Modules[1].Source += "x := 1\n"
	unsorted := p
	unsorted.Modules = []store.PolicyModule{p.Modules[1], p.Modules[0]}
	unsorted.Revision = store.PolicyRevision(unsorted.Modules, p.Data)
	other := NewPolicy(t, 2)
	tests := []struct {
		name   string
		d      store.Decision
		policy *store.Policy
		want   string
	}{
		{"module edited", d, &edited, "compute revision"},
		{"modules unsorted", withPolicy(t, NewDecision(t, "dec_1", "lv-1", "app", true, T0), unsorted), &unsorted, "sorted by path"},
		{"another revision than the decision's", d, &other, "policy.revision"},
		{"no modules", d, &store.Policy{Revision: p.Revision, Data: p.Data}, "no modules"},
		{"data not an object", d, &store.Policy{Revision: p.Revision, Modules: p.Modules, Data: []byte(`[1]`)}, "not a JSON object"},
	}
	for _, tt := range tests {
		d := tt.d
		d.Policy = tt.policy
		err := s.RecordDecision(ctx, T0, d, nil, []store.Evidence{NewEvidence(t, "Plan", "lv-1", "app", T0, 1)})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("RecordDecision(%s) = %v; want an error saying %q", tt.name, err, tt.want)
		}
	}
	if n := mustLen(t, s); n != 0 {
		t.Errorf("Len() = %d after refused decisions; want 0", n)
	}
}
