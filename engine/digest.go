package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// digest is the sha256 of dig's canonical JSON (RFC 8785), written directly:
// the same bytes as json.Marshal followed by jcs.Transform
// (TestInputDigestIsCanonical compares them), without building and parsing
// the JSON twice for every decision. Members are written in the canonical
// order (sorted keys), with json.Marshal's conventions: omitempty members
// left out, nil slices as null, times as RFC 3339 with nanoseconds.
func (dig *digestInput) digest() (string, error) {
	size := 512 + 80*len(dig.Evidence) + 200*len(dig.Freeze) + 300*len(dig.Violations)
	for k, v := range dig.Signers {
		size += len(k) + 8 + 40*len(v)
	}
	bp := digestBufs.Get().(*[]byte)
	w := canonWriter{b: slices.Grow((*bp)[:0], size)}
	w.raw(`{"evidence":`)
	w.strings(dig.Evidence)
	w.raw(`,"freeze":`)
	if dig.Freeze == nil {
		w.raw("null")
	} else {
		w.raw("[")
		for i, f := range dig.Freeze {
			if i > 0 {
				w.raw(",")
			}
			w.raw(`{"end":`)
			w.time(f.End)
			w.raw(`,"id":`)
			w.str(f.ID)
			if f.Name != "" {
				w.raw(`,"name":`)
				w.str(f.Name)
			}
			if f.Reason != "" {
				w.raw(`,"reason":`)
				w.str(f.Reason)
			}
			w.raw(`,"start":`)
			w.time(f.Start)
			w.raw("}")
		}
		w.raw("]")
	}
	w.raw(`,"gate":`)
	w.str(dig.Gate)
	w.raw(`,"now":`)
	w.str(dig.Now)
	r := dig.Release
	w.raw(`,"release":{"commit":`)
	w.str(r.Commit)
	w.raw(`,"environment":`)
	w.str(r.Environment)
	w.raw(`,"id":`)
	w.str(r.ID)
	if r.Repository != "" {
		w.raw(`,"repository":`)
		w.str(r.Repository)
	}
	w.raw(`,"service":`)
	w.str(r.Service)
	w.raw("}")
	if len(dig.Signers) > 0 {
		w.raw(`,"signers":{`)
		keys := make([]string, 0, len(dig.Signers))
		for k := range dig.Signers {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, compareUTF16)
		for i := 1; i < len(keys); i++ {
			// Two names that differ only in invalid bytes are one name
			// once those become U+FFFD: JSON with a duplicate member.
			if !(plain(keys[i-1]) && plain(keys[i])) && string([]rune(keys[i-1])) == string([]rune(keys[i])) {
				return "", fmt.Errorf("signers: duplicate member %q", string([]rune(keys[i])))
			}
		}
		for i, k := range keys {
			if i > 0 {
				w.raw(",")
			}
			w.str(k)
			w.raw(":")
			w.strings(dig.Signers[k])
		}
		w.raw("}")
	}
	w.raw(`,"violations":`)
	if dig.Violations == nil {
		w.raw("null")
	} else {
		w.raw("[")
		for i, v := range dig.Violations {
			if i > 0 {
				w.raw(",")
			}
			w.raw(`{"due":`)
			w.time(v.Due)
			w.raw(`,"gate":`)
			w.str(v.Gate)
			w.raw(`,"id":`)
			w.str(v.ID)
			w.raw(`,"openedAt":`)
			w.time(v.OpenedAt)
			w.raw(`,"release":`)
			w.str(v.Release)
			w.raw(`,"rules":`)
			w.strings(v.Rules)
			w.raw(`,"status":`)
			w.str(v.Status)
			w.raw("}")
		}
		w.raw("]")
	}
	w.raw("}")
	if w.err != nil {
		return "", w.err
	}
	sum := sha256.Sum256(w.b)
	if cap(w.b) <= maxPooledDigestBuf {
		*bp = w.b[:0]
		digestBufs.Put(bp)
	}
	var out [len("sha256:") + 2*sha256.Size]byte
	hex.Encode(out[copy(out[:], "sha256:"):], sum[:])
	return string(out[:]), nil
}

// digestBufs keeps the buffers digest writes the canonical JSON in: the
// bytes are hashed and dropped, and every decision needs one.
var digestBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledDigestBuf bounds the buffers kept: an input with many documents
// or violations does not pin its buffer for the life of the process.
const maxPooledDigestBuf = 64 << 10

type canonWriter struct {
	b   []byte
	err error
}

func (w *canonWriter) raw(s string) { w.b = append(w.b, s...) }

// str writes s as RFC 8785 does: the escapes \" \\ \b \f \n \r \t, \u00xx
// for the other control characters, everything else as UTF-8; an invalid
// byte becomes U+FFFD, as json.Marshal makes it.
func (w *canonWriter) str(s string) {
	w.b = append(w.b, '"')
	if plain(s) {
		w.b = append(append(w.b, s...), '"')
		return
	}
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				w.b = utf8.AppendRune(w.b, utf8.RuneError)
				continue
			}
		}
		switch {
		case r == '"':
			w.b = append(w.b, '\\', '"')
		case r == '\\':
			w.b = append(w.b, '\\', '\\')
		case r == '\b':
			w.b = append(w.b, '\\', 'b')
		case r == '\f':
			w.b = append(w.b, '\\', 'f')
		case r == '\n':
			w.b = append(w.b, '\\', 'n')
		case r == '\r':
			w.b = append(w.b, '\\', 'r')
		case r == '\t':
			w.b = append(w.b, '\\', 't')
		case r < 0x20:
			const hexDigits = "0123456789abcdef"
			w.b = append(w.b, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xf])
		default:
			w.b = utf8.AppendRune(w.b, r)
		}
	}
	w.b = append(w.b, '"')
}

// plain says whether s is printable ASCII without a quote or a
// backslash: written as it is (digests, ids, times, most names).
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// strings writes a list of strings; nil is null, as json.Marshal writes it.
func (w *canonWriter) strings(ss []string) {
	if ss == nil {
		w.raw("null")
		return
	}
	w.b = append(w.b, '[')
	for i, s := range ss {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(s)
	}
	w.b = append(w.b, ']')
}

// time writes t as time.Time.MarshalJSON does, and fails where it fails
// (a year outside 0 to 9999).
func (w *canonWriter) time(t time.Time) {
	b, err := t.MarshalJSON()
	if err != nil {
		if w.err == nil {
			w.err = err
		}
		return
	}
	w.b = append(w.b, b...)
}

// compareUTF16 orders strings by their UTF-16 code units, as RFC 8785
// sorts member names.
func compareUTF16(a, b string) int {
	if ascii(a) && ascii(b) {
		return strings.Compare(a, b) // ASCII is one code unit per byte
	}
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

// ascii says whether s is all ASCII.
func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
