package policyset_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policyset"
)

// The policy set an engine records is the one it was loaded from: a
// directory and a bundle built from it give the same set, and the set,
// written as a bundle and loaded again, computes the same revision.
func TestPolicySetRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir, err := engine.Load(ctx, engine.Options{Policies: policies.FS})
	if err != nil {
		t.Fatal(err)
	}
	set := dir.PolicySet()
	if set == nil || set.Revision != dir.Revision() || len(set.Modules) == 0 || len(set.Data) == 0 {
		t.Fatalf("PolicySet() = %+v; want the modules and data of revision %s", set, dir.Revision())
	}
	for i := 1; i < len(set.Modules); i++ {
		if set.Modules[i-1].Path >= set.Modules[i].Path {
			t.Fatalf("modules not sorted by path: %s before %s", set.Modules[i-1].Path, set.Modules[i].Path)
		}
	}
	b, err := set.Bundle("v7")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := policyset.WriteBundle(&buf, b); err != nil {
		t.Fatal(err)
	}
	rb, err := policyset.ReadBundle(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := engine.Load(ctx, engine.Options{Bundle: rb})
	if err != nil {
		t.Fatalf("Load(the set as a bundle) = %v", err)
	}
	if back.Revision() != dir.Revision() || back.BundleRevision() != "v7" {
		t.Errorf("the set as a bundle loads as %s (bundle %q); want %s (bundle v7)", back.Revision(), back.BundleRevision(), dir.Revision())
	}
	if diff := cmp.Diff(set, back.PolicySet()); diff != "" {
		t.Errorf("PolicySet() of the bundle (-directory +bundle):\n%s", diff)
	}

	bad := *set
	bad.Modules = append([]policyset.Module{{Path: "../escape.rego", Source: "package x"}}, set.Modules...)
	if _, err := bad.Bundle(""); err == nil {
		t.Error("Bundle(module path ../escape.rego) = nil error; want it refused")
	}
}
