package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/localizevideos/shipgate/evidence"
)

// maxDepth bounds the nesting of a request body, as the evidence decoder
// bounds a document's.
const maxDepth = 64

// readBody reads a JSON request body: Content-Type application/json, at
// most the server's MaxBody bytes (the route's MaxBytesReader), and JSON
// read strictly (strictJSON). Every body goes through it, so a key given
// twice ("dryRun": true, "dryRun": false) is refused with its pointer,
// never read as its last value.
func readBody(r *http.Request) ([]byte, error) {
	b, err := readRaw(r)
	if err != nil {
		return nil, err
	}
	if err := strictJSON(b); err != nil {
		var ve evidence.ValidationError
		if errors.As(err, &ve) {
			p := ve.Pointer
			if p == "" {
				p = "(root)"
			}
			return nil, badRequest("request body: %s: %s", p, ve.Message)
		}
		return nil, badRequest("request body: %v", err)
	}
	return b, nil
}

// strictJSON reads b as the evidence decoder reads a document
// (evidence.CheckJSON): valid UTF-8, no key twice in an object, nested at
// most maxDepth deep, nothing after the value.
func strictJSON(b []byte) error { return evidence.CheckJSON(b, maxDepth) }

// readRaw reads a request body of Content-Type application/json within
// the route's MaxBytesReader; the caller checks it with strictJSON
// (readBody does).
func readRaw(r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedMedia,
			Message: fmt.Sprintf("Content-Type %q: the API takes application/json only", r.Header.Get("Content-Type"))}
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
				Message: fmt.Sprintf("request body: exceeds the limit of %d bytes", mbe.Limit)}
		}
		return nil, badRequest("read the request body: %v", err)
	}
	return b, nil
}

// readJSON reads a request body (readBody) into v, a closed type: no
// unknown members (decodeStrict).
func readJSON(r *http.Request, v any) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeStrict(b, v)
}

// decodeStrict decodes a request body into v: no unknown members, nothing
// after the value. Errors name the member, as far as encoding/json knows it.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badRequest("request body: /%s: want %s, got %s", jsonPointer(te.Field), te.Type, te.Value)
		}
		return badRequest("request body: %v", err)
	}
	if dec.More() {
		return badRequest("request body: data after the JSON value")
	}
	return nil
}

// jsonPointer turns encoding/json's dotted field path into a JSON pointer
// body (without the leading slash).
func jsonPointer(field string) string {
	return string(bytes.ReplaceAll([]byte(field), []byte("."), []byte("/")))
}
