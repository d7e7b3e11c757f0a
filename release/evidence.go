package release

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/localizevideos/shipgate/evidence"
)

// Added is one document of shipgate evidence add, as it is reported.
type Added struct {
	Kind    string `json:"kind"`
	Digest  string `json:"digest"`
	Source  string `json:"source"`
	Release string `json:"release"`
	Entry   int64  `json:"entry,omitempty"`
	New     bool   `json:"new"`
	// SignedBy lists the verified signers of a document that came in a
	// DSSE envelope.
	SignedBy []string `json:"signedBy,omitempty"`
}

// AddEvidence records docs in b, all or none, and reports each: the
// ledger entry it was recorded as, or not new when it was already there.
func AddEvidence(ctx context.Context, b Backend, docs []*evidence.Document) ([]Added, error) {
	entry, err := b.AddEvidence(ctx, time.Time{}, docs)
	if err != nil {
		return nil, fmt.Errorf("record evidence: %w", err)
	}
	out := make([]Added, len(docs))
	for i, d := range docs {
		out[i] = Added{Kind: d.Kind, Digest: d.Digest, Source: d.Source, Release: d.ReleaseID, Entry: entry[d.Digest], New: entry[d.Digest] > 0, SignedBy: d.SignedBy}
	}
	return out, nil
}

// Validated is one file (or a path that lists none) of shipgate evidence
// validate: valid, or what is wrong with it.
type Validated struct {
	Source string                     `json:"source"`
	Kind   string                     `json:"kind,omitempty"`
	Digest string                     `json:"digest,omitempty"`
	Signed []string                   `json:"signedBy,omitempty"`
	Valid  bool                       `json:"valid"`
	Errors []evidence.ValidationError `json:"errors,omitempty"`
	Error  string                     `json:"error,omitempty"`
}

// Validate checks every evidence file of paths with v, each on its own,
// so that every invalid one in a directory is named, not only the first;
// bad counts the invalid files and the paths that could not be listed.
func Validate(v *evidence.Validator, paths []string) (results []Validated, bad int) {
	for _, p := range paths {
		files, err := evidence.Files([]string{p})
		if err != nil {
			bad++
			results = append(results, Validated{Source: p, Error: err.Error()})
			continue
		}
		for _, f := range files {
			d, err := v.LoadFile(f)
			if err == nil {
				results = append(results, Validated{Source: d.Source, Kind: d.Kind, Digest: d.Digest, Signed: d.SignedBy, Valid: true})
				continue
			}
			bad++
			r := Validated{Source: f}
			var ves evidence.ValidationErrors
			if errors.As(err, &ves) {
				r.Errors = ves
			} else {
				r.Error = err.Error()
			}
			results = append(results, r)
		}
	}
	return results, bad
}
