package postgres

import (
	"sync"
	"testing"

	"github.com/localizevideos/shipgate/store/storetest"
)

func TestPolicies(t *testing.T) {
	serverURL(t)
	var urls sync.Map // *testing.T → database URL: one database per test
	storetest.RunPolicies(t, func(t *testing.T) storetest.PolicyStore {
		u, ok := urls.Load(t)
		if !ok {
			u, _ = urls.LoadOrStore(t, newDatabase(t))
		}
		return openT(t, u.(string))
	})
}
