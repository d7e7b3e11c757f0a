package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCalendarActive(t *testing.T) {
	cal, err := newCalendar([]calendarEntry{
		{ID: "year-end", Start: "2026-12-22T00:00:00Z", End: "2027-01-04T00:00:00Z"},
		{ID: "launch", Start: "2026-12-01T09:00", End: "2026-12-01T18:00", Timezone: "Europe/Paris"},
		{ID: "inside-year-end", Start: "2026-12-24T00:00:00Z", End: "2026-12-26T00:00:00Z"},
		{ID: "weekend", Cron: "0 18 * * 5", Duration: "62h", Timezone: "Europe/Paris"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at   string
		want []string
	}{
		{"2026-11-26T10:00:00Z", nil},                                     // Thursday
		{"2026-11-27T16:59:59Z", nil},                                     // Friday 17:59:59 Paris
		{"2026-11-27T17:00:00Z", []string{"weekend"}},                     // Friday 18:00 Paris
		{"2026-11-30T06:59:59Z", []string{"weekend"}},                     // Monday 07:59:59 Paris
		{"2026-11-30T08:00:00Z", nil},                                     // Monday 09:00 Paris: ended
		{"2026-12-01T07:59:59Z", nil},                                     // 08:59:59 Paris
		{"2026-12-01T08:00:00Z", []string{"launch"}},                      // 09:00 Paris
		{"2026-12-01T17:00:00Z", nil},                                     // end is exclusive
		{"2026-12-23T12:00:00Z", []string{"year-end"}},                    // Wednesday
		{"2026-12-24T12:00:00Z", []string{"year-end", "inside-year-end"}}, // Thursday, nested
		{"2027-01-04T12:00:00Z", nil},                                     // Monday after the year-end freeze
	}
	for _, tt := range tests {
		got, err := cal.active(mustTime(t, tt.at))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, w := range got {
			ids = append(ids, w.ID)
		}
		if diff := cmp.Diff(tt.want, ids); diff != "" {
			t.Errorf("active(%s) mismatch (-want +got):\n%s", tt.at, diff)
		}
	}
}

func TestCalendarErrors(t *testing.T) {
	tests := []struct {
		name  string
		entry calendarEntry
		want  string
	}{
		{"no id", calendarEntry{Start: "2026-12-22T00:00:00Z", End: "2026-12-23T00:00:00Z"}, "data shipgate.config.freeze.calendar[0].id: id is required"},
		{"bad cron", calendarEntry{ID: "x", Cron: "61 * * * *", Duration: "1h"}, `data shipgate.config.freeze.calendar[0].cron: window x: invalid cron expression "61 * * * *"`},
		{"bad duration", calendarEntry{ID: "x", Cron: "0 18 * * 5", Duration: "soon"}, `data shipgate.config.freeze.calendar[0].duration: window x: want a positive Go duration such as 62h, got "soon"`},
		{"bad tz", calendarEntry{ID: "x", Cron: "0 18 * * 5", Duration: "1h", Timezone: "Mars/Olympus"}, "data shipgate.config.freeze.calendar[0].timezone: window x: unknown time zone Mars/Olympus"},
		{"end before start", calendarEntry{ID: "x", Start: "2026-12-23T00:00:00Z", End: "2026-12-22T00:00:00Z"}, "data shipgate.config.freeze.calendar[0].end: window x: end 2026-12-22T00:00:00Z is not after start 2026-12-23T00:00:00Z"},
		{"bad start", calendarEntry{ID: "x", Start: "tomorrow", End: "2026-12-22T00:00:00Z"}, `data shipgate.config.freeze.calendar[0].start: window x: want RFC 3339 (2026-12-22T00:00:00Z) or a local 2026-12-22T00:00 with timezone, got "tomorrow"`},
		{"both kinds", calendarEntry{ID: "x", Cron: "0 18 * * 5", Duration: "1h", Start: "2026-12-22T00:00:00Z"}, "data shipgate.config.freeze.calendar[0].cron: window x: give either cron+duration or start+end, not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newCalendar([]calendarEntry{tt.entry})
			if err == nil || err.Error() != tt.want {
				t.Errorf("newCalendar() error = %v; want %q", err, tt.want)
			}
		})
	}
}

// bigCalendar has n one-off windows of a day each, every week from 2000 on,
// plus the recurring weekend window.
func bigCalendar(tb testing.TB, n int) *calendar {
	tb.Helper()
	entries := make([]calendarEntry, 0, n+1)
	start := mustTime(tb, "2000-01-05T00:00:00Z")
	for i := range n {
		s := start.Add(time.Duration(i) * 7 * 24 * time.Hour)
		entries = append(entries, calendarEntry{ID: fmt.Sprintf("w%d", i),
			Start: s.Format(time.RFC3339), End: s.Add(24 * time.Hour).Format(time.RFC3339)})
	}
	entries = append(entries, calendarEntry{ID: "weekend", Cron: "0 18 * * 5", Duration: "62h", Timezone: "Europe/Paris"})
	cal, err := newCalendar(entries)
	if err != nil {
		tb.Fatal(err)
	}
	return cal
}

func BenchmarkCalendarActive10k(b *testing.B) {
	cal := bigCalendar(b, 10000)
	at := mustTime(b, "2026-11-26T10:00:00Z")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cal.active(at); err != nil {
			b.Fatal(err)
		}
	}
}
