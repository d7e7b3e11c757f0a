package httpcheck

import (
	"encoding/json"
	"fmt"
	"strings"
)

// text is a url, header value or body string of a step: vars were put in
// when the file was loaded; a ${name} of a value captured by an earlier
// step is put in when the step runs.
type text struct {
	parts []textPart
}

// textPart is a literal, or the value captured as capture.
type textPart struct {
	lit, capture string
}

func literal(s string) text { return text{parts: []textPart{{lit: s}}} }

// fill puts in the captured values; missing names the first capture that
// caps lacks.
func (t text) fill(caps map[string]string) (s, missing string) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.capture == "" {
			b.WriteString(p.lit)
			continue
		}
		v, ok := caps[p.capture]
		if !ok {
			return "", p.capture
		}
		b.WriteString(v)
	}
	return b.String(), ""
}

// String is t for a message or the ledger: a captured value, which may be
// a session, stays ${name}.
func (t text) String() string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.capture != "" {
			b.WriteString("${" + p.capture + "}")
			continue
		}
		b.WriteString(p.lit)
	}
	return b.String()
}

func (t text) captures() []string {
	var names []string
	for _, p := range t.parts {
		if p.capture != "" {
			names = append(names, p.capture)
		}
	}
	return names
}

// payload is a step's body: a string sent as written, or a mapping or list
// (whose strings are texts) sent as JSON.
type payload struct {
	raw  *text
	tree any
}

// fill is the body to send, with the captured values put in.
func (p *payload) fill(caps map[string]string) (b []byte, missing string, err error) {
	if p.raw != nil {
		s, missing := p.raw.fill(caps)
		return []byte(s), missing, nil
	}
	v, missing := fillTree(p.tree, caps)
	if missing != "" {
		return nil, missing, nil
	}
	b, err = json.Marshal(v)
	return b, "", err
}

func fillTree(v any, caps map[string]string) (any, string) {
	switch t := v.(type) {
	case text:
		return t.fill(caps)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			f, missing := fillTree(e, caps)
			if missing != "" {
				return nil, missing
			}
			out[k] = f
		}
		return out, ""
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			f, missing := fillTree(e, caps)
			if missing != "" {
				return nil, missing
			}
			out[i] = f
		}
		return out, ""
	}
	return v, ""
}

// notCaptured is the message of a step that cannot be sent: a value it
// uses was not captured, because the step capturing it did not pass.
func notCaptured(st *step, name string, by map[string]string) string {
	return fmt.Sprintf("step %q: ${%s} was not captured: step %q did not pass", st.name, name, by[name])
}
