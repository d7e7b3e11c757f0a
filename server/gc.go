package server

import "runtime/debug"

// Garbage collection of the server, unless GOGC or GOMEMLIMIT say
// otherwise. Its live heap is small (the compiled policies, about 15 MB)
// and each decision allocates some 300 kB that die with it, so at Go's
// default (GOGC=100) the collector runs every few dozen decisions and
// takes a fifth of the CPU under load. At 400 the heap may grow to five
// times the live one (about 75 MB) and the collector's share drops to a
// few percent (BenchmarkGateAPI: CPU per decision 2.1 → 1.65 ms). The soft
// limit keeps that growth bounded should the live heap itself grow (a
// large ledger read at once): near 256 MiB the collector runs as often as
// it must, whatever GOGC says.
const (
	serveGCPercent   = 400
	serveMemoryLimit = 256 << 20
)

// TuneGC sets the garbage collector of the process for serving (see
// serveGCPercent), unless getenv (the process environment, which the Go
// runtime read) sets GOGC or GOMEMLIMIT, and returns what restores it.
// `shipgate serve` calls it; so does BenchmarkGateAPI, to measure what it
// serves with.
func TuneGC(getenv func(string) string) (restore func()) {
	gc, limit := -2, int64(-1) // unchanged
	if getenv("GOGC") == "" {
		gc = debug.SetGCPercent(serveGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		limit = debug.SetMemoryLimit(serveMemoryLimit)
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
