package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parser decodes JSON strictly, one token at a time, so that it can reject
// what encoding/json silently accepts (duplicate keys, lone surrogates,
// numbers that lose precision) and name the JSON pointer of the problem.
type parser struct {
	src      []byte
	dec      *json.Decoder
	maxDepth int
	badUTF8  int      // offset of the first invalid UTF-8 byte, or -1
	path     []string // pointer tokens of the value being parsed
}

// parse decodes b into map[string]any, []any, string, json.Number, bool and
// nil values. A well-formed document is read by fastParse; anything it
// declines by parseTokens, which names what is wrong.
func parse(b []byte, maxDepth int) (any, *ValidationError) {
	if v, ok := fastParse(b, maxDepth); ok {
		return v, nil
	}
	return parseTokens(b, maxDepth)
}

// parseTokens is parse token by token through encoding/json.
func parseTokens(b []byte, maxDepth int) (any, *ValidationError) {
	p := &parser{src: b, dec: json.NewDecoder(bytes.NewReader(b)), maxDepth: maxDepth, badUTF8: -1}
	p.dec.UseNumber()
	if !utf8.Valid(b) {
		// Invalid UTF-8 is reported whatever else is wrong; the walk below
		// only serves to find the pointer where it occurs.
		p.badUTF8 = invalidUTF8At(b)
	}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	start := p.dec.InputOffset()
	if _, terr := p.dec.Token(); terr != io.EOF {
		if p.badUTF8 >= 0 {
			return nil, p.utf8Error()
		}
		off := int(start)
		for off < len(b) && strings.IndexByte(" \t\r\n", b[off]) >= 0 {
			off++
		}
		return nil, p.fail("trailing-data", fmt.Sprintf("unexpected data after the top-level value at byte offset %d", off))
	}
	if p.badUTF8 >= 0 { // unreachable: every byte belongs to a token or to whitespace
		return nil, p.utf8Error()
	}
	return v, nil
}

// value parses the next value; depth is the number of containers around it.
func (p *parser) value(depth int) (any, *ValidationError) {
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim: // only '{' or '[' here: Token reports stray closers as syntax errors
		if depth+1 > p.maxDepth {
			return nil, p.fail("max-depth", fmt.Sprintf("objects and arrays nest deeper than %d levels", p.maxDepth))
		}
		if t == '{' {
			return p.object(depth + 1)
		}
		return p.array(depth + 1)
	case json.Number:
		if msg := checkNumber(string(t)); msg != "" {
			return nil, p.fail("number", msg)
		}
	}
	return tok, nil
}

func (p *parser) object(depth int) (any, *ValidationError) {
	obj := map[string]any{}
	for p.dec.More() {
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string) // Token only yields strings in key position
		p.path = append(p.path, key)
		if _, dup := obj[key]; dup {
			return nil, p.fail("duplicate-key", fmt.Sprintf("duplicate key %q", key))
		}
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		p.path = p.path[:len(p.path)-1]
		obj[key] = v
	}
	if _, err := p.token(); err != nil { // '}'
		return nil, err
	}
	return obj, nil
}

func (p *parser) array(depth int) (any, *ValidationError) {
	arr := []any{}
	for i := 0; p.dec.More(); i++ {
		p.path = append(p.path, strconv.Itoa(i))
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		p.path = p.path[:len(p.path)-1]
		arr = append(arr, v)
	}
	if _, err := p.token(); err != nil { // ']'
		return nil, err
	}
	return arr, nil
}

// token returns the next token, turning decoder errors into ValidationErrors
// at the current pointer.
func (p *parser) token() (json.Token, *ValidationError) {
	start := p.dec.InputOffset()
	tok, err := p.dec.Token()
	if p.badUTF8 >= 0 && (err != nil || p.dec.InputOffset() > int64(p.badUTF8)) {
		return nil, p.utf8Error()
	}
	if err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return nil, p.fail("syntax", fmt.Sprintf("%s at byte offset %d", se.Error(), se.Offset))
		case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
			return nil, p.fail("syntax", fmt.Sprintf("unexpected end of input at byte offset %d", len(p.src)))
		default:
			return nil, p.fail("syntax", err.Error())
		}
	}
	// encoding/json turns a lone UTF-16 surrogate escape into U+FFFD; RFC
	// 8785 forbids it, and accepting it would give "\ud800" and "\ufffd" one
	// digest. Only strings holding U+FFFD can be affected.
	if s, ok := tok.(string); ok && strings.ContainsRune(s, utf8.RuneError) {
		if esc := loneSurrogate(p.src[start:p.dec.InputOffset()]); esc != "" {
			return nil, p.fail("utf8", fmt.Sprintf("string has a lone UTF-16 surrogate escape %s", esc))
		}
	}
	return tok, nil
}

func (p *parser) utf8Error() *ValidationError {
	return p.fail("utf8", fmt.Sprintf("invalid UTF-8 at byte offset %d", p.badUTF8))
}

func (p *parser) fail(keyword, msg string) *ValidationError {
	return &ValidationError{Pointer: pointer(p.path), Keyword: keyword, Message: msg}
}

// checkNumber enforces I-JSON (RFC 7493), on which RFC 8785 builds: a number
// must survive the trip through an IEEE 754 double, or the digest would hash
// a different value than the one policies read. It returns "" for a good
// number.
func checkNumber(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsInf(f, 0):
		return fmt.Sprintf("number %s is out of the range of an IEEE 754 double", s)
	case f == 0 && strings.ContainsAny(mantissa(s), "123456789"):
		return fmt.Sprintf("number %s underflows an IEEE 754 double to 0", s)
	case !strings.ContainsAny(s, ".eE") && math.Abs(f) > 1<<53-1:
		return fmt.Sprintf("integer %s is outside ±(2^53-1) and cannot be represented exactly; use a string", s)
	}
	return ""
}

func mantissa(s string) string {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		return s[:i]
	}
	return s
}

// loneSurrogate returns the first \uXXXX escape in the JSON string literal
// within raw that is half of a surrogate pair without its other half, or "".
func loneSurrogate(raw []byte) string {
	i := bytes.IndexByte(raw, '"')
	if i < 0 {
		return ""
	}
	hex4 := func(j int) (rune, bool) { // the \uXXXX escape at j, if any
		if j+6 > len(raw) || raw[j] != '\\' || raw[j+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(raw[j+2:j+6]), 16, 16)
		return rune(n), err == nil
	}
	for j := i + 1; j < len(raw) && raw[j] != '"'; j++ {
		if raw[j] != '\\' {
			continue
		}
		r, ok := hex4(j)
		if !ok {
			j++ // a two-character escape such as \" or \\
			continue
		}
		switch {
		case 0xD800 <= r && r < 0xDC00:
			if lo, ok := hex4(j + 6); ok && 0xDC00 <= lo && lo < 0xE000 {
				j += 11
				continue
			}
			return string(raw[j : j+6])
		case 0xDC00 <= r && r < 0xE000:
			return string(raw[j : j+6])
		}
		j += 5
	}
	return ""
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// pointer renders tokens as an RFC 6901 JSON pointer.
func pointer(tokens []string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		sb.WriteString(pointerEscaper.Replace(t))
	}
	return sb.String()
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")
