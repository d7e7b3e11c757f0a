package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/localizevideos/shipgate/internal/canonjson"
)

// The scan functions below read the columns every store's query tables
// share, in the same order, into records, from any Scanner (a *sql.Row or
// pgx.Row as well as the rows of a query).

// ScanEvidence reads the evidence table's columns (digest, kind,
// release_id, service, environment, commit, source, collected_at, seq,
// added_at) and, after them, the body of the entry that recorded the
// evidence.
func ScanEvidence(s Scanner) (Evidence, error) {
	var body []byte
	ev, err := scanEvidence(s, &body)
	if err != nil {
		return Evidence{}, err
	}
	if ev.Body, ev.Envelope, err = documentOf(body); err != nil {
		return Evidence{}, fmt.Errorf("evidence %s: entry %d: %w", ev.Digest, ev.Seq, err)
	}
	return ev, nil
}

// ScanEvidenceColumns reads the evidence table's columns only, as
// ScanEvidence does, without the body: Body and Envelope are nil.
func ScanEvidenceColumns(s Scanner) (Evidence, error) { return scanEvidence(s) }

// scanEvidence reads the evidence table's columns, then into more the
// columns after them.
func scanEvidence(s Scanner, more ...any) (Evidence, error) {
	var ev Evidence
	var collected, added string
	dest := append([]any{&ev.Digest, &ev.Kind, &ev.ReleaseID, &ev.Service, &ev.Environment, &ev.Commit,
		&ev.Source, &collected, &ev.Seq, &added}, more...)
	if err := s.Scan(dest...); err != nil {
		return Evidence{}, err
	}
	var err error
	if ev.CollectedAt, err = ParseTime(collected); err != nil {
		return Evidence{}, fmt.Errorf("evidence %s: collected_at: %w", ev.Digest, err)
	}
	if ev.AddedAt, err = ParseTime(added); err != nil {
		return Evidence{}, fmt.Errorf("evidence %s: added_at: %w", ev.Digest, err)
	}
	return ev, nil
}

// documentOf returns the document and the envelope an evidence entry's
// body holds, as encoding/json reads them into {"payload": {"document",
// "envelope"}}. A body in canonical form, as every store keeps it, is read
// without encoding/json and without allocating (objectMember): the two
// are slices of body then, each with no room to grow into the other.
func documentOf(body []byte) (doc, env json.RawMessage, err error) {
	if canonjson.IsCanonical(body) {
		if p, ok := objectMember(body, "payload"); ok && p != nil {
			doc, okDoc := objectMember(p, "document")
			env, okEnv := objectMember(p, "envelope")
			if okDoc && okEnv {
				return doc[:len(doc):len(doc)], env[:len(env):len(env)], nil
			}
		}
	}
	var e struct {
		Payload struct {
			Document json.RawMessage `json:"document"`
			Envelope json.RawMessage `json:"envelope"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, nil, err
	}
	return e.Payload.Document, e.Payload.Envelope, nil
}

// objectMember returns the object that is the member named name of the
// canonical object b, nil if b has no such member. It declines (false)
// whatever encoding/json might read otherwise, for it to read: b not an
// object, a member that is not an object, a name with an escape, or one
// that matches name only as encoding/json also matches names, ignoring
// case.
func objectMember(b []byte, name string) (v []byte, ok bool) {
	ok = true
	isObject := canonjson.EachMember(b, func(n, value []byte) bool {
		switch {
		case string(n) == name:
			v, ok = value, value[0] == '{'
		case bytes.IndexByte(n, '\\') >= 0 || bytes.EqualFold(n, []byte(name)):
			ok = false
		}
		return ok
	})
	return v, ok && isObject
}

// DecodeDecision fills in what a store scanned into text and bytes for d:
// evaluated, its evaluated_at column, and body, the body of the entry that
// recorded it (nil when a query leaves the body out, as a summary does).
func DecodeDecision(d *Decision, evaluated string, body []byte) error {
	var err error
	if d.EvaluatedAt, err = ParseTime(evaluated); err != nil {
		return fmt.Errorf("decision %s: evaluated_at: %w", d.ID, err)
	}
	if body == nil {
		return nil
	}
	if d.Body, err = Payload(body); err != nil {
		return fmt.Errorf("decision %s: entry %d: %w", d.ID, d.Seq, err)
	}
	return nil
}

// DecodeViolation fills in the times of v from the opened_at, due,
// closed_at and closed_by columns a store scanned (the last two NULL, nil,
// while v is open).
func DecodeViolation(v *Violation, opened, due string, closedAt, closedBy *string) error {
	var err error
	if v.OpenedAt, err = ParseTime(opened); err != nil {
		return fmt.Errorf("violation %s: opened_at: %w", v.ID, err)
	}
	if v.Due, err = ParseTime(due); err != nil {
		return fmt.Errorf("violation %s: due: %w", v.ID, err)
	}
	if closedAt != nil {
		if v.ClosedAt, err = ParseTime(*closedAt); err != nil {
			return fmt.Errorf("violation %s: closed_at: %w", v.ID, err)
		}
	}
	if closedBy != nil {
		v.ClosedBy = *closedBy
	}
	return nil
}

// TokenColumns are the tokens table's columns, in the order ScanToken
// reads them.
const TokenColumns = "id, name, role, hash, created_at, created_by, revoked_at, revoked_by"

// ScanToken reads TokenColumns into a Token.
func ScanToken(s Scanner) (Token, error) {
	var t Token
	var created string
	var revokedAt, revokedBy *string
	if err := s.Scan(&t.ID, &t.Name, &t.Role, &t.Hash, &created, &t.CreatedBy, &revokedAt, &revokedBy); err != nil {
		return Token{}, err
	}
	var err error
	if t.CreatedAt, err = ParseTime(created); err != nil {
		return Token{}, fmt.Errorf("token %s: created_at: %w", t.ID, err)
	}
	if revokedAt != nil {
		if t.RevokedAt, err = ParseTime(*revokedAt); err != nil {
			return Token{}, fmt.Errorf("token %s: revoked_at: %w", t.ID, err)
		}
		if revokedBy != nil {
			t.RevokedBy = *revokedBy
		}
	}
	return t, nil
}

// Rows is the part of a query's rows (*sql.Rows, pgx.Rows) that Each and
// Collect read; the caller closes them.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// Each calls fn on every row of rows, stops at fn's first error and
// returns it, and otherwise returns the error that ended the rows, if any.
func Each(rows Rows, fn func(Scanner) error) error {
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Collect reads every row of rows with scan, as Each does.
func Collect[T any](rows Rows, scan func(Scanner) (T, error)) ([]T, error) {
	var out []T
	err := Each(rows, func(s Scanner) error {
		v, err := scan(s)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
