package keys_test

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/policyset"
)

// The data overlay the examples run with and the one the tests use are
// the same.
func TestOverlayIsTheExampleData(t *testing.T) {
	b, err := os.ReadFile("../example-data.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := policyset.ReadData("example-data.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(keys.Overlay(), m); diff != "" {
		t.Errorf("example-data.yaml differs from Overlay() (-Overlay +file):\n%s", diff)
	}
}

// Seal signs with the key the examples use for each kind, and Open gives
// the document back.
func TestSeal(t *testing.T) {
	for _, tc := range []struct {
		doc, want string
	}{
		{`{"kind": "Build", "data": {}}`, keys.ID(keys.EvidenceKey)},
		{`{"kind": "Approval", "data": {"approver": "alice"}}`, keys.ID(keys.AliceKey)},
		{`{"kind": "Override", "data": {"approver": "bob"}}`, keys.ID(keys.BobKey)},
	} {
		env, err := keys.Seal([]byte(tc.doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(keys.Open(env)); got != tc.doc {
			t.Errorf("Open(Seal(%s)) = %s", tc.doc, got)
		}
		if got := evidence.Signers(env); len(got) != 1 || got[0] != tc.want {
			t.Errorf("Seal(%s) signed by %v; want %s", tc.doc, got, tc.want)
		}
		if _, ok := keys.Keyring().Key(tc.want); !ok {
			t.Errorf("Keyring() lacks %s", tc.want)
		}
	}
	if _, err := keys.Seal([]byte(`{"kind": "Approval", "data": {"approver": "mallory"}}`)); err == nil {
		t.Error("Seal(an approval by mallory) = nil error; the examples have no key for her")
	}
}
