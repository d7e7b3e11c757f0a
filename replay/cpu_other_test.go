//go:build !unix

package replay_test

import "time"

// cpuTime is unknown here: the benchmarks report wall-clock rates only.
func cpuTime() time.Duration { return 0 }
