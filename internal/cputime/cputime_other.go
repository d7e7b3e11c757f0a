//go:build !unix

package cputime

import "time"

// Process is unknown here (0): benchmarks report wall-clock times only.
func Process() time.Duration { return 0 }
