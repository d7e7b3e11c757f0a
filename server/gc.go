package server

import "runtime/debug"

// Garbage collection of the server, unless GOGC or GOMEMLIMIT say
// otherwise. Its live heap is small (the compiled policies, 10 to 15 MB)
// and each decision allocates some 150 kB that die with it, so the cost of
// collecting is that of marking the live heap (some 15 ms of CPU) times
// how often it is done. At Go's default (GOGC=100) that is every few dozen
// decisions, a fifth of the CPU under load; at GOGC=400, every 250 or so,
// still 4 % of a decision's CPU (BenchmarkGateAPI, gctrace).
//
// So the collector is driven by memory, not by the growth of the heap:
// GOGC is off and the soft limit serveMemoryLimit (runtime/debug) is what
// starts a collection. The heap grows to the limit (about 256 MiB, which
// the process then holds) and is collected there, about once per 1,500
// decisions: a tenth of the collections, and of the pauses and assists
// that come with them. Should the live heap itself grow (a large ledger
// read at once), the collector runs as often as it must to stay near the
// limit, as it did at GOGC=400 once the heap reached it; Go caps its share
// of the CPU at about half, so it does not starve the server. Given a
// GOMEMLIMIT but no GOGC, the server keeps GOGC=serveGCPercent: a limit
// set for the whole machine may be far larger than the server needs.
const (
	serveGCPercent   = 400
	serveMemoryLimit = 256 << 20
)

// TuneGC sets the garbage collector of the process for serving (see
// serveMemoryLimit), unless getenv (the process environment, which the Go
// runtime read) sets GOGC or GOMEMLIMIT, and returns what restores it.
// `shipgate serve` calls it; so does BenchmarkGateAPI, to measure what it
// serves with.
func TuneGC(getenv func(string) string) (restore func()) {
	gc, limit := -2, int64(-1) // unchanged
	ownLimit := getenv("GOMEMLIMIT") == ""
	if ownLimit {
		limit = debug.SetMemoryLimit(serveMemoryLimit)
	}
	if getenv("GOGC") == "" {
		pct := serveGCPercent
		if ownLimit {
			pct = -1 // off: the limit starts every collection
		}
		gc = debug.SetGCPercent(pct)
	}
	return func() {
		if gc != -2 {
			debug.SetGCPercent(gc)
		}
		if limit >= 0 {
			debug.SetMemoryLimit(limit)
		}
	}
}
