package engine_test

import (
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/localizevideos/shipgate/engine"
)

// ShippedDecisionLibrary names the decision library shipgate ships: a
// change to policies/shipgate/lib/decision/decision.rego (other than layout and comments)
// must update it, after checking that policydiff's reading of the library
// still holds (see its libraryViews).
func TestShippedDecisionLibrary(t *testing.T) {
	if got := defaultEngine(t).LibraryDigest(ast.MustParseRef("data.shipgate.lib.decision")); got != engine.ShippedDecisionLibrary {
		t.Errorf("the shipped decision library is %s; ShippedDecisionLibrary says %s", got, engine.ShippedDecisionLibrary)
	}
}
