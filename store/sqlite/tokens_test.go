package sqlite

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/localizevideos/shipgate/store/storetest"
)

func TestTokens(t *testing.T) {
	var paths sync.Map
	storetest.RunTokens(t, func(t *testing.T) storetest.TokenStore {
		p, _ := paths.LoadOrStore(t, filepath.Join(t.TempDir(), "ledger.db"))
		return openT(t, p.(string))
	})
}
