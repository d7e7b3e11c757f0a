package postgres

import (
	"sync"
	"testing"

	"github.com/localizevideos/shipgate/store/storetest"
)

func TestTokens(t *testing.T) {
	serverURL(t)
	var urls sync.Map
	storetest.RunTokens(t, func(t *testing.T) storetest.TokenStore {
		u, ok := urls.Load(t)
		if !ok {
			u, _ = urls.LoadOrStore(t, newDatabase(t))
		}
		return openT(t, u.(string))
	})
}
