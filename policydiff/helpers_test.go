package policydiff_test

import "github.com/localizevideos/shipgate/internal/enginetest"

// The example release, its evidence and the default engine, as the
// engine's tests have them (internal/enginetest).
var (
	release       = enginetest.Release
	deployAt      = enginetest.DeployAt
	benchCases    = enginetest.BenchCases
	defaultEngine = enginetest.DefaultEngine
)
