package canonjson

import (
	"cmp"
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// maxCheckDepth bounds the nesting IsCanonical follows: a value nested
// deeper is reported as not canonical, for Marshal to decide (encoding/json
// refuses nesting beyond 10000).
const maxCheckDepth = 1000

// IsCanonical reports whether b is one JSON value already in the form
// Marshal gives it: Marshal(json.RawMessage(b)) would return b unchanged.
// It is conservative: it accepts only valid UTF-8, no whitespace, members
// in RFC 8785 order with names free of escapes, strings escaped exactly as
// RFC 8785 escapes them, numbers in their ECMAScript form and nesting at
// most maxCheckDepth deep; whatever else it meets, canonical or not, it
// reports false. It lets a caller holding bytes that are usually canonical
// already (a ledger entry's payload) copy them rather than parse and write
// them again, in one pass and without allocating.
func IsCanonical(b []byte) bool {
	// Valid UTF-8 throughout is valid UTF-8 in every string: the grammar
	// leaves no other place for a byte beyond ASCII.
	if !utf8.Valid(b) {
		return false
	}
	c := checker{b: b}
	return c.value(0) && c.i == len(b)
}

// checker walks one JSON value from b[i].
type checker struct {
	b []byte
	i int
}

func (c *checker) value(depth int) bool {
	if c.i >= len(c.b) {
		return false
	}
	switch ch := c.b[c.i]; {
	case ch == '{':
		return depth < maxCheckDepth && c.object(depth+1)
	case ch == '[':
		return depth < maxCheckDepth && c.array(depth+1)
	case ch == '"':
		_, ok := c.str()
		return ok
	case ch == 't':
		return c.literal("true")
	case ch == 'f':
		return c.literal("false")
	case ch == 'n':
		return c.literal("null")
	case ch == '-' || '0' <= ch && ch <= '9':
		return c.number()
	}
	return false
}

func (c *checker) literal(word string) bool {
	if len(c.b)-c.i < len(word) || string(c.b[c.i:c.i+len(word)]) != word {
		return false
	}
	c.i += len(word)
	return true
}

// object checks an object from its '{': its member names, free of
// escapes, must come in strictly increasing RFC 8785 order (so none twice).
func (c *checker) object(depth int) bool {
	c.i++
	if c.i < len(c.b) && c.b[c.i] == '}' {
		c.i++
		return true
	}
	var prev []byte
	for first := true; ; first = false {
		if c.i >= len(c.b) || c.b[c.i] != '"' {
			return false
		}
		start := c.i + 1
		escaped, ok := c.str()
		if !ok || escaped {
			return false
		}
		name := c.b[start : c.i-1]
		if !first && compareUTF16(prev, name) >= 0 {
			return false
		}
		prev = name
		if c.i >= len(c.b) || c.b[c.i] != ':' {
			return false
		}
		c.i++
		if !c.value(depth) {
			return false
		}
		if end, ok := c.after('}'); !ok || end {
			return ok
		}
	}
}

// after reads what follows a member or an element: a comma (more follow)
// or closing (the end); ok is false for anything else.
func (c *checker) after(closing byte) (end, ok bool) {
	if c.i >= len(c.b) {
		return false, false
	}
	switch c.b[c.i] {
	case ',':
		c.i++
		return false, true
	case closing:
		c.i++
		return true, true
	}
	return false, false
}

func (c *checker) array(depth int) bool {
	c.i++
	if c.i < len(c.b) && c.b[c.i] == ']' {
		c.i++
		return true
	}
	for {
		if !c.value(depth) {
			return false
		}
		if end, ok := c.after(']'); !ok || end {
			return ok
		}
	}
}

// str checks a string from its opening quote to past its closing one:
// valid UTF-8, no control character unescaped, and only the escapes RFC
// 8785 writes (the two characters and five controls that have a short
// escape, the other controls as \u00xx in lower case). escaped says
// whether it had any escape.
func (c *checker) str() (escaped, ok bool) {
	c.i++
	for {
		c.i = plain(c.b, c.i)
		if c.i >= len(c.b) {
			return escaped, false
		}
		switch c.b[c.i] {
		case '"':
			c.i++
			return escaped, true
		case '\\':
			escaped = true
			if !c.escape() {
				return escaped, false
			}
		default: // a control character
			return escaped, false
		}
	}
}

// special marks the bytes of x (little-endian) that a string does not
// hold as they are, the first of them exactly: the lowest byte with its
// high bit set in (v-ones)&^v is v's first zero byte, and in
// (x-ones*0x20)&^x x's first byte below 0x20 (a borrow only marks bytes
// after one marked already).
func special(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q, bs := x^(ones*'"'), x^(ones*'\\')
	return ((q-ones)&^q | (bs-ones)&^bs | (x-ones*0x20)&^x) & highs
}

// plain returns the index of the first byte of b from i on that a string
// does not hold as it is (a quote, a backslash, a control character), or
// len(b). It looks at eight bytes at a time.
func plain(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		if m := special(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c == '"' || c == '\\' {
			return i
		}
	}
	return i
}

// escape checks the escape at b[i], its backslash, and steps past it.
func (c *checker) escape() bool {
	if c.i+1 >= len(c.b) {
		return false
	}
	switch c.b[c.i+1] {
	case '"', '\\', 'b', 'f', 'n', 'r', 't':
		c.i += 2
		return true
	case 'u':
		// Only a control character without a short escape, as \u00xx.
		if len(c.b)-c.i < 6 || c.b[c.i+2] != '0' || c.b[c.i+3] != '0' || c.b[c.i+4] > '1' || c.b[c.i+4] < '0' {
			return false
		}
		lo := c.b[c.i+5]
		var v byte
		switch {
		case '0' <= lo && lo <= '9':
			v = lo - '0'
		case 'a' <= lo && lo <= 'f':
			v = lo - 'a' + 10
		default:
			return false
		}
		v += (c.b[c.i+4] - '0') << 4
		switch v {
		case '\b', '\f', '\n', '\r', '\t':
			return false
		}
		c.i += 6
		return true
	}
	return false
}

// number checks a number: JSON's grammar, and the text ECMAScript gives
// its double (what jcs writes for it).
func (c *checker) number() bool {
	start := c.i
	end, plain, ok := scanNumber(c.b, c.i)
	if !ok {
		return false
	}
	c.i = end
	lit := c.b[start:end]
	// An integer of up to 15 digits is its own shortest form, but for -0.
	if plain && len(lit) <= 15 && string(lit) != "-0" {
		return true
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return false
	}
	s, err := jcs.NumberToJSON(f)
	return err == nil && s == string(lit)
}

// scanNumber reads the JSON number at b[i] (JSON's grammar): end is where
// it stops, plain says it has neither fraction nor exponent, ok is false
// for anything that is not a number.
func scanNumber(b []byte, i int) (end int, plain, ok bool) {
	digits := func() int {
		n := 0
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return i, false, false
	}
	plain = true
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return i, false, false
		}
		plain = false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return i, false, false
		}
		plain = false
	}
	return i, plain, true
}

// compareUTF16 orders member names (valid UTF-8) by their UTF-16 code
// units, as RFC 8785 sorts them. UTF-8 byte order is code point order,
// which is UTF-16 order but between a character beyond U+FFFF (lead byte
// 0xF0 to 0xF4; a surrogate pair, 0xD800 on, in UTF-16) and one from
// U+E000 to U+FFFF (lead byte 0xEE or 0xEF), which UTF-16 sorts after it.
func compareUTF16(a, b []byte) int {
	d := 0
	for d < len(a) && d < len(b) && a[d] == b[d] {
		d++
	}
	if d == len(a) || d == len(b) {
		return cmp.Compare(len(a), len(b))
	}
	x, y := a[d], b[d]
	switch {
	case x >= 0xF0 && (y == 0xEE || y == 0xEF):
		return -1
	case y >= 0xF0 && (x == 0xEE || x == 0xEF):
		return 1
	}
	return cmp.Compare(x, y)
}

// AppendString appends s, which must be valid UTF-8, quoted as RFC 8785
// (and Marshal) quote it: the two characters and five controls with a
// short escape escaped so, the other controls as \u00xx, everything else
// as it is.
func AppendString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		out = append(out, s[start:i]...)
		switch c {
		case '"', '\\':
			out = append(out, '\\', c)
		case '\b':
			out = append(out, '\\', 'b')
		case '\f':
			out = append(out, '\\', 'f')
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		default:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	return append(append(out, s[start:]...), '"')
}

// EachMember calls fn with the name (as written, without its quotes) and
// the value (as written) of each member of the object b in turn, until fn
// returns false. It reports whether b is an object. b must be canonical
// (IsCanonical): EachMember only finds where each member ends.
func EachMember(b []byte, fn func(name, value []byte) bool) bool {
	if len(b) < 2 || b[0] != '{' {
		return false
	}
	i := 1
	for i < len(b) && b[i] == '"' {
		end := skip(b, i)
		name := b[i+1 : end-1]
		start := end + 1 // past ':'
		i = skip(b, start)
		if !fn(name, b[start:i]) {
			return true
		}
		i++ // past ',' or '}'
	}
	return true
}

// skip returns where the value at b[i] of canonical JSON ends.
func skip(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i = plain(b, i+1); b[i] != '"'; i = plain(b, i+2) {
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i // the end of the container around a literal
			}
			if depth--; depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}
