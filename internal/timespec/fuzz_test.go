package timespec_test

import (
	"errors"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/internal/timespec"
)

// FuzzParse: Parse never panics; what it refuses is an *Error about the
// text; what it accepts is a UTC instant that, written in RFC 3339, parses
// again to the same instant, and the flag Value resolves it alike. Seeds
// are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add("2026-11-26T10:05:00Z")
	f.Add("2026-11-26")
	f.Add("30d")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := timespec.Parse(s, now)
		var v timespec.Value
		verr := v.Set(s)
		if err != nil {
			var e *timespec.Error
			if !errors.As(err, &e) || e.Text != s {
				t.Fatalf("Parse(%q) error = %#v; want an *Error with the text", s, err)
			}
			if verr == nil {
				if _, terr := v.Time(now); terr == nil {
					t.Fatalf("Parse(%q) = %v, but the Value takes it", s, err)
				}
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("Parse(%q) = %v; want UTC", s, got)
		}
		text := got.Format(time.RFC3339Nano)
		again, err := timespec.Parse(text, now)
		if err != nil || !again.Equal(got) {
			t.Fatalf("Parse(%q) = %v, written %q; parsed again = %v, %v", s, got, text, again, err)
		}
		if verr != nil {
			t.Fatalf("Parse(%q) = %v, but Value.Set: %v", s, got, verr)
		}
		if vt, err := v.Time(now); err != nil || !vt.Equal(got) {
			t.Fatalf("Parse(%q) = %v, but Value.Time = %v, %v", s, got, vt, err)
		}
		if end, err := v.End(now); err == nil && end.Before(got) {
			t.Fatalf("Value.End(%q) = %v, before its time %v", s, end, got)
		}
	})
}
