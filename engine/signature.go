package engine

import (
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/localizevideos/shipgate/evidence"
)

// Signed evidence reaches the policies as signed_by: the ids of the trusted
// keys whose DSSE signatures on the document verified when it was decoded
// (evidence.Document.SignedBy), [] for a bare document. The
// signature.* rules read it; the data signing.trusted_keys says which
// signers count.

// withSigners merges the signers of the copies of one document: the same
// digest may come bare from a file and signed from the ledger, and is
// signed if any copy was. Documents are copied, never changed.
func withSigners(docs []*evidence.Document) []*evidence.Document {
	signers := map[string][]string{}
	for _, d := range docs {
		if d != nil && len(d.SignedBy) > 0 {
			signers[d.Digest] = union(signers[d.Digest], d.SignedBy)
		}
	}
	if len(signers) == 0 {
		return docs
	}
	out := make([]*evidence.Document, len(docs))
	for i, d := range docs {
		out[i] = d
		if d == nil {
			continue
		}
		if s, ok := signers[d.Digest]; ok && !slices.Equal(s, d.SignedBy) {
			c := *d
			c.SignedBy = s
			out[i] = &c
		}
	}
	return out
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// docKey names a document's AST form: its digest and its signers.
type docKey struct {
	digest string
	// signed says the document has signers; signers joins them with
	// commas (a single signer needs no string built for it).
	signed  bool
	signers string
}

// cacheKey is doc's docKey.
func cacheKey(doc *evidence.Document) docKey {
	switch len(doc.SignedBy) {
	case 0:
		return docKey{digest: doc.Digest}
	case 1:
		return docKey{digest: doc.Digest, signed: true, signers: doc.SignedBy[0]}
	}
	return docKey{digest: doc.Digest, signed: true, signers: strings.Join(doc.SignedBy, ",")}
}

// signedBy is the signed_by member of a document in the input.
func signedBy(doc *evidence.Document) *ast.Term {
	ids := make([]*ast.Term, len(doc.SignedBy))
	for i, id := range doc.SignedBy {
		ids[i] = ast.StringTerm(id)
	}
	return ast.ArrayTerm(ids...)
}
