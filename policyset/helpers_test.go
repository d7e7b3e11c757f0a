package policyset_test

import (
	"testing"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/internal/enginetest"
)

// The example release, its evidence and the default engine, as the
// engine's tests have them (internal/enginetest).
var (
	release        = enginetest.Release
	deployAt       = enginetest.DeployAt
	deployEvidence = func(t testing.TB) []*evidence.Document { return enginetest.DeployEvidence(t) }
	defaultEngine  = enginetest.DefaultEngine
	shippedEngine  = enginetest.ShippedEngine
)
