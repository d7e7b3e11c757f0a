package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/localizevideos/shipgate/api"
	"net/http"

	"github.com/localizevideos/shipgate/evidence"
)

// Error is an API error: the HTTP status, a stable code clients branch on,
// the message they read, optional details (validation errors, the denying
// decision), and the cause, which is logged and never sent.
type Error struct {
	Status  int
	Code    string
	Message string
	Details any
	// Decision, when set, is the recorded (denying) decision the error
	// came with.
	Decision any
	Cause    error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// Error codes.
const (
	CodeUnauthenticated  = "unauthenticated"
	CodeForbidden        = "forbidden"
	CodeSelfApproval     = "self_approval"
	CodeBadRequest       = "bad_request"
	CodeInvalidEvidence  = "invalid_evidence"
	CodeTooLarge         = "too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeNotFound         = "not_found"
	CodeConflict         = "conflict"
	CodeIdempotency      = "idempotency_conflict"
	CodeEngineFault      = "engine_fault"
	CodeStoreUnavailable = "store_unavailable"
	CodeLedgerBroken     = "ledger_broken"
	CodeInternal         = "internal"
)

func badRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: fmt.Sprintf(format, args...)}
}

// storeError is a store that could not be read or written.
func storeError(what string, err error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeStoreUnavailable,
		Message: what + ": the ledger store is unavailable; nothing was allowed", Cause: err}
}

// invalidEvidence reports evidence that failed validation: every error,
// each naming the document (its place in the request), the JSON pointer and
// what was expected.
func invalidEvidence(err error) *Error {
	var ves evidence.ValidationErrors
	if !errors.As(err, &ves) {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidEvidence, Message: err.Error(), Cause: err}
	}
	details := make([]api.ValidationDetail, len(ves))
	for i, v := range ves {
		p := v.Pointer
		if p == "" {
			p = "(root)"
		}
		details[i] = api.ValidationDetail{Source: v.Source, Pointer: p, Keyword: v.Keyword, Message: v.Message}
	}
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidEvidence,
		Message: fmt.Sprintf("%d validation errors; nothing was recorded: %s", len(ves), ves[0].Error()), Details: details}
}

func writeError(w http.ResponseWriter, e *Error) {
	var b api.ErrorBody
	b.Error.Code, b.Error.Message, b.Error.Details = e.Code, e.Message, e.Details
	b.Decision = e.Decision
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="shipgate"`)
	}
	writeJSON(w, e.Status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"encode the answer"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
