package server

import (
	"runtime/debug"
	"testing"
)

// TestTuneGC: with neither GOGC nor GOMEMLIMIT set, the soft limit starts
// every collection (GOGC off); a GOMEMLIMIT of the environment keeps its
// limit and gets GOGC=serveGCPercent; a GOGC of the environment keeps its
// percentage and gets the limit. Each is undone by what TuneGC returns.
func TestTuneGC(t *testing.T) {
	gcPercent := func() int { p := debug.SetGCPercent(100); debug.SetGCPercent(p); return p }
	memoryLimit := func() int64 { return debug.SetMemoryLimit(-1) }
	wantGC, wantLimit := gcPercent(), memoryLimit()
	for _, c := range []struct {
		name  string
		env   map[string]string
		gc    int
		limit int64
	}{
		{"neither", nil, -1, serveMemoryLimit},
		{"GOMEMLIMIT", map[string]string{"GOMEMLIMIT": "1GiB"}, serveGCPercent, wantLimit},
		{"GOGC", map[string]string{"GOGC": "200"}, wantGC, serveMemoryLimit},
		{"both", map[string]string{"GOGC": "200", "GOMEMLIMIT": "1GiB"}, wantGC, wantLimit},
	} {
		t.Run(c.name, func(t *testing.T) {
			restore := TuneGC(func(k string) string { return c.env[k] })
			gc, limit := gcPercent(), memoryLimit()
			restore()
			if gc != c.gc || limit != c.limit {
				t.Errorf("GOGC %d, limit %d; want %d, %d", gc, limit, c.gc, c.limit)
			}
			if gc, limit := gcPercent(), memoryLimit(); gc != wantGC || limit != wantLimit {
				t.Errorf("restored GOGC %d, limit %d; want %d, %d", gc, limit, wantGC, wantLimit)
			}
		})
	}
}
