// Package evidence decodes and validates shipgate evidence documents and
// computes their digests.
//
// A document is a JSON object with a common envelope and a kind-specific
// data object (docs/evidence.md). Decoding is strict: beyond what the JSON
// Schema of the kind (package schemas) checks, it rejects oversized input,
// invalid UTF-8, duplicate keys, excessive nesting, trailing data, and
// numbers that an IEEE 754 double cannot hold. A document's identity is the
// SHA-256 of its RFC 8785 canonical form, so formatting, key order and
// number spelling do not change it.
//
// A document may also come signed, in a DSSE envelope (dsse.go): Decode
// verifies every signature against the keys of WithKeys and returns the
// document with its signers (SignedBy) and the envelope, for the ledger to
// keep. Signer seals a document in such an envelope.
//
// Every rejection is a ValidationErrors naming the source, the JSON pointer,
// the keyword and what was expected.
package evidence

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/internal/inputfile"
	"github.com/localizevideos/shipgate/schemas"
)

// Document is one decoded, validated evidence document.
type Document struct {
	// Source names where the document came from, usually its file path.
	Source string
	// Kind is one of schemas.Kinds.
	Kind string
	// ReleaseID, Service and Environment are release.id, release.service and
	// release.environment; with Commit they bind the document to a release.
	ReleaseID, Service, Environment string
	// Repository and Commit are subject.repository and subject.commit.
	Repository, Commit string
	// CollectedAt is collectedAt, in the zone the document gave.
	CollectedAt time.Time
	// Actor is collector.actor.
	Actor string
	// Digest is "sha256:" + hex SHA-256 of the canonical form of Value.
	Digest string
	// Canonical is that canonical form (RFC 8785): what a ledger stores.
	Canonical []byte
	// Value is the whole document as decoded: map[string]any, []any,
	// string, json.Number, bool and nil, ready to hand to OPA. The typed
	// fields above are copies, for binding checks without map lookups.
	Value map[string]any
	// SignedBy lists, sorted, the ids (KeyID) of the trusted keys whose
	// signatures on the document's DSSE envelope verified; nil for a bare
	// document.
	SignedBy []string
	// Envelope is the canonical form of the verified DSSE envelope the
	// document came in, kept so that an audit can verify it again; nil for
	// a bare document.
	Envelope []byte
}

// Limits bounds the resources a single document may use while decoding.
type Limits struct {
	// MaxBytes is the largest accepted document, in bytes.
	MaxBytes int64
	// MaxDepth is the deepest accepted nesting of objects and arrays; the
	// top-level object is depth 1.
	MaxDepth int
}

// DefaultLimits are the limits of docs/evidence.md: 1 MiB and 64 levels.
var DefaultLimits = Limits{MaxBytes: 1 << 20, MaxDepth: 64}

// Validator decodes and validates documents. Build it once with
// NewValidator; it is safe for concurrent use.
type Validator struct {
	reg  *schemas.Registry
	lim  Limits
	keys *Keyring // trusted signers of envelopes (WithKeys)
	// recorded: envelopes come back from the ledger (ForLedger); a
	// signature by a key not trusted now is disregarded, not an error.
	recorded bool
	// cache remembers what ledger copies decoded (decodeCache); shared by
	// every copy of one NewValidator.
	cache *decodeCache
}

// NewValidator returns a Validator using the compiled schemas of reg and the
// limits lim; a zero field of lim takes its value from DefaultLimits.
func NewValidator(reg *schemas.Registry, lim Limits) *Validator {
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = DefaultLimits.MaxBytes
	}
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultLimits.MaxDepth
	}
	return &Validator{reg: reg, lim: lim, cache: newDecodeCache()}
}

// Decode decodes the document b, read from source, validates it against the
// schema of its kind and computes its digest. A rejected document yields
// ValidationErrors: a single error when b cannot be decoded or has no valid
// kind, otherwise every schema failure.
//
// b may also be a DSSE envelope (docs/evidence.md) holding the document:
// every signature in it must verify against a key of WithKeys, and the
// payloadType must be PayloadType, or the envelope is rejected. The
// document's digest is still that of the document, not of the envelope.
//
// A ledger copy (ForLedger) decodes the same bytes once: it remembers
// each document it decoded (decodeCache) and returns it again, with the
// source given, for the same bytes and the same trusted keys.
func (v *Validator) Decode(source string, b []byte) (*Document, error) {
	if v.recorded && v.cache != nil {
		return v.cache.decode(v, source, b)
	}
	return v.decode(source, b)
}

func (v *Validator) decode(source string, b []byte) (*Document, error) {
	fail := func(ptr, keyword, msg string) error {
		return ValidationErrors{{Source: source, Pointer: ptr, Keyword: keyword, Message: msg}}
	}
	if int64(len(b)) > v.lim.MaxBytes {
		return nil, fail("", "max-bytes", tooLarge(v.lim.MaxBytes))
	}
	val, verr := parse(b, v.lim.MaxDepth)
	if verr != nil {
		verr.Source = source
		return nil, ValidationErrors{*verr}
	}
	if obj, ok := val.(map[string]any); ok && isEnvelope(obj) {
		return v.decodeEnvelope(source, obj)
	}
	return v.decodeValue(source, val)
}

// decodeValue validates the decoded document val.
func (v *Validator) decodeValue(source string, val any) (*Document, error) {
	fail := func(ptr, keyword, msg string) error {
		return ValidationErrors{{Source: source, Pointer: ptr, Keyword: keyword, Message: msg}}
	}
	obj, ok := val.(map[string]any)
	if !ok {
		return nil, fail("", "type", fmt.Sprintf("value must be of type object, got %s", jsonType(val)))
	}
	k, ok := obj["kind"]
	if !ok {
		return nil, fail("", "required", `missing property "kind"`)
	}
	kind, _ := k.(string)
	sch, ok := v.reg.Schema(kind)
	if !ok {
		return nil, fail("/kind", "enum", "value must be one of "+kindList)
	}
	if err := sch.Validate(obj); err != nil {
		return nil, schemaErrors(source, err)
	}

	doc := &Document{
		Source:      source,
		Kind:        kind,
		ReleaseID:   str(obj, "release", "id"),
		Service:     str(obj, "release", "service"),
		Environment: str(obj, "release", "environment"),
		Repository:  str(obj, "subject", "repository"),
		Commit:      str(obj, "subject", "commit"),
		Actor:       str(obj, "collector", "actor"),
		Value:       obj,
	}
	// The schema's pattern admits only what time.Parse accepts; this guards
	// against the two drifting apart.
	t, err := time.Parse(time.RFC3339, str(obj, "collectedAt"))
	if err != nil {
		return nil, fail("/collectedAt", "format", fmt.Sprintf("value is not a valid date-time: %v", err))
	}
	doc.CollectedAt = t
	canon, err := canonicalValue(obj)
	if err != nil {
		return nil, fmt.Errorf("digest %s: %w", source, err)
	}
	doc.Digest, doc.Canonical = DigestOf(canon), canon
	return doc, nil
}

// kindList is the expectation for a bad kind, worded like schema errors.
var kindList = func() string {
	q := make([]string, len(schemas.Kinds))
	for i, k := range schemas.Kinds {
		q[i] = strconv.Quote(k)
	}
	return strings.Join(q, ", ")
}()

// str returns the string at path in obj, or "".
func str(obj map[string]any, path ...string) string {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[p]
	}
	s, _ := cur.(string)
	return s
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	default:
		return "number"
	}
}

// ErrNoEvidence is the error of a directory given as evidence that holds
// no *.json file: a mistaken path, not an empty batch.
var ErrNoEvidence = errors.New("no evidence (*.json) in it")

// LoadPaths decodes every document in paths, the files that Files lists
// for each. Either every path is good and every document decodes, and
// LoadPaths returns them all, or it returns nil and every error, joined,
// so that a user sees each bad path and each bad file at once.
func (v *Validator) LoadPaths(paths []string) ([]*Document, error) {
	var docs []*Document
	var errs []error
	for _, p := range paths {
		files, err := Files([]string{p})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			d, err := v.LoadFile(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			docs = append(docs, d)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return docs, nil
}

// Files lists the evidence files that paths name, without opening any: a
// file itself, a directory its *.json files in name order, without
// descending into subdirectories. A path that does not exist, a directory
// without *.json files (ErrNoEvidence) and anything that is not a regular
// file (a FIFO, a device, a socket: *inputfile.NotRegularError) are
// errors, all of them joined.
func Files(paths []string) ([]string, error) {
	var files []string
	var errs []error
	for _, p := range paths {
		more, err := jsonFiles(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("load evidence: %w", err))
			continue
		}
		files = append(files, more...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return files, nil
}

func jsonFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		if err := inputfile.Check(path, fi); err != nil {
			return nil, err
		}
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path) // sorted by name
	if err != nil {
		return nil, err
	}
	var files []string
	var errs []error
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		f := filepath.Join(path, e.Name())
		fi, err := os.Stat(f) // follows a link, as reading it would
		switch {
		case err != nil:
			errs = append(errs, err)
		case fi.IsDir():
		default:
			if err := inputfile.Check(f, fi); err != nil {
				errs = append(errs, err)
				continue
			}
			files = append(files, f)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrNoEvidence)
	}
	return files, nil
}

// LoadFile reads the document in the file at path and decodes it. Only a
// regular file is read, and no more than the size limit: a larger one is
// a max-bytes ValidationError.
func (v *Validator) LoadFile(path string) (*Document, error) {
	b, err := inputfile.Read(path, v.lim.MaxBytes)
	var tl *inputfile.TooLargeError
	if errors.As(err, &tl) {
		return nil, ValidationErrors{{Source: path, Keyword: "max-bytes", Message: tooLarge(v.lim.MaxBytes)}}
	}
	if err != nil {
		return nil, fmt.Errorf("load evidence: %w", err)
	}
	return v.Decode(path, b)
}

func tooLarge(limit int64) string {
	return fmt.Sprintf("document exceeds the limit of %d bytes", limit)
}
