package sqlite

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/localizevideos/shipgate/store/storetest"
)

func TestPolicies(t *testing.T) {
	var paths sync.Map // *testing.T → database path: one database per test
	storetest.RunPolicies(t, func(t *testing.T) storetest.PolicyStore {
		p, ok := paths.Load(t)
		if !ok {
			p, _ = paths.LoadOrStore(t, filepath.Join(t.TempDir(), "ledger.db"))
		}
		return openT(t, p.(string))
	})
}
