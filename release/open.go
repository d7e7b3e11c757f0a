package release

import (
	"context"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/store"
)

// LocalOptions say what a local backend is made of (OpenLocal).
type LocalOptions struct {
	// Engine loads the policies the gate decides with; nil loads none.
	// Lazy loads them at their first use (Local.LoadEngine) instead of
	// now: a step that decides nothing does not need them.
	Engine func(context.Context) (*engine.Engine, error)
	Lazy   bool
	// Validator makes the validator of the evidence; nil checks none.
	Validator func() (*evidence.Validator, error)
	// Open opens the ledger.
	Open func(context.Context) (store.Store, error)
	// Clock and NewID are the gate's (gate.Gate).
	Clock func() time.Time
	NewID func(prefix string, now time.Time) string
}

// OpenLocal loads the policies (unless o.Lazy) and the validator, in that
// order, then opens the ledger: the backend of a step on this machine.
// The caller closes it.
func OpenLocal(ctx context.Context, o LocalOptions) (*Local, error) {
	var eng *engine.Engine
	if o.Engine != nil && !o.Lazy {
		var err error
		if eng, err = o.Engine(ctx); err != nil {
			return nil, err
		}
	}
	var v *evidence.Validator
	if o.Validator != nil {
		var err error
		if v, err = o.Validator(); err != nil {
			return nil, err
		}
	}
	db, err := o.Open(ctx)
	if err != nil {
		return nil, err
	}
	l := NewLocal(&gate.Gate{Engine: eng, Validator: v, Clock: o.Clock, NewID: o.NewID}, db)
	if o.Lazy {
		l.LoadEngine = o.Engine
	}
	return l, nil
}
