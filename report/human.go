package report

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The people's formats (md, html) show numbers and times for reading; the
// JSON keeps them as recorded.

// recordedValue matches an RFC 3339 time or a decimal number in text that
// a policy, a collector or a tool wrote.
var recordedValue = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)|-?\d+(?:\.\d+)?`)

// longDecimals is how many decimals a number may have before human
// rounds it.
const longDecimals = 3

// value is a time or a number found in a text.
type value struct {
	lo, hi int
	time   *time.Time
	num    float64
	long   bool // more than longDecimals decimals
}

// human rewrites the times and numbers of recorded text (a finding's
// message, a rollback's reason) for people: a time in UTC to the second,
// a number with more than three decimals to three significant digits
// (integer digits kept). Rounding never makes two different values of the
// text read the same: then times keep their milliseconds and numbers more
// digits (a window that "lasted 14.99999 minutes, shorter than the
// required 15" must not read "lasted 15"). A number that is part of a
// word, a version or an id is left as it is.
func human(s string) string {
	vals := scan(s)
	if len(vals) == 0 {
		return s
	}
	timeLayout := timeLayout(vals)
	sig := significantDigits(vals)
	var b strings.Builder
	last := 0
	for _, v := range vals {
		var repl string
		switch {
		case v.time != nil:
			repl = v.time.Format(timeLayout)
		case v.long:
			repl = fmtSignificant(v.num, sig)
		default:
			continue
		}
		b.WriteString(s[last:v.lo])
		b.WriteString(repl)
		last = v.hi
	}
	b.WriteString(s[last:])
	return b.String()
}

func scan(s string) []value {
	var out []value
	for _, loc := range recordedValue.FindAllStringIndex(s, -1) {
		lo, hi := loc[0], loc[1]
		if !standsAlone(s, lo, hi) {
			continue
		}
		text := s[lo:hi]
		if strings.ContainsRune(text, 'T') {
			t, err := time.Parse(time.RFC3339Nano, text)
			if err != nil {
				continue
			}
			t = t.UTC()
			out = append(out, value{lo: lo, hi: hi, time: &t})
			continue
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			continue
		}
		_, frac, _ := strings.Cut(text, ".")
		out = append(out, value{lo: lo, hi: hi, num: f, long: len(frac) > longDecimals})
	}
	return out
}

// standsAlone tells a value from part of a word, a version or an id
// ("v1.23456", "lv-2026-11-26.1", "1.2.34567"): no letter, digit, '_' or
// '.' before it, no digit or '_' after it, and no '.' followed by a digit.
// A unit may follow ("8.4375s").
func standsAlone(s string, lo, hi int) bool {
	if lo > 0 {
		if c := s[lo-1]; isWordByte(c) || c == '.' || c == '-' {
			return false
		}
	}
	if hi < len(s) {
		c := s[hi]
		if isDigit(c) || c == '_' || (c == '.' && hi+1 < len(s) && isDigit(s[hi+1])) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isWordByte(c byte) bool {
	return isDigit(c) || c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// timeLayout is RFC 3339 to the second, or to the millisecond when two
// different times of vals fall in the same second.
func timeLayout(vals []value) string {
	seconds := map[time.Time]time.Time{}
	for _, v := range vals {
		if v.time == nil {
			continue
		}
		sec := v.time.Truncate(time.Second)
		if other, ok := seconds[sec]; ok && !other.Equal(*v.time) {
			return "2006-01-02T15:04:05.000Z07:00"
		}
		seconds[sec] = *v.time
	}
	return time.RFC3339
}

// significantDigits is the fewest significant digits, three or more, that
// keep every different number of vals reading differently.
func significantDigits(vals []value) int {
	sig := 3
	for ; sig < 17; sig++ {
		shown := map[float64]float64{} // as shown → as recorded
		distinct := true
		for _, v := range vals {
			if v.time != nil {
				continue
			}
			s := v.num
			if v.long {
				s, _ = strconv.ParseFloat(fmtSignificant(v.num, sig), 64)
			}
			if orig, ok := shown[s]; ok && orig != v.num {
				distinct = false
				break
			}
			shown[s] = v.num
		}
		if distinct {
			break
		}
	}
	return sig
}

// fmtSignificant writes f with sig significant digits, or its integer
// digits when it has more, without trailing zeros: 0.0342, 12.3, 1235.
func fmtSignificant(f float64, sig int) string {
	if f == 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	mag := int(math.Floor(math.Log10(math.Abs(f))))
	s := strconv.FormatFloat(f, 'f', max(0, sig-1-mag), 64)
	if strings.ContainsRune(s, '.') {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// fmtPercent writes a ratio as a percentage of three significant digits:
// 3.42 %, 66.7 %, 100 %.
func fmtPercent(ratio float64) string {
	return fmtSignificant(ratio*100, 3) + " %"
}
