package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// maxDepth bounds the nesting of a request body, as the evidence decoder
// bounds a document's.
const maxDepth = 64

// readBody reads a JSON request body: Content-Type application/json, at
// most the server's MaxBody bytes (the route's MaxBytesReader), nested at
// most maxDepth deep.
func readBody(r *http.Request) ([]byte, error) {
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
	if err := checkDepth(b, maxDepth); err != nil {
		return nil, badRequest("request body: %v", err)
	}
	return b, nil
}

// checkDepth fails when JSON b nests arrays and objects deeper than max.
// It only counts brackets outside strings; the decoder checks the rest.
func checkDepth(b []byte, max int) error {
	depth, inString, escaped := 0, false, false
	for i, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return fmt.Errorf("byte %d: nested deeper than %d levels", i, max)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
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
