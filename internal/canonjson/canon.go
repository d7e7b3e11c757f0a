package canonjson

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// Canonicalize returns the RFC 8785 form of the JSON value b, without
// building a tree of it: strings, numbers and literals are written as they
// are read, and the members of each object, written in turn, are then put
// in order. It declines (false) whatever it does not take outright, for a
// stricter reader to refuse or canonicalize: invalid UTF-8 or JSON, a
// duplicate member name, a \u escape of a UTF-16 surrogate, a number
// beyond a double's range or precision (an integer beyond ±(2^53-1), one
// that underflows to 0), nesting deeper than maxCheckDepth. What it returns
// is what evidence.Canonical returns for b (FuzzCanonicalize).
func Canonicalize(b []byte) ([]byte, bool) {
	if !utf8.Valid(b) {
		return nil, false
	}
	c := canonicalizer{b: b}
	c.space()
	out, ok := c.value(make([]byte, 0, len(b)), 0)
	c.space()
	return out, ok && c.i == len(b)
}

type canonicalizer struct {
	b []byte
	i int
	// members holds the members of the objects being written, innermost
	// last, and scratch the bytes of one being put in order.
	members []canonMember
	scratch []byte
}

// canonMember is a member written to out[start:end] ("name":value), and
// its name decoded.
type canonMember struct {
	name       string
	start, end int
}

func (c *canonicalizer) space() { c.i = SkipSpace(c.b, c.i) }

// SkipSpace returns the index of the first byte of b at or after i that
// is not JSON whitespace (space, tab, newline, carriage return), len(b) if
// none is.
func SkipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (c *canonicalizer) value(out []byte, depth int) ([]byte, bool) {
	if c.i >= len(c.b) {
		return out, false
	}
	switch ch := c.b[c.i]; {
	case ch == '{':
		if depth >= maxCheckDepth {
			return out, false
		}
		return c.object(out, depth+1)
	case ch == '[':
		if depth >= maxCheckDepth {
			return out, false
		}
		return c.array(out, depth+1)
	case ch == '"':
		s, ok := c.str()
		return AppendString(out, s), ok
	case ch == 't':
		return append(out, "true"...), c.literal("true")
	case ch == 'f':
		return append(out, "false"...), c.literal("false")
	case ch == 'n':
		return append(out, "null"...), c.literal("null")
	case ch == '-' || '0' <= ch && ch <= '9':
		return c.number(out)
	}
	return out, false
}

func (c *canonicalizer) literal(word string) bool {
	if len(c.b)-c.i < len(word) || string(c.b[c.i:c.i+len(word)]) != word {
		return false
	}
	c.i += len(word)
	return true
}

func (c *canonicalizer) object(out []byte, depth int) ([]byte, bool) {
	c.i++ // '{'
	out = append(out, '{')
	start, base := len(out), len(c.members)
	defer func() { c.members = c.members[:base] }()
	c.space()
	if c.i < len(c.b) && c.b[c.i] == '}' {
		c.i++
		return append(out, '}'), true
	}
	for {
		if c.i >= len(c.b) || c.b[c.i] != '"' {
			return out, false
		}
		name, ok := c.str()
		if !ok {
			return out, false
		}
		if len(c.members) > base {
			out = append(out, ',')
		}
		m := canonMember{name: name, start: len(out)}
		out = append(AppendString(out, name), ':')
		c.space()
		if c.i >= len(c.b) || c.b[c.i] != ':' {
			return out, false
		}
		c.i++
		c.space()
		if out, ok = c.value(out, depth); !ok {
			return out, false
		}
		m.end = len(out)
		c.members = append(c.members, m)
		c.space()
		if c.i >= len(c.b) {
			return out, false
		}
		if c.b[c.i] == '}' {
			c.i++
			break
		}
		if c.b[c.i] != ',' {
			return out, false
		}
		c.i++
		c.space()
	}
	// The members as written, in the order given, put in RFC 8785 order.
	ms := c.members[base:]
	if slices.IsSortedFunc(ms, compareNames) {
		for k := 1; k < len(ms); k++ {
			if ms[k-1].name == ms[k].name {
				return out, false
			}
		}
		return append(out, '}'), true
	}
	slices.SortFunc(ms, compareNames)
	for k := 1; k < len(ms); k++ {
		if ms[k-1].name == ms[k].name {
			return out, false
		}
	}
	c.scratch = append(c.scratch[:0], out[start:]...)
	out = out[:start]
	for k, m := range ms {
		if k > 0 {
			out = append(out, ',')
		}
		out = append(out, c.scratch[m.start-start:m.end-start]...)
	}
	return append(out, '}'), true
}

func compareNames(a, b canonMember) int { return compareUTF16([]byte(a.name), []byte(b.name)) }

func (c *canonicalizer) array(out []byte, depth int) ([]byte, bool) {
	c.i++ // '['
	out = append(out, '[')
	c.space()
	if c.i < len(c.b) && c.b[c.i] == ']' {
		c.i++
		return append(out, ']'), true
	}
	for first := true; ; first = false {
		if !first {
			out = append(out, ',')
		}
		var ok bool
		if out, ok = c.value(out, depth); !ok {
			return out, false
		}
		c.space()
		if c.i >= len(c.b) {
			return out, false
		}
		if c.b[c.i] == ']' {
			c.i++
			return append(out, ']'), true
		}
		if c.b[c.i] != ',' {
			return out, false
		}
		c.i++
		c.space()
	}
}

// str reads the string at its opening quote, decoding its escapes.
func (c *canonicalizer) str() (string, bool) {
	c.i++
	start := c.i
	c.i = plain(c.b, c.i)
	if c.i < len(c.b) && c.b[c.i] == '"' {
		c.i++
		return string(c.b[start : c.i-1]), true
	}
	var s []byte
	for {
		s = append(s, c.b[start:c.i]...)
		if c.i >= len(c.b) || c.b[c.i] < 0x20 {
			return "", false
		}
		if c.b[c.i] == '"' {
			c.i++
			return string(s), true
		}
		// A backslash.
		if c.i+1 >= len(c.b) {
			return "", false
		}
		switch e := c.b[c.i+1]; e {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			s = append(s, Unescape(e))
		case 'u':
			if c.i+6 > len(c.b) {
				return "", false
			}
			r, err := strconv.ParseUint(string(c.b[c.i+2:c.i+6]), 16, 16)
			if err != nil || utf16.IsSurrogate(rune(r)) {
				return "", false
			}
			s = utf8.AppendRune(s, rune(r))
			c.i += 4
		default:
			return "", false
		}
		c.i += 2
		start = c.i
		c.i = plain(c.b, c.i)
	}
}

// Unescape is the byte a JSON short escape (the letter after a backslash:
// one of "\\/bfnrt) stands for.
func Unescape(e byte) byte {
	switch e {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return e
}

// number writes the number at c.i as its double in ECMAScript's shortest
// form, as jcs does.
func (c *canonicalizer) number(out []byte) ([]byte, bool) {
	start := c.i
	end, plain, ok := scanNumber(c.b, c.i)
	if !ok {
		return out, false
	}
	c.i = end
	lit := string(c.b[start:c.i])
	if plain && len(lit) <= 15 {
		if lit == "-0" {
			return append(out, '0'), true
		}
		return append(out, lit...), true
	}
	f, err := strconv.ParseFloat(lit, 64)
	switch {
	case err != nil || math.IsInf(f, 0):
		return out, false
	case f == 0 && strings.ContainsAny(mantissa(lit), "123456789"):
		return out, false // underflows
	case plain && math.Abs(f) > maxExactInt:
		return out, false
	}
	n, err := jcs.NumberToJSON(f)
	return append(out, n...), err == nil
}

// maxExactInt is the largest integer below which a double holds every
// integer exactly.
const maxExactInt = 1<<53 - 1

// mantissa is the number s without its exponent.
func mantissa(s string) string {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		return s[:i]
	}
	return s
}
