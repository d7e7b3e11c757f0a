package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"io"

	"github.com/open-policy-agent/opa/v1/ast"
)

// The library that turns the rule files' answers into a decision
// (data.shipgate.lib.decision) is policy code like the rest, and policydiff
// assumes nothing of it, except when it is the one shipgate ships, known
// by the digest of its parsed modules. That one reads the findings and
// obligations only of the files with a rule at the gate (gated), keeps
// only the findings of the rules that apply there or that no file declares
// (applicable, catalog), and only the obligations of rules that fired
// among those. So a changed file without a rule at the gate needs no
// evaluation there, and of one with, only what that library keeps is
// compared. Nothing else may then read a file's findings or obligations
// (else the whole answers are compared, as for any other library); the
// catalog is the same on both sides (sameRules), and so are the folded
// values read here.

// ShippedDecisionLibrary is the digest of the decision library shipgate
// ships (policies/shipgate/lib/decision/decision.rego as parsed: layout and comments do not
// count). A test holds it equal to the embedded file.
const ShippedDecisionLibrary = "sha256:c3434665468b9583b0d992aa984bf3c44aa134f114d1b430465d2d8f07122ca9"

var decisionLib = ast.MustParseRef("data.shipgate.lib.decision")

// LibraryDigest is the digest of the modules of package pkg in the
// policy set, as parsed (layout and comments do not count); "" when it
// has none.
func (e *Engine) LibraryDigest(pkg ast.Ref) string {
	mods := e.set.Packages()[pkg.String()]
	if len(mods) == 0 {
		return ""
	}
	h := sha256.New()
	for _, m := range mods {
		io.WriteString(h, m.String())
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
