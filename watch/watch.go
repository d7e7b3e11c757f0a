// Package watch is the use case behind `shipgate watch`: sample a release's
// safety signals for the monitoring window after its deploy, judge each
// reading with the signal's CEL condition against a baseline from before the
// deploy, stop early on a breach, and sum the window up as the data of a
// Monitoring evidence document. Respond then alerts and, when asked and no
// human holds the release, rolls it back.
//
// No data never passes: a reading that cannot be taken, NaN, an empty
// result, too little traffic, a baseline that cannot be read or a condition
// that cannot be evaluated counts as a reading without data, and a signal is
// healthy only with enough readings with data, the last one included.
//
// A signal breaches after BreachAfter readings with data in a row meet its
// condition (readings without data neither count nor reset the run); a run
// still short of it when the window ends is not healthy either. A signal
// that goes NoDataAfter without data is reported while the watch runs
// (OnEvent), and again when its data returns.
package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/localizevideos/shipgate/signals"
)

// Statuses of a signal and of a window, as Monitoring evidence names them.
const (
	Healthy = "healthy"
	Breach  = "breach"
	NoData  = "no-data"
)

// Clock is the time source; tests inject one that does not wait.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Watcher samples one set of signals over one window.
type Watcher struct {
	Signals *signals.Set
	// Sources takes the readings; nil uses a zero signals.Sources.
	Sources *signals.Sources
	// Window is how long to watch; Interval how often to sample.
	Window, Interval time.Duration
	// BaselineOffset is how long before the watch's start the baseline is
	// read (the signal's query evaluated then, like PromQL's offset).
	BaselineOffset time.Duration
	Clock          Clock
	// Progress, when set, receives the progress: a block redrawn in place
	// when Live (a terminal), else one plain line per sample.
	Progress io.Writer
	Live     bool
	// Baselines are baselines taken before the watch, by signal name (from
	// an earlier window: RecordedBaselines). When set, a signal that reads
	// a baseline and has none stored in the file takes it from here, and
	// one missing here has no baseline: it is never read another way.
	Baselines map[string]float64
	// BaselinesFrom names the earlier window Baselines were taken from,
	// for the record (SignalResult.BaselineSource).
	BaselinesFrom RecordedWindow
	// OnEvent, when set, hears as the window goes that a signal has had no
	// data for its NoDataAfter, and that its data returned. It is called
	// between samples, from Run's goroutine.
	OnEvent func(ctx context.Context, e Event)
}

// Events a watch reports while it runs.
const (
	// EventNoData: a signal has had no data for its NoDataAfter.
	EventNoData = "signal-no-data"
	// EventDataReturned: a signal reported by EventNoData has data again.
	EventDataReturned = "signal-data-returned"
)

// DefaultNoDataIntervals is NoDataAfter, in intervals, for a signal that
// sets none.
const DefaultNoDataIntervals = 3

// Event is something a watch reports before its window ends.
type Event struct {
	Kind   string
	Signal string
	At     time.Time
	// Start is the start of the window.
	Start time.Time
	// Since is the signal's last reading with data before At, or Start
	// when it had none.
	Since time.Time
	// Observed is the value that came back (EventDataReturned).
	Observed *float64
	// Message says why the latest reading had no data (EventNoData).
	Message string
}

// Result is one watched window: the data of the Monitoring evidence.
type Result struct {
	Start, End time.Time
	// Planned is the window asked for; End-Start is shorter after a breach
	// or an interruption.
	Planned time.Duration
	Status  string
	Signals []SignalResult
	Samples []Sample
	// Interrupted is set when the watch was cancelled before the window
	// ended; the result is then no-data unless a breach was already seen.
	Interrupted bool
	// Events are what OnEvent heard, in order.
	Events []Event
}

// SignalResult sums up one signal over the window.
type SignalResult struct {
	Name, Status, Condition string
	// Observed is the last value read with data; Baseline the baseline,
	// and BaselineSource where it came from (both nil when the signal
	// reads none, or it could not be had).
	Observed, Baseline *float64
	BaselineSource     *BaselineSource
	// Samples is how many readings had data; MinSamples how many it needed.
	Samples, MinSamples int
	// Message says why the signal breached or has no data.
	Message string
}

// Where a baseline comes from (BaselineSource.Type).
const (
	// BaselineFile: the baseline given in the signals file.
	BaselineFile = "file"
	// BaselineOffset: the signal read BaselineOffset before the watch.
	BaselineOffset = "offset"
	// BaselineRelease: the median of an earlier release's recorded window.
	BaselineRelease = "release"
)

// BaselineSource is where a signal's baseline came from.
type BaselineSource struct {
	Type string
	// OffsetSeconds is how long before the watch's start it was read
	// (BaselineOffset).
	OffsetSeconds float64
	// Window is the recorded window it was taken from (BaselineRelease).
	Window RecordedWindow
}

// RecordedWindow is an earlier release's recorded watch: the release and
// the digest of its Monitoring evidence.
type RecordedWindow struct {
	Release, Monitoring string
}

// Sample is one round of readings; a nil value had no data.
type Sample struct {
	At     time.Time
	Values map[string]*float64
}

// state follows one signal through the window.
type state struct {
	sig         *signals.Signal
	baseline    float64
	baselineErr error
	source      BaselineSource
	withData    int
	lastOK      bool
	observed    *float64
	breached    bool
	message     string
	min         int
	last        string // status of the latest reading, for progress
	// streak counts the breaching readings with data in a row, from
	// streakAt; a healthy reading ends it, one without data does not.
	streak   int
	streakAt time.Time
	// lastData is the time of the latest reading with data (the start
	// before any); noDataAfter how long without data is alerted, and
	// alerted whether it is.
	lastData    time.Time
	noDataAfter time.Duration
	alerted     bool
	event       *Event
}

// Run watches the window. It returns early on a breach. When ctx is
// cancelled it returns what was seen, marked Interrupted, with ctx's error.
func (w *Watcher) Run(ctx context.Context) (*Result, error) {
	if w.Signals == nil || len(w.Signals.Signals) == 0 {
		return nil, errors.New("watch: no signals")
	}
	if w.Window <= 0 || w.Interval <= 0 {
		return nil, fmt.Errorf("watch: window %s and interval %s must be positive", w.Window, w.Interval)
	}
	if w.Interval > w.Window {
		return nil, fmt.Errorf("watch: interval %s is longer than the window %s", w.Interval, w.Window)
	}
	clock := w.Clock
	if clock == nil {
		clock = SystemClock{}
	}
	src := w.Sources
	if src == nil {
		src = &signals.Sources{}
	}
	start := clock.Now()
	end := start.Add(w.Window)
	res := &Result{Start: start, Planned: w.Window}
	states := make([]*state, len(w.Signals.Signals))
	expected := int(w.Window/w.Interval) + 1
	for _, sig := range w.Signals.Signals {
		if sig.BreachAfter > expected {
			return nil, fmt.Errorf("watch: signal %s: breachAfter %d, but a window of %s every %s takes %d samples: it could never breach",
				sig.Name, sig.BreachAfter, w.Window, w.Interval, expected)
		}
	}
	for i, sig := range w.Signals.Signals {
		st := &state{sig: sig, min: sig.MinSamples, lastData: start, noDataAfter: sig.NoDataAfter}
		if st.min == 0 {
			st.min = max(1, (expected+1)/2)
		}
		if st.noDataAfter == 0 {
			st.noDataAfter = DefaultNoDataIntervals * w.Interval
		}
		st.baseline, st.baselineErr = w.baseline(ctx, src, sig, start)
		st.source = w.baselineSource(sig)
		states[i] = st
	}
	p := &progress{w: w.Progress, live: w.Live}
	var runErr error
	for i := 0; ; i++ {
		at := clock.Now()
		smp := Sample{At: at, Values: map[string]*float64{}}
		breach := false
		for _, st := range states {
			v := w.read(ctx, src, st, at, start)
			smp.Values[st.sig.Name] = v
			breach = breach || st.breached
		}
		res.Samples = append(res.Samples, smp)
		res.End = at
		p.render(at, start, end, i+1, expected, states)
		for _, st := range states {
			if st.event != nil {
				res.Events = append(res.Events, *st.event)
				if w.OnEvent != nil {
					w.OnEvent(ctx, *st.event)
				}
				st.event = nil
			}
		}
		if breach || !at.Before(end) {
			break
		}
		next := start.Add(time.Duration(i+1) * w.Interval)
		if next.After(end) {
			next = end
		}
		wait := max(next.Sub(clock.Now()), 0)
		select {
		case <-ctx.Done():
		case <-clock.After(wait):
		}
		// A cancellation wins over a timer that fired at the same time.
		if err := ctx.Err(); err != nil {
			runErr = err
			res.Interrupted = true
			res.End = clock.Now()
			break
		}
	}
	res.Status, res.Signals = judge(states, res.Interrupted, res.End.Before(end))
	return res, runErr
}

// baseline is sig's baseline: the one stored in the signals file, else
// the one of w.Baselines when given, else read before the watch's start.
func (w *Watcher) baseline(ctx context.Context, src *signals.Sources, sig *signals.Signal, start time.Time) (float64, error) {
	if w.Baselines != nil && sig.NeedsBaseline && sig.FixedBaseline == nil {
		v, ok := w.Baselines[sig.Name]
		if !ok {
			return 0, fmt.Errorf("the recorded baselines have none for %s", sig.Name)
		}
		return v, nil
	}
	rctx, cancel := context.WithTimeout(ctx, w.Signals.Timeout)
	defer cancel()
	return sig.Baseline(rctx, src, start.Add(-w.BaselineOffset))
}

// baselineSource says where w.baseline takes sig's baseline from.
func (w *Watcher) baselineSource(sig *signals.Signal) BaselineSource {
	switch {
	case sig.FixedBaseline != nil:
		return BaselineSource{Type: BaselineFile}
	case w.Baselines != nil && sig.NeedsBaseline:
		return BaselineSource{Type: BaselineRelease, Window: w.BaselinesFrom}
	}
	return BaselineSource{Type: BaselineOffset, OffsetSeconds: w.BaselineOffset.Seconds()}
}

// read takes one reading of st's signal and judges it; it returns the
// value, or nil when the reading has no data.
func (w *Watcher) read(ctx context.Context, src *signals.Sources, st *state, at, start time.Time) *float64 {
	if st.baselineErr != nil {
		st.noData(at, start, fmt.Sprintf("no baseline: %v", st.baselineErr))
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, w.Signals.Timeout)
	r, err := st.sig.Read(rctx, src, at)
	cancel()
	if err != nil {
		st.noData(at, start, err.Error())
		return nil
	}
	breached, err := st.sig.Breached(ctx, r, st.baseline, signals.Window{Elapsed: at.Sub(start), Length: w.Window})
	if err != nil {
		st.noData(at, start, err.Error())
		return nil
	}
	v := r.Value
	if st.alerted {
		st.alerted = false
		st.event = &Event{Kind: EventDataReturned, Signal: st.sig.Name, At: at, Start: start, Since: st.lastData, Observed: &v}
	}
	st.observed, st.lastOK, st.lastData = &v, true, at
	st.withData++
	st.last = Healthy
	switch {
	case st.breached:
		if breached {
			st.last = Breach
		}
	case breached:
		st.last = Breach
		if st.streak == 0 {
			st.streakAt = at
		}
		st.streak++
		if st.streak >= st.sig.BreachAfter {
			st.breached = true
			st.message = fmt.Sprintf("observed %s at %s, baseline %s: %s is true", format(v), at.Sub(start).Truncate(time.Second), format(st.baseline), st.sig.Breach)
			if st.sig.BreachAfter > 1 {
				st.message += fmt.Sprintf(" for %d readings in a row since %s (breachAfter %d)", st.streak, st.streakAt.Sub(start).Truncate(time.Second), st.sig.BreachAfter)
			}
		}
	default:
		st.streak = 0
	}
	return &v
}

// noData notes a reading without data, and whether it is time to say so.
func (st *state) noData(at, start time.Time, msg string) {
	st.last, st.lastOK, st.message = NoData, false, msg
	if !st.alerted && at.Sub(st.lastData) >= st.noDataAfter {
		st.alerted = true
		st.event = &Event{Kind: EventNoData, Signal: st.sig.Name, At: at, Start: start, Since: st.lastData, Message: msg}
	}
}

// pending reports a run of breaching readings not yet long enough.
func (st *state) pending() bool { return !st.breached && st.streak > 0 }

// judge sums the window up. A breach anywhere makes the window a breach;
// otherwise any signal without enough data, or without data at the end,
// makes it no-data. When a breach cut the window short, the other signals
// are judged on what was read until then: data at the last reading.
func judge(states []*state, interrupted, early bool) (string, []SignalResult) {
	breach := false
	for _, st := range states {
		breach = breach || st.breached
	}
	out := make([]SignalResult, 0, len(states))
	status := Healthy
	for _, st := range states {
		r := SignalResult{Name: st.sig.Name, Condition: st.sig.Breach, Observed: st.observed, Samples: st.withData, MinSamples: st.min}
		if st.baselineErr == nil && (st.sig.NeedsBaseline || st.sig.FixedBaseline != nil) {
			b, src := st.baseline, st.source
			r.Baseline, r.BaselineSource = &b, &src
		}
		switch {
		case st.breached:
			r.Status, r.Message = Breach, st.message
		case interrupted:
			r.Status, r.Message = NoData, "the watch was interrupted before the window ended"
		case st.pending():
			// Neither confirmed nor cleared: not healthy, not a breach.
			r.Status = NoData
			r.Message = fmt.Sprintf("unconfirmed breach: the last %d readings with data breached (%s), fewer than breachAfter %d, when the window ended",
				st.streak, st.sig.Breach, st.sig.BreachAfter)
		case breach && early && st.lastOK:
			r.Status = Healthy
		case breach && early:
			r.Status, r.Message = NoData, "no data when the breach ended the window: "+st.message
		case st.withData < st.min:
			r.Status = NoData
			r.Message = fmt.Sprintf("%d readings with data, fewer than the %d needed", st.withData, st.min)
			if st.message != "" {
				r.Message += "; last: " + st.message
			}
		case !st.lastOK:
			r.Status, r.Message = NoData, "no data at the end of the window: "+st.message
		default:
			r.Status = Healthy
		}
		switch {
		case r.Status == Breach:
			status = Breach
		case r.Status == NoData && status == Healthy:
			status = NoData
		}
		out = append(out, r)
	}
	return status, out
}

// Breached names the signals that breached.
func (r *Result) Breached() []string {
	var names []string
	for _, s := range r.Signals {
		if s.Status == Breach {
			names = append(names, s.Name)
		}
	}
	return names
}

func format(v float64) string {
	switch {
	case math.Abs(v) >= 1e6:
		return fmt.Sprintf("%.4g", v)
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}

// Data is res as the data of a Monitoring evidence document
// (schemas/monitoring.json). autoRollback records whether a breach would
// be rolled back automatically: the policy checks it is allowed.
func (r *Result) Data(autoRollback bool) map[string]any {
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	sigs := make([]map[string]any, 0, len(r.Signals))
	for _, s := range r.Signals {
		m := map[string]any{"name": s.Name, "status": s.Status, "samples": s.Samples, "minSamples": s.MinSamples}
		if s.Condition != "" {
			m["condition"] = s.Condition
		}
		if s.Observed != nil {
			m["observed"] = *s.Observed
		}
		if s.Baseline != nil {
			m["baseline"] = *s.Baseline
		}
		if b := s.BaselineSource; b != nil {
			src := map[string]any{"type": b.Type}
			switch b.Type {
			case BaselineOffset:
				src["offsetSeconds"] = b.OffsetSeconds
			case BaselineRelease:
				src["release"], src["monitoring"] = b.Window.Release, b.Window.Monitoring
			}
			m["baselineSource"] = src
		}
		if s.Message != "" {
			m["message"] = s.Message
		}
		sigs = append(sigs, m)
	}
	samples := make([]map[string]any, 0, len(r.Samples))
	for _, s := range r.Samples {
		vals := map[string]any{}
		for k, v := range s.Values {
			if v == nil {
				vals[k] = nil
			} else {
				vals[k] = *v
			}
		}
		samples = append(samples, map[string]any{"at": ts(s.At), "values": vals})
	}
	return map[string]any{
		"window":     map[string]any{"start": ts(r.Start), "end": ts(r.End), "plannedSeconds": r.Planned.Seconds()},
		"result":     r.Status,
		"signals":    sigs,
		"samples":    samples,
		"automation": map[string]any{"autoRollback": autoRollback},
	}
}
