//go:build !unix

package gate_test

import "time"

// cpuTime is unknown here: the benchmarks report wall-clock times only.
func cpuTime() time.Duration { return 0 }
