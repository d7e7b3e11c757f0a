// Package timespec reads the points in time the command line takes
// (--since, --until, --now): one grammar for every such flag, so that each
// accepts what the others do.
//
// A point in time is written in one of three forms:
//
//   - RFC 3339, with an offset and a fraction when wanted:
//     2026-11-26T10:05:00Z, 2026-11-26T11:05:00.25+01:00;
//   - a date, which is midnight UTC at its start: 2026-11-26;
//   - a duration back from now: whole numbers of weeks (w), days (d),
//     hours (h), minutes (m) and seconds (s), largest unit first, each at
//     most once: 30d, 12h, 90m, 2w, 1d12h. A day is 24 hours, a week 7
//     days: times are UTC, so no daylight saving shifts them.
//
// A duration is counted back from a clock the caller passes, never from
// time.Now, so a command resolves it against its injected clock.
package timespec

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Help names the three forms; every flag that takes a point in time ends
// its help text with it, and every error says it.
const Help = "RFC 3339 (2026-11-26T10:05:00Z), a date (2026-11-26, UTC midnight) or a duration back from now (30d, 12h)"

// Error is a text that names no point in time.
type Error struct {
	// Flag is the flag's name without dashes; "" outside a flag.
	Flag string
	Text string
	// Reason says what is wrong with a text that has one of the forms;
	// "" when it has none, and the error names the forms.
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Flag != "" {
		b.WriteString("--" + e.Flag + " ")
	}
	fmt.Fprintf(&b, "%q: ", e.Text)
	if e.Reason == "" {
		b.WriteString("want " + Help)
	} else {
		b.WriteString(e.Reason)
	}
	return b.String()
}

// Reasons of an Error.
const (
	reasonPositive = "want a positive duration back from now (30d, 12h)"
	reasonTooLong  = "the duration is longer than 292 years"
	reasonRange    = "out of range: the time must fall in the years 0000 to 9999 UTC"
)

// Parse returns the instant s names, in UTC; a duration is counted back
// from now. A date is midnight UTC at its start.
func Parse(s string, now time.Time) (time.Time, error) {
	sp, err := parse(s)
	if err != nil {
		return time.Time{}, err
	}
	return sp.resolve(s, now)
}

// spec is a parsed text: an instant, or a duration back from a clock.
type spec struct {
	at   time.Time
	back time.Duration // > 0 for a duration
	date bool
}

func (sp spec) resolve(text string, now time.Time) (time.Time, error) {
	t := sp.at
	if sp.back > 0 {
		t = now.Add(-sp.back)
	}
	return inRange(text, t)
}

// inRange refuses an instant RFC 3339 cannot write: an offset can carry a
// time written in year 9999 into year 10000 UTC.
func inRange(text string, t time.Time) (time.Time, error) {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, &Error{Text: text, Reason: reasonRange}
	}
	return t, nil
}

func parse(s string) (spec, error) {
	if s == "" {
		return spec{}, &Error{Text: s}
	}
	if strings.IndexByte(units, s[len(s)-1]) >= 0 {
		return parseBack(s)
	}
	layout, date := time.RFC3339, len(s) == len(time.DateOnly)
	if date {
		layout = time.DateOnly
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		// A range error (hour 25, 30 February) says which field; a text
		// of another shape gets the forms.
		var pe *time.ParseError
		if errors.As(err, &pe) && pe.Message != "" {
			return spec{}, &Error{Text: s, Reason: strings.TrimPrefix(pe.Message, ": ")}
		}
		return spec{}, &Error{Text: s}
	}
	t, err = inRange(s, t)
	if err != nil {
		return spec{}, err
	}
	return spec{at: t, date: date}, nil
}

// units are the duration units, largest first; unitLen their lengths.
const units = "wdhms"

var unitLen = [len(units)]time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}

// parseBack reads a duration back from now: numbers with a unit each,
// largest unit first.
func parseBack(s string) (spec, error) {
	rest, neg := strings.CutPrefix(s, "-")
	var total time.Duration
	next := 0 // the first unit the rest may use
	for rest != "" {
		i := 0
		for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			return spec{}, &Error{Text: s}
		}
		u := strings.IndexByte(units[next:], rest[i])
		if u < 0 {
			return spec{}, &Error{Text: s}
		}
		u += next
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil || n > math.MaxInt64/int64(unitLen[u]) {
			return spec{}, &Error{Text: s, Reason: reasonTooLong}
		}
		d := time.Duration(n) * unitLen[u]
		if total > math.MaxInt64-d {
			return spec{}, &Error{Text: s, Reason: reasonTooLong}
		}
		total += d
		next = u + 1
		rest = rest[i+1:]
	}
	if neg || total == 0 {
		return spec{}, &Error{Text: s, Reason: reasonPositive}
	}
	return spec{back: total}, nil
}

// Value is a flag that takes a point in time, a pflag.Value. It keeps the
// text as given and resolves it when the command runs, against the
// command's clock: a syntax error stops the command line from parsing, and
// a duration counts back from the injected now. The zero Value is a flag
// not given.
type Value struct {
	name string
	text string
	spec spec
}

var _ pflag.Value = (*Value)(nil)

// Var defines the flag name on fs, bound to v. Its usage should end with
// Help.
func Var(fs *pflag.FlagSet, v *Value, name, usage string) {
	v.name = name
	fs.Var(v, name, usage)
}

// Set reads the text of the flag; an error is an *Error naming the flag.
func (v *Value) Set(s string) error {
	sp, err := parse(s)
	if err != nil {
		return v.named(err)
	}
	v.text, v.spec = s, sp
	return nil
}

// String is the text as given.
func (v *Value) String() string { return v.text }

// Type names the value in the usage.
func (v *Value) Type() string { return "time" }

// IsSet reports whether the flag was given.
func (v *Value) IsSet() bool { return v.text != "" }

// Time returns the instant the flag names, in UTC, a duration counted back
// from now; the zero time when the flag was not given.
func (v *Value) Time(now time.Time) (time.Time, error) {
	if !v.IsSet() {
		return time.Time{}, nil
	}
	t, err := v.spec.resolve(v.text, now)
	return t, v.named(err)
}

// End returns the instant at which a period the flag closes ends,
// excluded: a date includes that whole day, so it ends at the next
// midnight; the other forms end at the instant they name. It is the zero
// time when the flag was not given.
func (v *Value) End(now time.Time) (time.Time, error) {
	t, err := v.Time(now)
	if err != nil || !v.spec.date {
		return t, err
	}
	t, err = inRange(v.text, t.AddDate(0, 0, 1))
	return t, v.named(err)
}

// named puts the flag's name in an *Error.
func (v *Value) named(err error) error {
	var e *Error
	if errors.As(err, &e) {
		e.Flag = v.name
	}
	return err
}
