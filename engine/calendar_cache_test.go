package engine

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/adhocore/gronx"
)

// The remembered tick span answers exactly what gronx answers, in any
// order of questions, across daylight-saving changes.
func TestPrevTickMatchesGronx(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, cron := range []string{"0 18 * * 5", "30 2 * * *", "*/15 9-17 * * 1-5", "0 0 1 * *"} {
		r := recurring{cron: cron, loc: paris, last: newTickCache()}
		rng := rand.New(rand.NewPCG(1, uint64(len(cron))))
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var times []time.Time
		for m := 0; m < 2*366*24*60; m += 7 + rng.IntN(300) {
			times = append(times, start.Add(time.Duration(m)*time.Minute+time.Duration(rng.IntN(60))*time.Second))
		}
		// Chronological, then shuffled, as replays and servers ask.
		order := append([]time.Time{}, times...)
		rng.Shuffle(len(times), func(i, j int) { times[i], times[j] = times[j], times[i] })
		order = append(order, times...)
		for _, at := range order {
			want, werr := gronx.PrevTickBefore(cron, at.In(paris), true)
			got, gerr := r.prevTick(at)
			if (werr != nil) != (gerr != nil) || !got.Equal(want) || got.Location() != want.Location() {
				t.Fatalf("%s at %s: prevTick() = %s, %v; want %s, %v", cron, at, got, gerr, want, werr)
			}
		}
	}
}
