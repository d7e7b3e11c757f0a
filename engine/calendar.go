package engine

import (
	"fmt"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/adhocore/gronx"
)

// FreezeWindow is one hard-freeze window as the policies see it in
// input.facts.freeze.windows.
type FreezeWindow struct {
	ID     string    `json:"id"`
	Name   string    `json:"name,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
}

// calendarEntry is one entry of data freeze.calendar as written by users.
type calendarEntry struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Reason   string `json:"reason"`
	Start    string `json:"start"`
	End      string `json:"end"`
	Cron     string `json:"cron"`
	Duration string `json:"duration"`
	Timezone string `json:"timezone"`
}

type recurring struct {
	win  FreezeWindow // Start/End unset
	cron string
	dur  time.Duration
	loc  *time.Location
	// last is the span between the cron tick found last and the next one:
	// any time inside it has that tick as its previous one. Replays and
	// servers ask about nearby times over and over, and finding a tick
	// means parsing the expression and stepping through the calendar.
	last *atomic.Pointer[tickSpan]
}

type tickSpan struct{ start, next time.Time }

func newTickCache() *atomic.Pointer[tickSpan] { return &atomic.Pointer[tickSpan]{} }

// prevTick is the last tick of r's cron at or before t, in r's time zone.
func (r recurring) prevTick(t time.Time) (time.Time, error) {
	if s := r.last.Load(); s != nil && !t.Before(s.start) && t.Before(s.next) {
		return s.start, nil
	}
	start, err := gronx.PrevTickBefore(r.cron, t.In(r.loc), true)
	if err != nil {
		return time.Time{}, err
	}
	// Remember the span only when no change of UTC offset (daylight saving)
	// falls inside it: around one, stepping through wall-clock times does
	// not follow the instants, and gronx's answers are its own.
	if next, err := gronx.NextTickAfter(r.cron, start, false); err == nil && !start.After(t) && next.After(t) {
		if zs, ze := start.ZoneBounds(); !start.Before(zs) && (ze.IsZero() || next.Before(ze)) {
			r.last.Store(&tickSpan{start: start, next: next})
		}
	}
	return start, nil
}

// calendar answers "which freeze windows contain t" without walking every
// window: one-off windows are sorted by start once, with a running maximum of
// their ends so a lookup stops as soon as no earlier window can reach t.
type calendar struct {
	oneOff    []FreezeWindow // sorted by Start
	maxEnd    []time.Time    // maxEnd[i] = max(oneOff[0..i].End)
	recurring []recurring
}

func newCalendar(entries []calendarEntry) (*calendar, error) {
	c := &calendar{}
	seen := map[string]bool{}
	for i, e := range entries {
		// at is the entry's key in the data, or one of its fields.
		at := func(field ...string) []string {
			return append([]string{"freeze", "calendar", strconv.Itoa(i)}, field...)
		}
		bad := func(msg string, field ...string) error { return issue(msg, at(field...)...) }
		if e.ID == "" {
			return nil, bad("id is required", "id")
		}
		if seen[e.ID] {
			return nil, bad(fmt.Sprintf("duplicate id %q", e.ID), "id")
		}
		seen[e.ID] = true
		w := FreezeWindow{ID: e.ID, Name: e.Name, Reason: e.Reason}
		loc := time.UTC
		if e.Timezone != "" {
			l, err := time.LoadLocation(e.Timezone)
			if err != nil {
				return nil, bad(fmt.Sprintf("window %s: %v", e.ID, err), "timezone")
			}
			loc = l
		}
		switch {
		case e.Cron != "" && (e.Start != "" || e.End != ""):
			return nil, bad(fmt.Sprintf("window %s: give either cron+duration or start+end, not both", e.ID), "cron")
		case e.Cron != "":
			if !gronx.IsValid(e.Cron) {
				return nil, bad(fmt.Sprintf("window %s: invalid cron expression %q", e.ID, e.Cron), "cron")
			}
			d, err := time.ParseDuration(e.Duration)
			if err != nil || d <= 0 {
				return nil, bad(fmt.Sprintf("window %s: want a positive Go duration such as 62h, got %q", e.ID, e.Duration), "duration")
			}
			c.recurring = append(c.recurring, recurring{win: w, cron: e.Cron, dur: d, loc: loc, last: newTickCache()})
		default:
			start, err := parseWindowTime(e.Start, loc)
			if err != nil {
				return nil, bad(fmt.Sprintf("window %s: %v", e.ID, err), "start")
			}
			end, err := parseWindowTime(e.End, loc)
			if err != nil {
				return nil, bad(fmt.Sprintf("window %s: %v", e.ID, err), "end")
			}
			if !end.After(start) {
				return nil, bad(fmt.Sprintf("window %s: end %s is not after start %s", e.ID, e.End, e.Start), "end")
			}
			w.Start, w.End = start.UTC(), end.UTC()
			c.oneOff = append(c.oneOff, w)
		}
	}
	sort.SliceStable(c.oneOff, func(i, j int) bool { return c.oneOff[i].Start.Before(c.oneOff[j].Start) })
	c.maxEnd = make([]time.Time, len(c.oneOff))
	for i, w := range c.oneOff {
		c.maxEnd[i] = w.End
		if i > 0 && c.maxEnd[i-1].After(w.End) {
			c.maxEnd[i] = c.maxEnd[i-1]
		}
	}
	return c, nil
}

// parseWindowTime accepts RFC 3339, or a local date-time without offset that
// is read in the entry's time zone.
func parseWindowTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want RFC 3339 (2026-12-22T00:00:00Z) or a local 2026-12-22T00:00 with timezone, got %q", s)
}

// active returns the windows that contain t (start <= t < end), one-off
// windows first in start order, then recurring ones in data order.
func (c *calendar) active(t time.Time) ([]FreezeWindow, error) {
	var out []FreezeWindow
	// Last window that starts at or before t.
	i := sort.Search(len(c.oneOff), func(i int) bool { return c.oneOff[i].Start.After(t) }) - 1
	for ; i >= 0 && c.maxEnd[i].After(t); i-- {
		if w := c.oneOff[i]; w.End.After(t) {
			out = append(out, w)
		}
	}
	// Collected backwards; restore start order.
	for l, r := 0, len(out)-1; l < r; l, r = l+1, r-1 {
		out[l], out[r] = out[r], out[l]
	}
	for _, r := range c.recurring {
		start, err := r.prevTick(t)
		if err != nil {
			return nil, fmt.Errorf("freeze window %s: %w", r.win.ID, err)
		}
		if end := start.Add(r.dur); !t.Before(start) && t.Before(end) {
			w := r.win
			w.Start, w.End = start.UTC(), end.UTC()
			out = append(out, w)
		}
	}
	return out, nil
}
