package timespec_test

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
	_ "time/tzdata" // the DST case needs Europe/Berlin on any machine

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/internal/timespec"
)

// now is the clock durations count back from.
var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		now  time.Time // default: now
		want time.Time
	}{
		{"rfc3339", "2026-11-26T10:05:00Z", now, time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)},
		{"offset", "2026-11-26T11:05:00+01:00", now, time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)},
		{"negative offset", "2026-11-26T05:05:00-05:00", now, time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)},
		{"fraction", "2026-11-26T10:05:00.25Z", now, time.Date(2026, 11, 26, 10, 5, 0, 250e6, time.UTC)},
		{"nanoseconds", "2026-11-26T10:05:00.123456789Z", now, time.Date(2026, 11, 26, 10, 5, 0, 123456789, time.UTC)},
		{"in the future", "2099-01-01T00:00:00Z", now, time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"date", "2026-11-26", now, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)},
		{"leap day", "2028-02-29", now, time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"leap day of a 400th year", "2000-02-29", now, time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"days", "30d", now, time.Date(2026, 10, 27, 12, 0, 0, 0, time.UTC)},
		{"hours", "12h", now, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)},
		{"minutes", "90m", now, time.Date(2026, 11, 26, 10, 30, 0, 0, time.UTC)},
		{"seconds", "45s", now, time.Date(2026, 11, 26, 11, 59, 15, 0, time.UTC)},
		{"weeks", "2w", now, time.Date(2026, 11, 12, 12, 0, 0, 0, time.UTC)},
		{"combined", "1d12h", now, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)},
		{"every unit", "1w2d3h4m5s", now, time.Date(2026, 11, 17, 8, 55, 55, 0, time.UTC)},
		{"leading zeros", "007d", now, time.Date(2026, 11, 19, 12, 0, 0, 0, time.UTC)},
		{"more hours than a day", "36h", now, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)},
		{"back over a leap day", "1d", time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
		// A day is 24 hours, in UTC, whatever the clock's zone: Berlin
		// moved its clocks an hour forward on 29 March 2026 at 02:00 CET.
		{"across a DST change", "1d", time.Date(2026, 3, 29, 12, 0, 0, 0, berlin(t)), time.Date(2026, 3, 28, 10, 0, 0, 0, time.UTC)},
		{"the largest duration", "2562047h", now, now.Add(-2562047 * time.Hour)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := timespec.Parse(c.in, c.now)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", c.in, err)
			}
			if !got.Equal(c.want) || got.Location() != time.UTC {
				t.Errorf("Parse(%q, %v) = %v; want %v", c.in, c.now, got, c.want)
			}
		})
	}
}

func berlin(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseErrors(t *testing.T) {
	const forms = "want " + timespec.Help
	for _, c := range []struct {
		name, in, want string
	}{
		{"empty", "", forms},
		{"word", "yesterday", forms},
		{"number without unit", "30", forms},
		{"unit without number", "d", forms},
		{"fraction", "1.5h", forms},
		{"upper case unit", "30D", forms},
		{"unknown unit", "3y", forms},
		{"milliseconds", "300ms", forms},
		{"units out of order", "1h1d", forms},
		{"unit twice", "1d1d", forms},
		{"plus sign", "+30d", forms},
		{"space", " 30d", forms},
		{"space inside", "30 d", forms},
		{"no time zone", "2026-11-26T10:05:00", forms},
		{"space for T", "2026-11-26 10:05:00Z", forms},
		{"lower case", "2026-11-26t10:05:00z", forms},
		{"date without zeros", "2026-1-2", forms},
		{"negative", "-30d", "want a positive duration back from now (30d, 12h)"},
		{"zero", "0d", "want a positive duration back from now (30d, 12h)"},
		{"zeros", "0h0m0s", "want a positive duration back from now (30d, 12h)"},
		{"overflow of the sum", "2562047h60m", "the duration is longer than 292 years"},
		{"overflow of a unit", "106752d", "the duration is longer than 292 years"},
		{"overflow of the number", "99999999999999999999s", "the duration is longer than 292 years"},
		{"no leap day", "2026-02-29", "day out of range"},
		{"no leap day in 2100", "2100-02-29", "day out of range"},
		{"month 13", "2026-13-01", "month out of range"},
		{"hour 25", "2026-11-26T25:00:00Z", "hour out of range"},
		{"extra text", "2026-11-26T10:05:00Zjunk", `extra text: "junk"`},
		{"year 10000 in UTC", "9999-12-31T23:59:59-01:00", "out of range: the time must fall in the years 0000 to 9999 UTC"},
		{"year -1 in UTC", "0000-01-01T00:00:00+01:00", "out of range: the time must fall in the years 0000 to 9999 UTC"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := timespec.Parse(c.in, now)
			var e *timespec.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v, %v; want an *Error", c.in, got, err)
			}
			if want := fmt.Sprintf("%q: %s", c.in, c.want); err.Error() != want {
				t.Errorf("Parse(%q) error = %q; want %q", c.in, err, want)
			}
			if e.Text != c.in || e.Flag != "" {
				t.Errorf("Parse(%q) error = %#v; want Text %q and no Flag", c.in, e, c.in)
			}
		})
	}
}

// TestParseDurationBeforeYear0 refuses a duration that reaches before
// the years RFC 3339 can write, from a clock in year 100.
func TestParseDurationBeforeYear0(t *testing.T) {
	at := time.Date(100, 1, 1, 0, 0, 0, 0, time.UTC)
	if got, err := timespec.Parse("2562047h", at); err == nil {
		t.Errorf("Parse(%q, %v) = %v; want an error", "2562047h", at, got)
	}
}

func TestValue(t *testing.T) {
	parse := func(t *testing.T, args ...string) (*timespec.Value, error) {
		t.Helper()
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		v := &timespec.Value{}
		timespec.Var(fs, v, "until", "the end: "+timespec.Help)
		return v, fs.Parse(args)
	}
	for _, c := range []struct {
		name      string
		args      []string
		time, end time.Time
	}{
		{"not given", nil, time.Time{}, time.Time{}},
		{"rfc3339", []string{"--until", "2026-11-30T10:00:00+01:00"}, time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)},
		{"a date includes its day", []string{"--until", "2026-11-30"}, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{"leap day", []string{"--until=2028-02-29"}, time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"duration", []string{"--until", "1d"}, now.AddDate(0, 0, -1), now.AddDate(0, 0, -1)},
		{"the last given", []string{"--until", "1d", "--until", "2h"}, now.Add(-2 * time.Hour), now.Add(-2 * time.Hour)},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := parse(t, c.args...)
			if err != nil {
				t.Fatalf("parse %q: %v", c.args, err)
			}
			if v.IsSet() != (c.args != nil) {
				t.Errorf("IsSet() = %v after %q", v.IsSet(), c.args)
			}
			if got, err := v.Time(now); err != nil || !got.Equal(c.time) {
				t.Errorf("Time(%v) = %v, %v; want %v", now, got, err, c.time)
			}
			if got, err := v.End(now); err != nil || !got.Equal(c.end) {
				t.Errorf("End(%v) = %v, %v; want %v", now, got, err, c.end)
			}
		})
	}

	t.Run("error names the flag", func(t *testing.T) {
		_, err := parse(t, "--until", "yesterday")
		var e *timespec.Error
		if !errors.As(err, &e) {
			t.Fatalf("parse: %v; want an *Error", err)
		}
		want := `--until "yesterday": want RFC 3339 (2026-11-26T10:05:00Z), a date (2026-11-26, UTC midnight) or a duration back from now (30d, 12h)`
		if e.Error() != want {
			t.Errorf("error = %q; want %q", e, want)
		}
	})
	t.Run("the end of the last day is out of range", func(t *testing.T) {
		v, err := parse(t, "--until", "9999-12-31")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := v.End(now); err == nil {
			t.Errorf("End(%v) = %v; want an error", now, got)
		}
	})
	t.Run("String is the text", func(t *testing.T) {
		v, err := parse(t, "--until", "30d")
		if err != nil {
			t.Fatal(err)
		}
		if v.String() != "30d" || v.Type() != "time" {
			t.Errorf("String() = %q, Type() = %q; want 30d, time", v.String(), v.Type())
		}
	})
}

func ExampleParse() {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"2026-11-26T11:05:00+01:00", "2026-11-01", "30d", "1d12h", "yesterday"} {
		t, err := timespec.Parse(s, now)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(t.Format(time.RFC3339))
	}
	// Output:
	// 2026-11-26T10:05:00Z
	// 2026-11-01T00:00:00Z
	// 2026-10-27T12:00:00Z
	// 2026-11-25T00:00:00Z
	// "yesterday": want RFC 3339 (2026-11-26T10:05:00Z), a date (2026-11-26, UTC midnight) or a duration back from now (30d, 12h)
}
